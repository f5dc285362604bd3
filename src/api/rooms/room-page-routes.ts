/**
 * The public room page: `GET /rooms/{name}` (HTML), its script, and the signalling WebSocket
 * `/rooms/{name}/ws` (protocol: `src/rooms/web/room-protocol.ts`, docs/ROOMS.md). Joining is
 * open to anyone with the link unless STROWGER_ROOMS_REQUIRE_TOKEN=1 (then a room token).
 */
import type { FastifyInstance } from 'fastify';
import websocket from '@fastify/websocket';
import type { ApiContext } from '../context.ts';
import { notFound } from '../shared/errors.ts';
import { RoomRegistry } from '../../rooms/room-registry.ts';
import { RoomTokens } from '../../rooms/room-tokens.ts';
import { RoomWsSession } from '../../rooms/web/room-ws-session.ts';
import { roomPageHtml, roomPageScript } from './room-page-assets.ts';

const PUBLIC = { auth: 'public' as const };
const HIDDEN = { hide: true };

export async function roomPageRoutes(app: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  // Another family may have registered it already (it decorates the root instance).
  if (!app.hasDecorator('websocketServer')) await app.register(websocket, { options: { maxPayload: 128 * 1024 } });
  const tokens = new RoomTokens(ctx.config.secretKey);

  app.get<{ Params: { name: string } }>('/rooms/:name', { config: PUBLIC, schema: HIDDEN }, async (req, reply) => {
    if (!RoomRegistry.validName(req.params.name)) throw notFound(`Room ${JSON.stringify(req.params.name.slice(0, 80))}`);
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(roomPageHtml(req.params.name, ctx.config.rooms.videoSlots));
  });

  app.get('/rooms/_assets/room.js', { config: PUBLIC, schema: HIDDEN }, async (_req, reply) => {
    return reply.type('text/javascript; charset=utf-8').send(await roomPageScript());
  });

  app.get<{ Params: { name: string } }>('/rooms/:name/ws', { websocket: true, config: PUBLIC, schema: HIDDEN }, (socket, req) => {
    if (!RoomRegistry.validName(req.params.name)) {
      socket.send(JSON.stringify({ type: 'error', code: 'bad_room', message: 'no such room name' }));
      socket.close(1008, 'bad room name');
      return;
    }
    const session = new RoomWsSession(req.params.name, {
      rooms: ctx.rooms, webrtc: ctx.webrtc, tokens, requireToken: ctx.config.roomsRequireToken, log: req.log,
    }, {
      send: (message) => { if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message)); },
      close: () => { if (socket.readyState === socket.OPEN) socket.close(1000); },
    });
    socket.on('message', (data, binary) => {
      if (binary) return void socket.send(JSON.stringify({ type: 'error', code: 'bad_message', message: 'text frames only' }));
      void session.receive(data.toString());
    });
    socket.on('close', () => void session.end('socket closed'));
    socket.on('error', () => void session.end('socket error'));
  });
}
