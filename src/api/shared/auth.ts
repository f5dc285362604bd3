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

async function resolve(ctx: ApiContext, req: FastifyRequest): Promise<AuthInfo | null> {
  const db = ctx.store.db;
  const header = req.headers.authorization;
  if (header !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) return null;
    // API keys carry 256 random bits: a fast hash is enough, unlike human passwords.
    const key = await findApiKeyByHash(db, sha256(m[1]!));
    if (!key) return null;
    const user = await findUserById(db, key.user_id);
    if (!user) return null;
    void touchApiKey(db, key.id).catch(() => {});
    return { user: toUser(user), via: 'api_key', sessionHash: null, apiKeyId: key.id, scopes: JSON.parse(key.scopes) };
  }
  const token = req.cookies?.[SESSION_COOKIE];
  if (!token) return null;
  const hash = sha256(token);
  const s = await findLiveSession(db, hash);
  if (!s) return null;
  const user = await findUserById(db, s.user_id);
  if (!user) return null;
  return { user: toUser(user), via: 'session', sessionHash: hash, apiKeyId: null, scopes: null };
}

export const authPlugin = fp(async (app: FastifyInstance, opts: { ctx: ApiContext }) => {
  app.decorateRequest('auth', null);
  app.addHook('onRequest', async (req: FastifyRequest, _reply: FastifyReply) => {
    const cfg = req.routeOptions.config;
    const level: AuthLevel = cfg?.auth ?? 'user';
    if (level === 'public') return;
    const auth = await resolve(opts.ctx, req);
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
