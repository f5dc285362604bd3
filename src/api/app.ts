/**
 * The HTTP server: external plugins first, then shared ones, then one encapsulated plugin
 * per API family (fastify/demo layout). Returns the Fastify instance un-listened so tests
 * can use `inject` and main can `listen`.
 */
import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import multipart from '@fastify/multipart';
import websocket from '@fastify/websocket';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from './context.ts';
import { ApiError, ErrorBody } from './shared/errors.ts';
import { fieldErrors } from './shared/validation.ts';
import { healthRoutes } from './health.ts';
import { pbxApi } from './pbx/index.ts';
import { metricsRoutes } from './metrics.ts';
import { mediagwApi } from './mediagw/index.ts';
import { launcherApi } from './launcher/index.ts';
import { roomPageRoutes } from './rooms/room-page-routes.ts';
import { whipRoutes } from './rooms/whip-routes.ts';
import { callGatewayApi } from './callgw/index.ts';
import { acmeChallengeRoutes } from './acme-challenge.ts';
import { lazyCompilers } from './lazy-compilers.ts';

export interface AppOptions {
  /** Largest accepted upload (backups, MOH files), bytes. */
  maxUploadBytes?: number;
}

export async function buildApp(ctx: ApiContext, opts: AppOptions = {}): Promise<FastifyInstance> {
  const compilers = lazyCompilers();
  const app = Fastify({
    loggerInstance: ctx.logger.child({ component: 'http' }),
    trustProxy: ctx.config.trustProxy,
    // Per-request access logs are off: at API benchmark rates they cost more than the handler.
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { allErrors: true, coerceTypes: 'array', useDefaults: true, removeAdditional: false } },
    schemaController: { compilersFactory: compilers.factory },
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorate('compileAllSchemas', compilers.compileAll);
  app.addSchema(ErrorBody);
  await app.register(cookie);
  await app.register(multipart, { limits: { fileSize: opts.maxUploadBytes ?? 512 * 1024 * 1024, files: 1 } });
  // Once, at the root: each registration adds its own 'upgrade' listener, and two would route every
  // WebSocket upgrade twice. 128 KB: a room page's join carries a whole SDP offer (up to 64 KB).
  await app.register(websocket, { options: { maxPayload: 128 * 1024 } });
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Strowger API', version: ctx.version, description: 'SIP PBX and SIP↔WebRTC media gateway. Families: PBX admin (/api), SIPMediaGW (/start, /stop, /chat), launcher (/gateway/*), call gateway (/call/*).' },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'API key created with POST /api/keys' },
          cookieAuth: { type: 'apiKey', in: 'cookie', name: 'strowger_session' },
        },
      },
      security: [{ bearerAuth: [] }, { cookieAuth: [] }],
    },
    refResolver: { buildLocalReference: (json, _base, _frag, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true }, config: { auth: 'public' } }, async () => app.swagger());

  app.setErrorHandler((err: FastifyError | ApiError, req, reply) => {
    if (err instanceof ApiError) return reply.status(err.status).send(err.toBody());
    const fe = err as FastifyError;
    if (fe.validation) {
      return reply.status(400).send({ error: { code: 'validation_error', message: 'Validation failed', details: fieldErrors(fe.validation) } });
    }
    const status = fe.statusCode ?? 500;
    if (status === 429) return reply.status(429).send({ error: { code: 'rate_limited', message: fe.message || 'Too many requests', details: null } });
    if (status === 413) return reply.status(413).send({ error: { code: 'payload_too_large', message: 'Request body too large', details: null } });
    if (status >= 400 && status < 500) {
      return reply.status(status).send({ error: { code: status === 404 ? 'not_found' : 'bad_request', message: fe.message, details: null } });
    }
    req.log.error({ err }, 'unhandled error');
    return reply.status(500).send({ error: { code: 'internal_error', message: 'Internal server error', details: null } });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send({ error: { code: 'not_found', message: `Route ${req.method} ${req.url.split('?')[0]} not found`, details: null } });
  });

  await app.register(healthRoutes, { ctx });
  await app.register(pbxApi, { ctx, prefix: '/api' });
  await app.register(metricsRoutes, { ctx });
  await app.register(mediagwApi, { ctx });
  await app.register(launcherApi, { ctx });
  await app.register(roomPageRoutes, { ctx });
  await app.register(whipRoutes, { ctx });
  await app.register(callGatewayApi, { ctx });
  await app.register(acmeChallengeRoutes, { ctx });
  return app as unknown as FastifyInstance;
}
