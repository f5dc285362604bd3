/**
 * Where an app call's audio goes besides our local endpoint (seed 002, issue 14):
 * - into a room (`stream` on Accept, `streaming` on `POST /call/outgoing`): the call's media
 *   leg joins room `room` as participant `peer`; with `record`, a recorder participant of the
 *   room writes `<data dir>/media/calls/<call id>.wav`, reported as `recording` in `ended`;
 * - to a WebRTC peer (`webrtc_offer` on call_ws): a WebRTC endpoint placed with the leg,
 *   answered from the peer's offer and connected with the leg both ways.
 * Both are undone when the call ends (the WebRTC peer also when its WebSocket closes).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { MediaEngine } from '../media/media-engine.ts';
import type { LegId } from '../media/relay-protocol.ts';
import type { WebRtcFactory } from '../media/webrtc/index.ts';
import type { RoomRegistry } from '../rooms/room-registry.ts';
import type { Room } from '../rooms/room.ts';
import { RoomError } from '../rooms/room-errors.ts';
import type { GatewayCall } from './gateway-call.ts';

export interface StreamTarget { room: string; peer: string; record?: boolean }

export interface CallMediaDeps {
  /** Absent on a node without media: streaming answers 503. */
  rooms?: RoomRegistry;
  /** Absent on a node without media: WebRTC offers are refused. */
  webrtc?: WebRtcFactory;
  media?: Pick<MediaEngine, 'connect' | 'createRecorder' | 'stopRecorder'>;
  /** Where call recordings go (`<data dir>/media/calls`). */
  recordingsDir: string;
}

/** A refusal with the HTTP status it maps to (400 bad room/peer, 409 room full/closed, 503 no media). */
export class CallMediaError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

export class CallMedia {
  constructor(private readonly d: CallMediaDeps) {}

  /**
   * Opens (or finds) the room of `stream`, before anything is signalled, so a bad request
   * changes nothing.
   * @throws CallMediaError 400 (no room/peer, bad room name), 409 (room limit), 503 (no rooms).
   */
  roomFor(stream: Partial<StreamTarget>): Room {
    if (!this.d.rooms || !this.d.media) throw new CallMediaError(503, 'rooms are not available on this server (no media engine)');
    if (!stream.room || !stream.peer) throw new CallMediaError(400, 'stream needs both "room" and "peer"');
    try {
      return this.d.rooms.open(stream.room);
    } catch (err) {
      if (err instanceof RoomError) throw new CallMediaError(err.code === 'ROOM_LIMIT' ? 409 : 400, err.message);
      throw err;
    }
  }

  /**
   * The call's leg joins `room` as `stream.peer` (and a recorder with it when `record`); both
   * leave when the call ends. The recording's path is set on the call before it ends.
   * @throws CallMediaError 409 (room full or closed); nothing is left behind.
   */
  async joinRoom(call: GatewayCall, legId: LegId, room: Room, stream: StreamTarget): Promise<void> {
    const media = this.d.media!;
    // An outgoing call rings a while: the (still empty) room may have idled out meanwhile.
    if (room.closed) room = this.roomFor(stream);
    let recorder: { id: LegId; participant: string } | null = null;
    try {
      const me = await room.join({ kind: 'sip', displayName: stream.peer, endpoint: legId });
      call.onEnd(() => room.leave(me.id).catch(() => false));
      if (stream.record) {
        await mkdir(this.d.recordingsDir, { recursive: true });
        const path = join(this.d.recordingsDir, `${call.id}.wav`);
        const rec = await media.createRecorder({ group: room.group, path, rate: 16000 });
        recorder = { id: rec.id, participant: '' };
        recorder.participant = (await room.join({ kind: 'recorder', displayName: `recorder ${stream.peer}`, endpoint: rec.id, speaks: false })).id;
        call.recording = path;
        const r = recorder;
        call.onEnd(async () => { await room.leave(r.participant).catch(() => false); await media.stopRecorder(r.id).catch(() => {}); });
      }
      call.room = { name: room.name, peer: stream.peer };
    } catch (err) {
      if (recorder && !recorder.participant) await media.stopRecorder(recorder.id).catch(() => {});
      if (err instanceof RoomError) throw new CallMediaError(409, err.message);
      throw err;
    }
  }

  /**
   * Answers a WebRTC offer for the call: an endpoint next to the call's leg, connected with it
   * both ways. Returns the SDP answer and the close (also run when the call ends).
   * @throws CallMediaError 409 (no answered media yet, call in a room), 503 (no WebRTC), 400 (offer refused).
   */
  async webrtcOffer(call: GatewayCall, offer: string): Promise<{ answer: string; close: () => Promise<void> }> {
    const legId = call.legId;
    if (!this.d.webrtc || !this.d.media) throw new CallMediaError(503, 'WebRTC is not available on this server (no media engine)');
    if (call.ended || legId === null) throw new CallMediaError(409, 'the call has no media yet (not accepted)');
    if (call.room) throw new CallMediaError(409, `the call is streamed into room ${call.room.name}: join the room instead`);
    const media = this.d.media;
    const ep = await this.d.webrtc({ near: legId });
    let answer: string;
    try {
      answer = await ep.answer(offer);
      await media.connect(ep.legId, [legId]);
      await media.connect(legId, [ep.legId]);
    } catch (err) {
      await ep.close('bad-sdp');
      throw new CallMediaError(400, `the offer cannot be answered: ${(err as Error).message}`);
    }
    let closed = false;
    const close = async (): Promise<void> => {
      if (closed) return;
      closed = true;
      if (!call.ended) await media.connect(legId, []).catch(() => {});
      await ep.close('closed');
    };
    call.onEnd(close);
    return { answer, close };
  }
}
