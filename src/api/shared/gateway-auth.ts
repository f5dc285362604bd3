/**
 * Who may drive gateways (seeds 000/001): `Authorization: Bearer <api key>` with the
 * `gateway` scope (keys are made with `POST /api/keys`). Sessions do not count: these APIs
 * are called by machines. Each family answers a refusal with its own envelope.
 */
import type { FastifyRequest } from 'fastify';
import type { ApiContext } from '../context.ts';
import { createAuthenticator } from './auth.ts';

export function gatewayKeyCheck(ctx: ApiContext): (req: FastifyRequest) => Promise<boolean> {
  const authenticate = createAuthenticator(ctx);
  return async (req) => {
    if (req.headers.authorization === undefined) return false;
    const auth = await authenticate(req);
    return auth !== null && auth.via === 'api_key' && auth.scopes !== null && auth.scopes.includes('gateway');
  };
}
