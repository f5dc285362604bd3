import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';
import { ApiError, errorResponses, unauthenticated } from '../shared/errors.ts';
import { LoginThrottle } from '../shared/login-throttle.ts';
import { verifyPassword } from '../shared/passwords.ts';
import { forgetCredential, newToken, sha256, SESSION_COOKIE } from '../shared/auth.ts';
import { findUserByEmail, toUser } from '../../store/users.ts';
import { deleteSession, insertSession } from '../../store/sessions.ts';
import { Ok, UserSchema } from './schemas.ts';

const LoginBody = Type.Object({
  email: Type.String({ minLength: 1, maxLength: 254 }),
  password: Type.String({ minLength: 1, maxLength: 256 }),
}, { examples: [{ email: 'admin@example.com', password: 'your-password' }] });

export async function authRoutes(base: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const throttle = new LoginThrottle(ctx.config.login);

  app.post('/auth/login', {
    config: { auth: 'public' },
    schema: {
      tags: ['auth'], summary: 'Log in: sets the session cookie and returns the user', security: [],
      body: LoginBody,
      response: { 200: Type.Object({ user: Type.Ref('User'), expires_at: Type.String() }), ...errorResponses(400, 401, 429) },
    },
  }, async (req, reply) => {
    const email = req.body.email.trim().toLowerCase();
    const keys = [`account:${email}`, `ip:${req.ip}`];
    const wait = throttle.lockedFor(keys);
    if (wait > 0) {
      reply.header('retry-after', Math.ceil(wait / 1000));
      throw new ApiError('rate_limited', 'Too many failed logins; try again later');
    }
    const row = await findUserByEmail(ctx.store.db, email);
    const ok = await verifyPassword(row?.password_hash, req.body.password);
    if (!row || !ok) {
      throttle.recordFailure(keys);
      req.log.warn({ email, ip: req.ip }, 'login failed');
      // One answer for unknown account and wrong password.
      throw unauthenticated('Invalid email or password');
    }
    // Only the account's counter resets: a success elsewhere must not unlock a guessing source.
    throttle.recordSuccess([keys[0]!]);
    const token = newToken();
    await insertSession(ctx.store.db, {
      idHash: sha256(token), userId: row.id, ttlMs: ctx.config.sessionTtlMs,
      ip: req.ip, userAgent: req.headers['user-agent']?.slice(0, 256) ?? null,
    });
    const expires = new Date(Date.now() + ctx.config.sessionTtlMs);
    reply.setCookie(SESSION_COOKIE, token, {
      path: '/', httpOnly: true, sameSite: 'lax', secure: req.protocol === 'https', expires,
    });
    return { user: toUser(row), expires_at: expires.toISOString() };
  });

  app.post('/auth/logout', {
    schema: { tags: ['auth'], summary: 'Log out: ends the current session', response: { 200: Ok, ...errorResponses(401) } },
  }, async (req, reply) => {
    if (req.auth?.sessionHash) {
      await deleteSession(ctx.store.db, req.auth.sessionHash);
      forgetCredential(ctx, req.auth.sessionHash);
    }
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return { success: true };
  });
}
