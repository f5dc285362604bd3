/**
 * The rooms admin API under `/api` (docs/ROOMS.md): who is in which room, post to a room's
 * chat, mute or kick a participant. Reads are for any logged-in user; changes are admin's.
 * A room that is not open is 404 (rooms are opened by their members, never by this API).
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';
import { ApiError, conflict, errorResponses, notFound } from '../shared/errors.ts';
import { ListOf, page, PaginationQuery } from '../shared/pagination.ts';
import { ROOM_NAME_PATTERN } from '../../rooms/room-registry.ts';
import { RoomError } from '../../rooms/room-errors.ts';
import type { Room } from '../../rooms/room.ts';
import type { ParticipantSnapshot } from '../../rooms/room-types.ts';
import { Ok } from './schemas.ts';

const Participant = Type.Object({
  id: Type.String(),
  kind: Type.Union(['webrtc', 'sip', 'player', 'recorder', 'rtmp', 'whip', 'whep'].map((k) => Type.Literal(k)), { description: 'How the participant takes part' }),
  display_name: Type.String(),
  muted: Type.Boolean({ description: 'Its audio is left out of the mix (it still hears the room)' }),
  hears: Type.Boolean({ description: 'It is given the mix of the others' }),
  speaks: Type.Boolean({ description: 'Its audio goes into the mix (unless muted)' }),
  joined_at: Type.String({ format: 'date-time' }),
  level_db: Type.Union([Type.Null(), Type.Number()], { description: 'Smoothed audio level in dBFS (RMS; -100 silent or muted; null: not measured yet). Measured only while someone in the room hears the participant.' }),
});
const RoomView = Type.Object({
  name: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  participants: Type.Array(Participant),
  speaker: Type.Union([Type.Null(), Type.String()], { description: 'Id of the active speaker (the loudest unmuted participant, with hysteresis); null: nobody speaks' }),
  video: Type.Object({
    publishers: Type.Integer({ description: 'Browsers whose camera is forwarded' }),
    subscribers: Type.Integer({ description: 'Browsers with receive slots' }),
    publishers_refused: Type.Integer({ description: 'Cameras refused by STROWGER_ROOMS_VIDEO_PUBLISHERS' }),
    packets_in: Type.Integer({ description: 'Camera RTP packets received' }),
    packets_forwarded: Type.Integer({ description: 'Packet copies sent to receive slots' }),
    packets_waiting_keyframe: Type.Integer({ description: 'Packets held back from a slot waiting for a key frame' }),
    keyframe_requests_sent: Type.Integer({ description: 'RTCP PLIs sent to publishers' }),
    keyframe_requests_received: Type.Integer({ description: 'PLI/FIR received from subscribers' }),
  }, { description: 'Video forwarding between browsers (counters since the room opened)' }),
}, { examples: [{ name: 'standup', created_at: '2026-01-01T00:00:00.000Z', speaker: '3f9a0c1b2d4e', video: { publishers: 0, subscribers: 0, publishers_refused: 0, packets_in: 0, packets_forwarded: 0, packets_waiting_keyframe: 0, keyframe_requests_sent: 0, keyframe_requests_received: 0 }, participants: [{ id: '3f9a0c1b2d4e', kind: 'sip', display_name: '1001', muted: false, hears: true, speaks: true, joined_at: '2026-01-01T00:00:02.000Z', level_db: -21.5 }] }] });
const ChatMessage = Type.Object({
  id: Type.Integer(), room: Type.String(), from: Type.String(), text: Type.String(), at: Type.String({ format: 'date-time' }),
});

const RoomParams = Type.Object({ name: Type.String({ pattern: ROOM_NAME_PATTERN, maxLength: 64, description: 'Room name' }) });
const ParticipantParams = Type.Object({
  name: RoomParams.properties.name,
  id: Type.String({ pattern: '^[0-9a-f]{1,64}$', description: 'Participant id (from the room listing)' }),
});
const ChatBody = Type.Object({
  text: Type.String({ minLength: 1, maxLength: 2000 }),
  from: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Author shown in the chat; default the caller\'s e-mail' })),
}, { additionalProperties: false });
const MuteBody = Type.Object({ muted: Type.Boolean() }, { additionalProperties: false });

/** A room as the API shows it: its snapshot with each participant's level and the speaker. */
function view(room: Room) {
  const levels = levelsOf(room);
  const snap = room.snapshot();
  return { ...snap, participants: snap.participants.map((p) => withLevel(p, levels)), speaker: room.speaker?.id ?? null };
}

const levelsOf = (room: Room) => new Map(room.levels().map((l) => [l.id, l.level_db]));
const withLevel = (p: ParticipantSnapshot, levels: Map<string, number | null>) => ({ ...p, level_db: levels.get(p.id) ?? null });

/** A room error as the API says it (the room closed under the request: 409). */
function roomFailure(err: unknown): never {
  if (err instanceof RoomError) {
    if (err.code === 'ROOM_NO_PARTICIPANT') throw notFound('Participant');
    throw conflict(err.message);
  }
  throw err;
}

export async function roomsRoutes(base: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['rooms'];
  const registry = () => {
    if (!ctx.rooms) throw new ApiError('service_unavailable', 'Rooms need the media engine, which is not running');
    return ctx.rooms;
  };
  const roomOf = (name: string): Room => {
    const room = registry().get(name);
    if (!room) throw notFound('Room');
    return room;
  };

  app.get('/rooms', {
    schema: { tags, summary: 'Open rooms with their participants (any logged-in user)', querystring: PaginationQuery, response: { 200: ListOf(RoomView), ...errorResponses(400, 401, 503) } },
  }, async (req) => {
    const all = registry().list().map((r) => view(registry().get(r.name)!));
    return page(all.slice(req.query.offset, req.query.offset + req.query.limit), all.length, req.query);
  });

  app.get('/rooms/:name', {
    schema: { tags, summary: 'One open room with its participants', params: RoomParams, response: { 200: RoomView, ...errorResponses(400, 401, 404, 503) } },
  }, async (req) => view(roomOf(req.params.name)));

  app.post('/rooms/:name/chat', {
    config: { auth: 'admin' },
    schema: {
      tags, params: RoomParams, body: ChatBody,
      summary: 'Post a message to the room\'s chat: every participant and the gateways\' chat relays get it (admin)',
      response: { 201: ChatMessage, ...errorResponses(400, 401, 403, 404, 409, 503) },
    },
  }, async (req, reply) => {
    const room = roomOf(req.params.name);
    let message;
    try {
      message = room.chat(req.body.from ?? req.auth?.user.email ?? 'api', req.body.text);
    } catch (err) { roomFailure(err); }
    return reply.status(201).send(message);
  });

  app.post('/rooms/:name/participants/:id/mute', {
    config: { auth: 'admin' },
    schema: {
      tags, params: ParticipantParams, body: MuteBody,
      summary: 'Mute or unmute what a participant says; it still hears the room (admin)',
      response: { 200: Participant, ...errorResponses(400, 401, 403, 404, 409, 503) },
    },
  }, async (req) => {
    const room = roomOf(req.params.name);
    try {
      return withLevel(await room.setMuted(req.params.id, req.body.muted), levelsOf(room));
    } catch (err) { return roomFailure(err); }
  });

  app.delete('/rooms/:name/participants/:id', {
    config: { auth: 'admin' },
    schema: {
      tags, params: ParticipantParams,
      summary: 'Remove a participant from the room (a SIP caller is hung up, a browser is told) (admin)',
      response: { 200: Ok, ...errorResponses(400, 401, 403, 404, 503) },
    },
  }, async (req) => {
    if (!(await roomOf(req.params.name).leave(req.params.id, 'kicked'))) throw notFound('Participant');
    return { success: true };
  });
}
