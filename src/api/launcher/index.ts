/**
 * Seed 001 (launcher): `POST /gateway/start`, `POST /gateway/stop`, `GET /gateway/status`,
 * `POST /gateway/command`. Parameters as JSON body, form or query (merged, body first).
 * Start and stop answers always carry `processing_state` (an error's message in its place
 * when it fails); other errors are `{"detail":"…"}` as FastAPI, the seed's original, answers.
 * A Bearer API key with the `gateway` scope is needed (401 `{"detail":"Not authenticated"}`).
 */
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import formbody from '@fastify/formbody';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';
import { gatewayKeyCheck } from '../shared/gateway-auth.ts';
import { GATEWAY_TYPES, GatewayError, type GatewayParams, type GatewayService, type GatewaySnapshot, type GatewayType } from '../../gateway/index.ts';
import { runGatewayCommands } from '../../gateway/gateway-commands.ts';
import { CommandAck, Detail, GatewayStatus, GwIdParams, ProcessingState, StartParams } from './schemas.ts';

const FLAG: Record<string, boolean> = { true: true, '1': true, yes: true, on: true, false: false, '0': false, no: false, off: false };

/** A launcher error: `processing_state` carries the message on start/stop, `detail` always. */
class LauncherError extends Error {
  constructor(readonly status: number, message: string, readonly gwId: string | null = null) { super(message); }
}

function params(req: FastifyRequest): Record<string, unknown> {
  const body = req.body !== null && typeof req.body === 'object' && !Array.isArray(req.body) ? req.body as Record<string, unknown> : {};
  return { ...(req.query as Record<string, unknown>), ...body };
}

function text(p: Record<string, unknown>, name: string, required = false): string | undefined {
  const v = p[name];
  if (v === undefined || v === null || v === '') {
    if (required) throw new LauncherError(400, `${name} is required`, typeof p.gw_id === 'string' ? p.gw_id : null);
    return undefined;
  }
  if (typeof v !== 'string' && typeof v !== 'number') throw new LauncherError(400, `${name} must be a string`);
  return String(v).trim();
}

function flag(p: Record<string, unknown>, name: string): boolean | undefined {
  const v = p[name];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'boolean') return v;
  const b = FLAG[String(v).toLowerCase()];
  if (b === undefined) throw new LauncherError(400, `${name} must be true or false`);
  return b;
}

/** `webrtc_domain`: an object, or a JSON string of one (the seed's example). */
function webrtcDomain(p: Record<string, unknown>): unknown {
  const v = p.webrtc_domain;
  if (v === undefined || v === null || v === '') throw new LauncherError(400, 'webrtc_domain is required');
  let parsed = v;
  if (typeof v === 'string') {
    try { parsed = JSON.parse(v); } catch { throw new LauncherError(400, 'webrtc_domain must be JSON like {"name": {"name": "…", "domain": "…"}}'); }
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new LauncherError(400, 'webrtc_domain must be a JSON object');
  return parsed;
}

export function startParamsOf(p: Record<string, unknown>): GatewayParams {
  const gwId = text(p, 'gw_id', true)!;
  const type = text(p, 'type', true)!;
  if (!(GATEWAY_TYPES as readonly string[]).includes(type)) throw new LauncherError(400, `type must be one of ${GATEWAY_TYPES.join(', ')}`, gwId);
  if (gwId.length > 128) throw new LauncherError(400, 'gw_id is longer than 128 characters', null);
  return {
    type: type as GatewayType, gwId, room: text(p, 'room', true)!, webrtcDomain: webrtcDomain(p),
    fromId: text(p, 'fromId'), prefix: text(p, 'prefix'), domain: text(p, 'domain'), rtmpDst: text(p, 'rtmpDst'),
    dial: text(p, 'dial'), loop: flag(p, 'loop'), transcript: flag(p, 'transcript'), audioOnly: flag(p, 'audioOnly'),
    recipientMail: text(p, 'recipientMail'),
  };
}

/** The answer of start and stop: where the gateway is now. */
const stateAnswer = (g: GatewaySnapshot) => ({ gw_id: g.gw_id, processing_state: g.processing_state, task: g.task, room: g.room });

export async function launcherApi(parent: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  await app.register(formbody);
  const authorized = gatewayKeyCheck(ctx);
  const gateways = (): GatewayService => {
    if (ctx.gateways === undefined) throw new GatewayError('GW_UNAVAILABLE');
    return ctx.gateways;
  };

  app.addHook('onRequest', async (req, reply) => {
    if (!(await authorized(req))) return reply.status(401).send({ detail: 'Not authenticated' });
  });
  // Parameters may come in the query alone: no body reads as an empty one.
  app.addHook('preValidation', async (req) => {
    if (req.body === undefined || req.body === null) req.body = {};
  });
  app.setErrorHandler((err: FastifyError | Error, req, reply) => {
    const withState = req.url.startsWith('/gateway/start') || req.url.startsWith('/gateway/stop');
    let status = 500;
    let message = 'Internal Server Error';
    let gwId: string | null = null;
    if (err instanceof LauncherError) ({ status, message, gwId } = err);
    else if (err instanceof GatewayError) ({ status, message } = err);
    else if ((err as FastifyError).statusCode !== undefined && (err as FastifyError).statusCode! < 500) ({ statusCode: status, message } = err as FastifyError & { statusCode: number });
    else req.log.error({ err }, 'launcher request failed');
    if (gwId === null) {
      const p = params(req);
      gwId = typeof p.gw_id === 'string' ? p.gw_id : null;
    }
    return reply.status(status).send(withState ? { gw_id: gwId, processing_state: message, detail: message } : { detail: message });
  });

  const tags = ['launcher (seed 001)'];
  const security = [{ bearerAuth: [] }];
  const stateErrors = { 400: ProcessingState, 401: Detail, 404: ProcessingState, 409: ProcessingState, 500: ProcessingState, 503: ProcessingState };
  const detailErrors = { 400: Detail, 401: Detail, 404: Detail, 500: Detail, 503: Detail };

  app.post('/gateway/start', {
    config: { auth: 'public' },
    schema: {
      tags, security, summary: 'Start a gateway (Record | Streaming | SIP) in a room',
      description: 'Parameters as JSON body, form or query. 409 when the gw_id runs already (or a SIP URI is taken); 503 past STROWGER_GATEWAYS_MAX or without media.',
      querystring: StartParams, body: StartParams, response: { 200: ProcessingState, ...stateErrors },
    },
  }, async (req) => {
    return stateAnswer(await gateways().start(startParamsOf(params(req))));
  });

  app.post('/gateway/stop', {
    config: { auth: 'public' },
    schema: {
      tags, security, summary: 'Stop a gateway (idempotent)',
      description: '`finalising` while a recording is closed, transcribed and mailed, then `stopped` (see /gateway/status).',
      querystring: GwIdParams, body: GwIdParams, response: { 200: ProcessingState, ...stateErrors },
    },
  }, async (req) => {
    return stateAnswer(await gateways().stop(text(params(req), 'gw_id', true)!));
  });

  app.get('/gateway/status', {
    config: { auth: 'public' },
    schema: { tags, security, summary: 'Current task, recording time, transcript progress, state, participants', querystring: GwIdParams, response: { 200: GatewayStatus, ...detailErrors } },
  }, async (req) => gateways().status(text(params(req), 'gw_id', true)!));

  app.post('/gateway/command', {
    config: { auth: 'public' },
    schema: {
      tags, security, summary: 'Send commands to a running gateway (any JSON is echoed)',
      description: 'Known: sendKey/dtmf, sendChat, displayName, mute, endCall; others are echoed and listed as unknown.',
      querystring: GwIdParams, response: { 200: CommandAck, ...detailErrors },
    },
  }, async (req) => {
    const gwId = text(req.query as Record<string, unknown>, 'gw_id', true)!;
    const outcome = await runGatewayCommands(gateways(), gwId, req.body ?? null);
    return { gw_id: gwId, ack: true as const, received: req.body ?? null, ...outcome };
  });
}

