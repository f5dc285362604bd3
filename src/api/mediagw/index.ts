/**
 * Seed 000 (SIPMediaGW): `GET /start`, `GET /stop`, `GET /chat`, `POST /chat`. Errors are
 * `{"Error":"…"}` with the seed's strings; success `{"status":"success","details":{…}}`;
 * every route needs a Bearer API key with the `gateway` scope (401 `authorization error`).
 *
 * `/start` starts a gateway for the room: with `rtmpDst` a Streaming one; otherwise a SIP one
 * (with `dial` it calls out, without it callers reach `sip:<prefix><room>@<domain>`). Its
 * `gw_id` is `mediagw-<room>-<n>`, so `/gateway/status` shows it too.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';
import { gatewayKeyCheck } from '../shared/gateway-auth.ts';
import { GatewayError, type GatewayService } from '../../gateway/index.ts';
import { RoomError } from '../../rooms/room-errors.ts';
import { ChatBody, ChatToggleQuery, RoomQuery, SeedError, StartQuery, Success } from './schemas.ts';

const NO_ROOM = 'a room name must be specified';
const NO_TOGGLE = 'toggle parameter is expected';
const NO_MESSAGE = 'message missing or not readable';
export const APP_NAME = 'strowger';

class SeedFailure extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

const TOGGLES: Record<string, boolean> = { on: true, true: true, '1': true, yes: true, off: false, false: false, '0': false, no: false };
const TRUE = new Set(['true', '1', 'yes', 'on']);

export async function mediagwApi(parent: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const authorized = gatewayKeyCheck(ctx);
  const gateways = (): GatewayService => {
    if (ctx.gateways === undefined) throw new GatewayError('GW_UNAVAILABLE');
    return ctx.gateways;
  };
  let started = 0;

  app.addHook('onRequest', async (req, reply) => {
    if (!(await authorized(req))) return reply.status(401).send({ Error: 'authorization error' });
  });
  app.setErrorHandler((err: FastifyError | Error, req, reply) => {
    if (err instanceof SeedFailure) return reply.status(err.status).send({ Error: err.message });
    if (err instanceof GatewayError) return reply.status(err.status).send({ Error: err.message });
    if (err instanceof RoomError) return reply.status(err.code === 'ROOM_LIMIT' ? 503 : 400).send({ Error: err.message });
    const fe = err as FastifyError;
    // A body that is no JSON object (or none at all): the seed's answer for an unreadable message.
    if (req.routeOptions.url === '/chat' && req.method === 'POST' && (fe.statusCode === 400 || fe.statusCode === 415)) return reply.status(400).send({ Error: NO_MESSAGE });
    if (fe.statusCode !== undefined && fe.statusCode >= 400 && fe.statusCode < 500) return reply.status(fe.statusCode).send({ Error: fe.message });
    req.log.error({ err }, 'seed 000 request failed');
    return reply.status(500).send({ Error: 'Internal Server Error' });
  });

  const errors = { 400: SeedError, 401: SeedError, 409: SeedError, 500: SeedError, 503: SeedError };
  const common = { tags: ['SIPMediaGW (seed 000)'], security: [{ bearerAuth: [] }] };
  const needRoom = (room: string | undefined): string => {
    if (room === undefined || room.trim() === '') throw new SeedFailure(400, NO_ROOM);
    return room.trim();
  };

  app.get('/start', {
    config: { auth: 'public' },
    schema: { ...common, summary: 'Start a gateway for a room', querystring: StartQuery, response: { 200: Success, ...errors } },
  }, async (req) => {
    const q = req.query;
    const room = needRoom(q.room);
    // `domain` ("the domain for WebRTC"): a configured external system puts the gateway in
    // that system's room; any other value only names the SIP URI's domain, as before.
    const external = q.domain !== undefined && ctx.config.gateways.conferenceSystems.has(q.domain.trim().toLowerCase());
    const domain = (!external && q.domain) || ctx.config.domain;
    const gwId = `mediagw-${room}-${++started}`;
    await gateways().start({
      type: q.rtmpDst ? 'Streaming' : 'SIP', room, gwId, fromId: q.from, prefix: q.prefix, domain,
      rtmpDst: q.rtmpDst, dial: q.dial, loop: q.loop !== undefined && TRUE.has(q.loop.toLowerCase()),
      webrtcDomain: external ? { [q.domain!]: { name: q.domain, domain: q.domain } } : undefined,
    });
    const uri = q.rtmpDst ?? `sip:${q.prefix ?? ''}${room}@${domain}`;
    return { status: 'success' as const, details: { res: 'ok', app: APP_NAME, uri } };
  });

  app.get('/stop', {
    config: { auth: 'public' },
    schema: { ...common, summary: "Stop a room's gateways", querystring: RoomQuery, response: { 200: Success, ...errors } },
  }, async (req) => {
    const room = needRoom(req.query.room);
    const stopped = await gateways().stopRoom(room);
    const res = stopped.length === 0
      ? `no gateway running in room ${room}`
      : stopped.map((g) => `${g.type} gateway ${g.gw_id} ${g.processing_state}`).join(' => ');
    return { status: 'success' as const, details: { res } };
  });

  app.get('/chat', {
    config: { auth: 'public' },
    schema: { ...common, summary: "Turn the relay of a room's chat by its gateways on or off", querystring: ChatToggleQuery, response: { 200: Success, ...errors } },
  }, async (req) => {
    const room = needRoom(req.query.room);
    const on = TOGGLES[(req.query.toggle ?? '').trim().toLowerCase()];
    if (on === undefined) throw new SeedFailure(400, NO_TOGGLE);
    gateways().setChat(room, on);
    return { status: 'success' as const, details: { res: 'ok' } };
  });

  app.post('/chat', {
    config: { auth: 'public' },
    schema: { ...common, summary: "Post a message into a room's chat", body: ChatBody, response: { 200: Success, ...errors } },
  }, async (req) => {
    const body = req.body as Record<string, unknown> | null;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new SeedFailure(400, NO_MESSAGE);
    const room = needRoom(typeof body.room === 'string' ? body.room : undefined);
    if (typeof body.msg !== 'string' || body.msg.trim() === '') throw new SeedFailure(400, NO_MESSAGE);
    if (ctx.rooms === undefined) throw new GatewayError('GW_UNAVAILABLE');
    ctx.rooms.open(room).chat('gateway', body.msg);
    return { status: 'success' as const, details: { res: 'ok' } };
  });
}
