/**
 * WebSockets of seed 002. `GET /call/ws?token=<call_token>` (call_ws): the call's events
 * (those so far first), actions `end`, `dtmf`, `mute` in, and `webrtc_offer` (JSON text frame
 * `{"action":"webrtc_offer","sdp":…}` → `{"event":"webrtc_answer","sdp":…}`: the peer talks
 * with the callee; closed with the socket or the call). `GET /call/notify?token=<session
 * token>` (notify_ws): every event of the app's incoming calls. Frames are JSON text, or
 * protobuf binary (`proto/callgw.proto`) when the client offers the subprotocol `protobuf`
 * or passes `format=protobuf`. A bad token closes with 4401, an unknown call with 4404; a
 * bad action gets an error frame `{"error":…}`. After `ended` the server closes with 1000.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { fail } from './errors.ts';
import type { WebSocket } from 'ws';
import { Type } from '@sinclair/typebox';
import type { ApiContext } from '../context.ts';
import type { TokenClaims } from '../../gateway/call-token.ts';
import { ActionError, decodeAction, encodeEvent, type CallEvent, type WireFormat } from '../../gateway/call-events.ts';

const SocketQuery = Type.Object({
  token: Type.String({ minLength: 1, maxLength: 4096 }),
  format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('protobuf')], { description: 'Frame format; default json (or the `protobuf` subprotocol)' })),
});

function formatOf(req: FastifyRequest, socket: WebSocket): WireFormat {
  const q = req.query as { format?: string };
  return q.format === 'protobuf' || socket.protocol === 'protobuf' ? 'protobuf' : 'json';
}

const Failure = Type.Object({ status: Type.Literal(false), error: Type.String() });
const upgradeRequired = async (_req: FastifyRequest, reply: FastifyReply) => fail(reply, 426, 'this endpoint is a WebSocket: upgrade required');

const send = (socket: WebSocket, format: WireFormat, e: CallEvent) => { if (socket.readyState === socket.OPEN) socket.send(encodeEvent(e, format)); };

type SocketHandler = (socket: WebSocket, format: WireFormat, claims: TokenClaims) => void;

export async function callSockets(app: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  /** A WebSocket route: plain GET → 426; the token is checked (`kind`) before `open` runs. */
  const socketRoute = (url: string, kind: TokenClaims['kind'], summary: string, open: SocketHandler) => app.route({
    method: 'GET', url, config: { callAuth: 'token' },
    schema: { tags: ['call gateway (seed 002)'], summary, description: 'Upgrade to a WebSocket; a plain GET answers 426.', querystring: SocketQuery, response: { 426: Failure } },
    handler: upgradeRequired,
    wsHandler: async (socket: WebSocket, req: FastifyRequest) => {
      const claims = await ctx.callTokens?.verify((req.query as { token: string }).token);
      if (!claims || claims.kind !== kind || !ctx.callGateway) { socket.close(4401, `invalid or expired ${kind} token`); return; }
      open(socket, formatOf(req, socket), claims);
    },
  });

  socketRoute('/call/ws', 'call', 'call_ws: events of one call, actions end/dtmf/mute (WebSocket; JSON or protobuf frames)', (socket, format, claims) => {
    const call = claims.kind === 'call' ? ctx.callGateway!.find(claims.app_id, claims.call_id) : undefined;
    if (!call) { socket.close(4404, 'call not found'); return; }
    // After `ended` there is nothing more to say: close normally (1000).
    const off = call.subscribe((e) => { send(socket, format, e); if (e.event === 'ended') socket.close(1000, 'call ended'); });
    // One WebRTC peer per socket: a new offer replaces the previous peer.
    let peer: Promise<(() => Promise<void>) | undefined> = Promise.resolve(undefined);
    socket.on('close', () => { off(); void peer.then((close) => close?.()); });
    socket.on('message', (data: Buffer, binary: boolean) => {
      let action;
      try {
        action = decodeAction(data, binary);
      } catch (err) {
        socket.send(JSON.stringify({ error: err instanceof ActionError ? err.message : 'unreadable frame' }));
        return;
      }
      if (action.action === 'webrtc_offer') {
        const offer = action.sdp;
        peer = peer.then(async (previous) => {
          await previous?.();
          const { answer, close } = await ctx.callGateway!.media.webrtcOffer(call, offer);
          if (socket.readyState !== socket.OPEN) { await close(); return undefined; }
          socket.send(JSON.stringify({ event: 'webrtc_answer', call_id: call.id, sdp: answer }));
          return close;
        }).catch((err: Error) => {
          if (socket.readyState === socket.OPEN) socket.send(JSON.stringify({ error: `webrtc_offer: ${err.message}` }));
          return undefined;
        });
        return;
      }
      const done = action.action === 'end' ? Promise.resolve().then(() => call.control.end())
        : action.action === 'dtmf' ? call.control.sendDtmf(action.digits)
        : call.control.setMuted(action.muted).then(() => { call.muted = action.muted; });
      done.catch((err: Error) => { if (socket.readyState === socket.OPEN) socket.send(JSON.stringify({ error: `${action.action}: ${err.message}` })); });
    });
  });

  socketRoute('/call/notify', 'session', 'notify_ws: every event of the app\'s incoming calls (WebSocket; JSON or protobuf frames)', (socket, format, claims) => {
    const off = ctx.callGateway!.listenApp(claims.app_id, (e) => { if (e.direction === 'incoming') send(socket, format, e); });
    socket.on('close', off);
  });
}
