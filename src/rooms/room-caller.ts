/**
 * A SIP caller in a room: the PBX answered the call (`call-local.ts`) and the caller's media
 * leg joins the room as a `sip` participant. It leaves when the caller hangs up; a room that
 * closes, or kicks the caller, hangs the call up (a caller left in silence would not know).
 * Keys the caller presses reach the room as `dtmf` events (gateways relay them).
 */
import type { Logger } from 'pino';
import type { MediaEngine } from '../media/media-engine.ts';
import type { DtmfDigit } from '../media/tone.ts';
import type { LocalParty, LocalPartyIo } from '../pbx/call-local.ts';
import type { Room } from './room.ts';
import type { RoomRegistry } from './room-registry.ts';
import type { LeaveReason, ParticipantSnapshot } from './room-types.ts';

export interface RoomCallerDeps {
  rooms: Pick<RoomRegistry, 'open'>;
  media: Pick<MediaEngine, 'unbridge'>;
  logger: Logger;
}

export class RoomCaller implements LocalParty {
  private room: Room | undefined;
  private participantId: string | undefined;
  private io: LocalPartyIo | undefined;
  private stopped = false;
  private readonly log: Logger;
  private readonly onLeft = (p: ParticipantSnapshot, reason: LeaveReason): void => {
    if (p.id !== this.participantId || this.stopped) return;
    this.log.info({ reason }, 'room caller: out of the room, hanging up');
    this.detach();
    this.io?.hangup();
  };

  constructor(private readonly deps: RoomCallerDeps, readonly roomName: string) {
    this.log = deps.logger.child({ component: 'room-caller', room: roomName });
  }

  start(io: LocalPartyIo): void {
    void this.enter(io).catch((err: unknown) => {
      this.log.warn({ err: (err as Error).message }, 'room caller: could not join');
      if (!this.stopped) io.hangup();
    });
  }

  /**
   * Joins the room (opening it on first use).
   * @throws RoomError `ROOM_BAD_NAME`, `ROOM_LIMIT`, `ROOM_FULL`, `ROOM_CLOSED` (the IVR says why and lets the caller retry).
   */
  async enter(io: LocalPartyIo): Promise<void> {
    this.io = io;
    // The caller's leg was bridged to the unused callee leg at set-up; the room's mix replaces it.
    await this.deps.media.unbridge(io.legId).catch(() => {});
    const room = this.deps.rooms.open(this.roomName);
    const me = await room.join({ kind: 'sip', endpoint: io.legId, displayName: io.callerName ?? io.callerNumber });
    if (this.stopped) {
      await room.leave(me.id);
      return;
    }
    this.room = room;
    this.participantId = me.id;
    room.on('left', this.onLeft);
    this.log.info({ participant: me.id, callId: io.callId }, 'room caller: joined');
  }

  digit(digit: DtmfDigit): void {
    if (this.participantId !== undefined) this.room?.keyPressed(this.participantId, digit);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    const room = this.room;
    const id = this.participantId;
    this.detach();
    if (room !== undefined && id !== undefined) void room.leave(id).catch(() => {});
  }

  private detach(): void {
    this.room?.off('left', this.onLeft);
  }
}
