/**
 * Authentication for `/api`: a session cookie (after /api/auth/login) or
 * `Authorization: Bearer <api key>`. A route declares what it needs in
 * `config.auth`: 'public', 'user' (default) or 'admin'; API keys also need the family's scope.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { ApiContext } from '../context.ts';
import { findLiveSession } from '../../store/sessions.ts';
import { findApiKeyByHash, touchApiKey, type ApiKeyScope } from '../../store/api-keys.ts';
import { findUserById, toUser, type User } from '../../store/users.ts';
import { forbidden, unauthenticated } from './errors.ts';
import { CredentialCache, type CachedCredential } from './auth-cache.ts';

export const SESSION_COOKIE = 'strowger_session';
export const API_KEY_PREFIX = 'stw_';

export type AuthLevel = 'public' | 'user' | 'admin';

export interface AuthInfo {
  user: User;
  via: 'session' | 'api_key';
  sessionHash: string | null;
  apiKeyId: number | null;
  scopes: ApiKeyScope[] | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthInfo | null;
  }
  interface FastifyContextConfig {
    auth?: AuthLevel;
    /** API-key scope needed by this route family. */
    scope?: ApiKeyScope;
  }
}

export function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

export function newToken(prefix = ''): string {
  return prefix + randomBytes(32).toString('base64url');
}

// One credential cache per server (tests run several in one process).
const caches = new WeakMap<ApiContext, CredentialCache>();

export function credentialCache(ctx: ApiContext): CredentialCache {
  let c = caches.get(ctx);
  if (!c) caches.set(ctx, (c = new CredentialCache()));
  return c;
}

/** Ends a session or API key on this node at once (logout, revoke). */
export function forgetCredential(ctx: ApiContext, hash: string): void {
  credentialCache(ctx).delete(cacheKey(hash, true));
  credentialCache(ctx).delete(cacheKey(hash, false));
}
/** Ends every cached credential of a user (password change). */
export const forgetUserCredentials = (ctx: ApiContext, userId: number) => credentialCache(ctx).deleteUser(userId);
/** Forgets all (restore replaced the tables). */
export const forgetAllCredentials = (ctx: ApiContext) => credentialCache(ctx).clear();

// `last_used_at` is informative: one write per key per minute, not one per request.
const TOUCH_INTERVAL_MS = 60_000;

// Sessions and API keys are separate name spaces: a session token is no Bearer key.
const cacheKey = (hash: string, bearer: boolean) => (bearer ? 'k:' : 's:') + hash;

async function lookup(ctx: ApiContext, hash: string, bearer: boolean): Promise<CachedCredential | null> {
  const cache = credentialCache(ctx);
  const key = cacheKey(hash, bearer);
  const hit = cache.get(key);
  if (hit) return hit;
  const db = ctx.store.db;
  if (bearer) {
    const row = await findApiKeyByHash(db, hash);
    if (!row) return null;
    return cache.set(key, { userId: row.user_id, via: 'api_key', apiKeyId: row.id, scopes: JSON.parse(row.scopes) as ApiKeyScope[] });
  }
  const s = await findLiveSession(db, hash);
  if (!s) return null;
  return cache.set(key, { userId: s.user_id, via: 'session', apiKeyId: null, scopes: null });
}

async function resolve(ctx: ApiContext, userOf: (id: number) => Promise<User | undefined>, req: FastifyRequest): Promise<AuthInfo | null> {
  const header = req.headers.authorization;
  let hash: string;
  if (header !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) return null;
    // API keys carry 256 random bits: a fast hash is enough, unlike human passwords.
    hash = sha256(m[1]!);
  } else {
    const token = req.cookies?.[SESSION_COOKIE];
    if (!token) return null;
    hash = sha256(token);
  }
  const cred = await lookup(ctx, hash, header !== undefined);
  if (!cred) return null;
  const user = await userOf(cred.userId);
  if (!user) return null;
  if (cred.apiKeyId !== null) {
    if (credentialCache(ctx).shouldTouch(cred.apiKeyId, TOUCH_INTERVAL_MS)) void touchApiKey(ctx.store.db, cred.apiKeyId).catch(() => {});
    return { user, via: 'api_key', sessionHash: null, apiKeyId: cred.apiKeyId, scopes: cred.scopes };
  }
  return { user, via: 'session', sessionHash: hash, apiKeyId: null, scopes: null };
}

/**
 * The user behind a credential, as of now: the role, email and DND of every request are
 * current. On SQLite the store's read cache answers until any write (a role change, a
 * deletion) starts a new generation; elsewhere the row is read per request.
 */
function userReader(ctx: ApiContext): (id: number) => Promise<User | undefined> {
  const read = async (id: number) => {
    const row = await findUserById(ctx.store.db, id);
    // Frozen: on SQLite one object serves every request until the next write.
    return row && Object.freeze(toUser(row));
  };
  const cache = ctx.store.readCache;
  return cache ? (id) => cache.get(`auth:user:${id}`, read, id) : read;
}

/**
 * Resolves the credential of a request (session cookie or Bearer API key) without deciding
 * anything: for routes outside `/api` with rules of their own (`GET /metrics`).
 */
export function createAuthenticator(ctx: ApiContext): (req: FastifyRequest) => Promise<AuthInfo | null> {
  const userOf = userReader(ctx);
  return (req) => resolve(ctx, userOf, req);
}

export const authPlugin = fp(async (app: FastifyInstance, opts: { ctx: ApiContext }) => {
  app.decorateRequest('auth', null);
  const userOf = userReader(opts.ctx);
  app.addHook('onRequest', async (req: FastifyRequest, _reply: FastifyReply) => {
    const cfg = req.routeOptions.config;
    const level: AuthLevel = cfg?.auth ?? 'user';
    if (level === 'public') return;
    const auth = await resolve(opts.ctx, userOf, req);
    if (!auth) throw unauthenticated();
    if (auth.scopes && cfg?.scope && !auth.scopes.includes(cfg.scope)) {
      throw forbidden(`API key lacks the "${cfg.scope}" scope`);
    }
    if (level === 'admin' && auth.user.role !== 'admin') throw forbidden('Admin role required');
    req.auth = auth;
  });
}, { name: 'strowger-auth' });

/** The authenticated user of a non-public route (the hook guarantees it is set). */
export function currentUser(req: FastifyRequest): User {
  if (!req.auth) throw unauthenticated();
  return req.auth.user;
}
