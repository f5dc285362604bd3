/**
 * WHIP (RFC 9725) and WHEP into the built-in rooms: `POST /whip/{room}` publishes the client's
 * audio into the room, `POST /whep/{room}` plays the room's mix to the client. The body is the
 * SDP offer (`application/sdp`, all candidates: no trickle, so PATCH answers 405); 201 carries
 * the answer and the session's `Location`, which the client DELETEs to leave. Bearer room token
 * required (`POST /api/rooms/{name}/tokens`).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { ApiContext } from '../context.ts';
import { ApiError, errorResponses, notFound, unauthenticated } from '../shared/errors.ts';
import { RoomRegistry } from '../../rooms/room-registry.ts';
import { RoomError } from '../../rooms/room-errors.ts';
import { RoomTokens } from '../../rooms/room-tokens.ts';
import { WhipSessions, type WhipKind } from '../../rooms/whip-sessions.ts';
import { MediaError } from '../../media/errors.ts';

const RoomParams = Type.Object({ room: Type.String({ maxLength: 64 }) });
const SessionParams = Type.Object({ room: Type.String({ maxLength: 64 }), id: Type.String({ maxLength: 64 }) });
const Sdp = Type.String({ description: 'SDP (application/sdp)' });

export async function whipRoutes(app: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  app.addContentTypeParser('application/sdp', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => done(null, body));
  const tokens = new RoomTokens(ctx.config.secretKey);
  let sessions: WhipSessions | null = null;
  const sessionsOf = (): WhipSessions => {
    if (ctx.rooms === undefined || ctx.webrtc === undefined) throw new ApiError('service_unavailable', 'rooms need the media engine, which is not running');
    return (sessions ??= new WhipSessions(ctx.rooms, ctx.webrtc));
  };
  app.addHook('onClose', async () => { await sessions?.close(); });

  /** The room token's grant, or 401. */
  async function authorize(req: FastifyRequest, room: string): Promise<{ displayName: string | null }> {
    const header = req.headers.authorization ?? '';
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    const grant = token === undefined ? null : await tokens.verify(token, room);
    if (grant === null) throw unauthenticated(token === undefined ? 'Bearer room token required' : 'invalid or expired room token');
    return grant;
  }

  for (const kind of ['whip', 'whep'] as const) {
    const what = kind === 'whip' ? 'Publish audio into a room (WHIP, RFC 9725)' : 'Play a room\'s mix (WHEP)';
    app.post<{ Params: { room: string }; Body: string }>(`/${kind}/:room`, {
      config: { auth: 'public' },
      schema: {
        tags: ['rooms'], summary: what, params: RoomParams, security: [{ bearerAuth: [] }],
        body: Sdp,
        response: { 201: { description: 'SDP answer; Location names the session resource', content: { 'application/sdp': { schema: Sdp } } }, ...errorResponses(400, 401, 404, 503) },
      },
    }, async (req, reply) => {
      const { room } = req.params;
      if (!RoomRegistry.validName(room)) throw notFound(`Room ${JSON.stringify(room.slice(0, 80))}`);
      const grant = await authorize(req, room);
      if (typeof req.body !== 'string' || req.body.length === 0) throw new ApiError('bad_request', 'the body must be an SDP offer (application/sdp)');
      const { id, answer } = await start(sessionsOf(), kind, room, req.body, grant.displayName ?? kind.toUpperCase());
      return reply.status(201).type('application/sdp').header('location', `/${kind}/${encodeURIComponent(room)}/${id}`).send(answer);
    });
    app.delete<{ Params: { room: string; id: string } }>(`/${kind}/:room/:id`, {
      config: { auth: 'public' },
      schema: { tags: ['rooms'], summary: `End a ${kind.toUpperCase()} session`, params: SessionParams, security: [{ bearerAuth: [] }], response: { 200: Type.Null(), ...errorResponses(401, 404, 503) } },
    }, async (req, reply) => {
      await authorize(req, req.params.room);
      if (!(await sessionsOf().stop(kind, req.params.room, req.params.id))) throw notFound(`${kind.toUpperCase()} session`);
      return reply.status(200).send();
    });
    app.patch(`/${kind}/:room/:id`, { config: { auth: 'public' }, schema: { hide: true } }, async (_req, reply: FastifyReply) => {
      // No trickle ICE or ICE restarts: offers carry every candidate (RFC 9725 §4.3.1 allows 405).
      return reply.status(405).header('allow', 'DELETE').send({ error: { code: 'method_not_allowed', message: 'trickle ICE and ICE restarts are not supported; send a complete offer', details: null } });
    });
  }
}

async function start(sessions: WhipSessions, kind: WhipKind, room: string, offer: string, displayName: string): Promise<{ id: string; answer: string }> {
  try {
    return await sessions.start(kind, room, offer, displayName);
  } catch (err) {
    if (err instanceof MediaError && err.code === 'MEDIA_ERR_BAD_OPTION') throw new ApiError('bad_request', err.message);
    if (err instanceof RoomError) throw new ApiError(err.code === 'ROOM_BAD_NAME' ? 'not_found' : 'service_unavailable', err.message);
    throw err;
  }
}
