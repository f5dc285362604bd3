/**
 * The call gateway API of seed 002 under `/call`: its own envelope (`{"status":true,"data"}`,
 * failures `{"status":false,"error":"…"}`), app authentication (`Authorization: Bearer
 * <app_secret>`, 401 otherwise), and the WebSockets `call_ws` / `notify_ws` (token in the
 * query). An app sees only its own calls: another app's call id answers 404 like an unknown one.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import websocket from '@fastify/websocket';
import type { ApiContext } from '../context.ts';
import { findAppBySecret } from '../../store/apps.ts';
import { callRoutes } from './call-routes.ts';
import { callSockets } from './call-sockets.ts';
import { CallApiError, fail } from './errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The app of a `/call/*` request (set by the app auth hook). */
    callApp: { appId: string } | null;
  }
  interface FastifyContextConfig {
    /** `/call/*` routes: 'app' (Bearer app_secret) or 'token' (JWT in the query, WebSockets). */
    callAuth?: 'app' | 'token';
  }
}


export async function callGatewayApi(app: FastifyInstance, opts: { ctx: ApiContext }) {
  const { ctx } = opts;
  // Other families may have registered the plugin at the root already.
  if (!app.hasDecorator('websocketServer')) await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  app.decorateRequest('callApp', null);
  app.setErrorHandler((err: Error & { validation?: Array<{ instancePath: string; message?: string; params?: Record<string, unknown> }>; statusCode?: number }, req, reply) => {
    if (err instanceof CallApiError) return fail(reply, err.status, err.message);
    if (err.validation) {
      const v = err.validation[0]!;
      const field = v.instancePath.replace(/^\//, '').replace(/\//g, '.') || (v.params?.missingProperty as string | undefined) || 'body';
      const extra = v.params?.additionalProperty ? ` (${String(v.params.additionalProperty)})` : v.params?.missingProperty && v.instancePath ? ` (${String(v.params.missingProperty)})` : '';
      return fail(reply, 400, `${field}: ${v.message ?? 'invalid'}${extra}`);
    }
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) return fail(reply, status, err.message);
    req.log.error({ err }, 'call gateway: unhandled error');
    return fail(reply, 500, 'internal error');
  });
  app.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
    if (req.routeOptions.config.callAuth !== 'app') return;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    const row = m ? await findAppBySecret(ctx.store.db, m[1]!) : undefined;
    if (!row) return fail(reply, 401, m ? 'invalid app secret' : 'missing Authorization: Bearer <app_secret>');
    req.callApp = { appId: row.app_id };
  });
  await app.register(callRoutes, { ctx });
  await app.register(callSockets, { ctx });
}
