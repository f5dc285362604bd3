/**
 * One room-page WebSocket: the participant behind it, from `join` to leaving. It leaves when the
 * page says `leave`, when the socket closes, when the WebRTC endpoint closes (ICE/DTLS failure,
 * silence: within 10 s) and when the room closes; each of these ends the others too.
 */
import type { WebRtcFactory } from '../../media/webrtc/index.ts';
import { MediaError } from '../../media/errors.ts';
import type { Room } from '../room.ts';
import type { RoomRegistry } from '../room-registry.ts';
import { RoomError } from '../room-errors.ts';
import type { RoomTokens } from '../room-tokens.ts';
import type { ChatMessage, LeaveReason, ParticipantSnapshot } from '../room-types.ts';
import { joinWithOffer, type WebRtcMember } from '../webrtc-member.ts';
import type { SlotAssignment } from '../video-router.ts';
import { parseClientMessage, type ClientMessage, type ProtocolErrorCode, type ServerMessage } from './room-protocol.ts';

export interface RoomSessionDeps {
  rooms: RoomRegistry | undefined;
  webrtc: WebRtcFactory | undefined;
  tokens: RoomTokens;
  requireToken: boolean;
  log: { warn(obj: object, msg: string): void };
}

export interface RoomSessionTransport {
  send(message: ServerMessage): void;
  close(): void;
}

export class RoomWsSession {
  private member: WebRtcMember | null = null;
  private room: Room | null = null;
  private joining = false;
  private ended = false;
  private displayName = '';
  private readonly unsubscribe: (() => void)[] = [];

  constructor(private readonly roomName: string, private readonly deps: RoomSessionDeps, private readonly transport: RoomSessionTransport) {}

  /** A text frame from the page. Never throws: problems go back as `error` messages. */
  async receive(text: string): Promise<void> {
    if (this.ended) return;
    const parsed = parseClientMessage(text);
    if (!parsed.ok) return this.error('bad_message', parsed.error);
    try {
      await this.handle(parsed.message);
    } catch (err) {
      const [code, message] = describe(err);
      if (code === 'internal_error') this.deps.log.warn({ err, room: this.roomName }, 'room session error');
      this.error(code, message);
    }
  }

  /** The socket is gone (or the page left): leave and release everything; idempotent. */
  async end(reason = 'left'): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    for (const off of this.unsubscribe.splice(0)) off();
    const member = this.member;
    this.member = null;
    await member?.leave();
    this.transport.send({ type: 'left', reason });
    this.transport.close();
  }

  private async handle(message: ClientMessage): Promise<void> {
    if (message.type === 'join') return this.join(message);
    const member = this.member;
    if (member === null || this.room === null) return this.error('not_joined', 'join first');
    if (message.type === 'mute') await this.room.setMuted(member.participant.id, message.muted);
    else if (message.type === 'chat') this.room.chat(this.displayName, message.text);
    else await this.end('left');
  }

  private async join(message: Extract<ClientMessage, { type: 'join' }>): Promise<void> {
    if (this.member !== null || this.joining) return this.error('already_joined', 'this socket has joined already');
    const { rooms, webrtc } = this.deps;
    if (rooms === undefined || webrtc === undefined) return this.error('unavailable', 'rooms need the media engine, which is not running');
    this.joining = true;
    try {
      const grant = message.token === undefined ? null : await this.deps.tokens.verify(message.token, this.roomName);
      if (message.token !== undefined && grant === null) return this.error('token_required', 'the room token is invalid or expired');
      if (this.deps.requireToken && grant === null) return this.error('token_required', 'this server requires a room token to join');
      this.displayName = grant?.displayName ?? message.display_name;
      const room = rooms.open(this.roomName);
      // Listen before joining: our own `joined` must not be missed by the list the page keeps.
      this.watch(room);
      const member = await joinWithOffer(room, webrtc, { offer: message.sdp, kind: 'webrtc', displayName: this.displayName, muted: message.muted, video: true });
      if (this.ended) {
        await member.leave();
        return;
      }
      this.member = member;
      this.room = room;
      member.endpoint.once('closed', (reason) => void this.end(`media: ${reason}`));
      this.transport.send({ type: 'joined', id: member.participant.id, room: room.name, sdp: member.answer, participants: room.participants(), chat: room.history() });
      const video = member.endpoint.video;
      if (video && (video.hasCamera || video.slots.length > 0)) this.sendVideo(room, room.video.slotsOf(member.participant.id));
    } catch (err) {
      for (const off of this.unsubscribe.splice(0)) off();
      throw err;
    } finally {
      this.joining = false;
    }
  }

  private watch(room: Room): void {
    const mine = (p: ParticipantSnapshot) => this.member?.participant.id === p.id;
    const on = {
      joined: (p: ParticipantSnapshot) => { if (!mine(p) && this.member) this.transport.send({ type: 'participant_joined', participant: p }); },
      left: (p: ParticipantSnapshot, reason: LeaveReason) => {
        if (mine(p)) void this.end(reason);
        else if (this.member) this.transport.send({ type: 'participant_left', participant: p, reason });
      },
      muted: (p: ParticipantSnapshot) => { if (this.member) this.transport.send({ type: 'participant_updated', participant: p }); },
      chat: (m: ChatMessage) => { if (this.member) this.transport.send({ type: 'chat', message: m }); },
      closed: (reason: string) => void this.end(`room closed: ${reason}`),
      slots: (id: string, slots: SlotAssignment[]) => { if (this.member?.participant.id === id) this.sendVideo(room, slots); },
    };
    room.video.on('slots', on.slots);
    room.on('joined', on.joined);
    room.on('left', on.left);
    room.on('muted', on.muted);
    room.on('chat', on.chat);
    room.on('closed', on.closed);
    this.unsubscribe.push(() => {
      room.off('joined', on.joined);
      room.off('left', on.left);
      room.off('muted', on.muted);
      room.off('chat', on.chat);
      room.off('closed', on.closed);
      room.video.off('slots', on.slots);
    });
  }

  private sendVideo(room: Room, slots: SlotAssignment[]): void {
    this.transport.send({ type: 'video', publishing: room.video.publishing(this.member!.participant.id), slots });
  }

  private error(code: ProtocolErrorCode, message: string): void {
    this.transport.send({ type: 'error', code, message });
  }
}

const ROOM_CODES: Record<string, ProtocolErrorCode> = {
  ROOM_FULL: 'room_full', ROOM_LIMIT: 'room_limit', ROOM_CLOSED: 'room_closed', ROOM_BAD_NAME: 'bad_room', ROOM_NO_PARTICIPANT: 'not_joined',
};

function describe(err: unknown): [ProtocolErrorCode, string] {
  if (err instanceof RoomError) return [ROOM_CODES[err.code] ?? 'internal_error', err.message];
  if (err instanceof MediaError && err.code === 'MEDIA_ERR_BAD_OPTION') return ['bad_sdp', err.message];
  return ['internal_error', 'the server could not do that'];
}
