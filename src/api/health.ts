import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { ApiContext } from './context.ts';
import { pingDatabase } from '../store/database.ts';

const Health = Type.Object({
  status: Type.String({ examples: ['ok'] }),
  version: Type.String(),
  uptime_seconds: Type.Number(),
}, { examples: [{ status: 'ok', version: '0.1.0', uptime_seconds: 12.5 }] });

const Ready = Type.Object({
  status: Type.String({ examples: ['ready'] }),
  checks: Type.Object({ database: Type.String({ examples: ['ok'] }) }),
});

/** Public probes: `/health` and `/api/health`, `/api/live` (process up), `/api/ready` (database answers). */
export async function healthRoutes(app: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  const health = async () => ({ status: 'ok', version: ctx.version, uptime_seconds: (Date.now() - ctx.startedAt) / 1000 });
  const opts = (summary: string) => ({ config: { auth: 'public' as const }, schema: { tags: ['health'], summary, security: [], response: { 200: Health } } });
  app.get('/health', opts('Service health'), health);
  app.get('/api/health', opts('Service health'), health);
  app.get('/api/live', opts('Liveness probe: the process runs'), health);
  app.get('/api/ready', {
    config: { auth: 'public' },
    schema: { tags: ['health'], summary: 'Readiness probe: the database answers', security: [], response: { 200: Ready, 503: Ready } },
  }, async (_req, reply) => {
    try {
      await pingDatabase(ctx.store.db);
      return { status: 'ready', checks: { database: 'ok' } };
    } catch {
      return reply.status(503).send({ status: 'unavailable', checks: { database: 'error' } });
    }
  });
}
