/**
 * Authentication for `/api`: a session cookie (after /api/auth/login) or
 * `Authorization: Bearer <api key>`. A route declares what it needs in
 * `config.auth`: 'public', 'user' (default) or 'admin'; API keys also need the family's scope.
 */
import { hash as oneShotHash, randomBytes } from 'node:crypto';
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
  // One call, no Hash object: measurable per API request.
  return oneShotHash('sha256', s, 'hex');
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

/**
 * SHA-256 of the request's credential (Bearer API key, else session cookie); null when it
 * carries none or a malformed Authorization header.
 */
function credentialHash(req: FastifyRequest): string | null {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    // API keys carry 256 random bits: a fast hash is enough, unlike human passwords.
    return m ? sha256(m[1]!) : null;
  }
  const token = req.cookies?.[SESSION_COOKIE];
  return token ? sha256(token) : null;
}

function authInfo(ctx: ApiContext, cred: CachedCredential, user: User, hash: string): AuthInfo {
  if (cred.apiKeyId !== null) {
    if (credentialCache(ctx).shouldTouch(cred.apiKeyId, TOUCH_INTERVAL_MS)) void touchApiKey(ctx.store.db, cred.apiKeyId).catch(() => {});
    return { user, via: 'api_key', sessionHash: null, apiKeyId: cred.apiKeyId, scopes: cred.scopes };
  }
  return { user, via: 'session', sessionHash: hash, apiKeyId: null, scopes: null };
}

/** The credential of a request: its hash (`credentialHash`) and whether it is a Bearer API key. */
interface Credential { hash: string; bearer: boolean }

function credentialOf(req: FastifyRequest): Credential | null {
  const hash = credentialHash(req);
  return hash === null ? null : { hash, bearer: req.headers.authorization !== undefined };
}

async function resolve(ctx: ApiContext, userOf: (id: number) => Promise<User | undefined>, credential: Credential | null): Promise<AuthInfo | null> {
  if (credential === null) return null;
  const { hash, bearer } = credential;
  const cred = await lookup(ctx, hash, bearer);
  if (!cred) return null;
  const user = await userOf(cred.userId);
  if (!user) return null;
  return authInfo(ctx, cred, user, hash);
}

/**
 * What `resolve` would answer, in the same tick, when the credential and its user are both
 * cached (the credential cache and, on SQLite, the store's read cache in its current
 * generation); undefined when anything must be read. Same checks, same caches, same
 * invalidation: only the awaits are gone.
 */
function resolveCached(ctx: ApiContext, credential: Credential | null): AuthInfo | null | undefined {
  const readCache = ctx.store.readCache;
  if (readCache === undefined) return undefined;
  if (credential === null) return null;
  const { hash, bearer } = credential;
  const cred = credentialCache(ctx).get(cacheKey(hash, bearer));
  if (cred === undefined) return undefined;
  const user = readCache.peek<User>(userKey(cred.userId));
  return user === undefined ? undefined : authInfo(ctx, cred, user, hash);
}

const userKey = (id: number) => `auth:user:${id}`;

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
  return cache ? (id) => cache.get(userKey(id), read, id) : read;
}

/**
 * Resolves the credential of a request (session cookie or Bearer API key) without deciding
 * anything: for routes outside `/api` with rules of their own (`GET /metrics`).
 */
export function createAuthenticator(ctx: ApiContext): (req: FastifyRequest) => Promise<AuthInfo | null> {
  const userOf = userReader(ctx);
  return (req) => resolve(ctx, userOf, credentialOf(req));
}

export const authPlugin = fp(async (app: FastifyInstance, opts: { ctx: ApiContext }) => {
  app.decorateRequest('auth', null);
  const userOf = userReader(opts.ctx);
  // Callback style: with everything cached (the common case) the request goes on in the same
  // tick; an async hook costs a promise and a microtask turn per request.
  app.addHook('onRequest', (req: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) => {
    const cfg = req.routeOptions.config;
    const level: AuthLevel = cfg?.auth ?? 'user';
    if (level === 'public') { done(); return; }
    // Hashed once: a cache miss goes on to `resolve` with the same credential.
    const credential = credentialOf(req);
    const cached = resolveCached(opts.ctx, credential);
    if (cached !== undefined) { done(admit(req, cached, level, cfg?.scope)); return; }
    resolve(opts.ctx, userOf, credential).then((auth) => done(admit(req, auth, level, cfg?.scope)), done);
  });
}, { name: 'strowger-auth' });

/** Sets `req.auth` when `auth` may use a route of `level` and `scope`; else the error to answer. */
function admit(req: FastifyRequest, auth: AuthInfo | null, level: AuthLevel, scope: ApiKeyScope | undefined): Error | undefined {
  if (!auth) return unauthenticated();
  if (auth.scopes && scope && !auth.scopes.includes(scope)) return forbidden(`API key lacks the "${scope}" scope`);
  if (level === 'admin' && auth.user.role !== 'admin') return forbidden('Admin role required');
  req.auth = auth;
  return undefined;
}

/** The authenticated user of a non-public route (the hook guarantees it is set). */
export function currentUser(req: FastifyRequest): User {
  if (!req.auth) throw unauthenticated();
  return req.auth.user;
}
