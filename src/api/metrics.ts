/**
 * `GET /metrics`: Prometheus text exposition of {@link createMetricsRegistry}.
 *
 * Who may read it: a scraper at an address in `STROWGER_METRICS_ALLOW` (addresses or CIDRs,
 * as the client address Fastify sees, `STROWGER_TRUST_PROXY` included) without credentials;
 * otherwise an API key with the `metrics` scope, or an admin's session. No credentials: 401;
 * a key without the scope or a non-admin session: 403 (the `/api` error envelope).
 */
import type { FastifyInstance } from 'fastify';
import { isIPv6 } from 'node:net';
import type { Registry } from 'prom-client';
import type { ApiContext } from './context.ts';
import { createAuthenticator } from './shared/auth.ts';
import { errorResponses, forbidden, unauthenticated } from './shared/errors.ts';
import { trustedList } from '../pbx/sip-guard.ts';
import { createMetricsRegistry } from './metrics-registry.ts';

export async function metricsRoutes(app: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  const allow = ctx.config.metricsAllow.length > 0 ? trustedList(ctx.config.metricsAllow) : null;
  const authenticate = createAuthenticator(ctx);
  // Built on the first scrape: a node nobody scrapes runs none of prom-client's observers.
  let registry: Registry | undefined;

  app.get('/metrics', {
    config: { auth: 'public' },
    schema: {
      tags: ['metrics'],
      summary: 'Prometheus metrics (text exposition format 0.0.4)',
      description: 'Readable from STROWGER_METRICS_ALLOW addresses without credentials, else with an API key with the `metrics` scope or an admin session.',
      response: { 200: { type: 'string' }, ...errorResponses(401, 403) },
    },
    onRequest: async (req) => {
      if (allow !== null) {
        const ip = req.ip.startsWith('::ffff:') && req.ip.includes('.') ? req.ip.slice(7) : req.ip;
        if (allow.check(ip, isIPv6(ip) ? 'ipv6' : 'ipv4')) return;
      }
      const auth = await authenticate(req);
      if (auth === null) throw unauthenticated();
      if (auth.scopes !== null ? !auth.scopes.includes('metrics') : auth.user.role !== 'admin') {
        throw forbidden(auth.scopes !== null ? 'API key lacks the "metrics" scope' : 'Admin role required');
      }
    },
  }, async (_req, reply) => {
    registry ??= createMetricsRegistry(ctx);
    await ctx.sip?.registrarShards?.refreshStats(); // shards report about once a second: fresh counters first
    const text = await registry.metrics();
    return reply.type(registry.contentType).send(text);
  });
}
