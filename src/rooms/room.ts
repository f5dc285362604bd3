/**
 * A room: an audio conference in one media worker. Participants of any kind (WebRTC peers, SIP
 * legs, players, recorders, RTMP streamers) are media endpoints; each one that hears is given
 * the mix of all the others that speak (`room-mix.ts`), mixed by the worker's decode -> 20 ms
 * frames -> encode path. Endpoints living in another worker take part through a stand-in
 * (`MediaEngine.standIn`), so a caller already answered elsewhere (IVR) can join.
 *
 * Media changes are applied one at a time in order (`serial`): two joins racing would
 * otherwise each connect a mix that misses the other.
 *
 * @example
 * const room = registry.open('standup');
 * const me = await room.join({ kind: 'sip', displayName: 'Alice', endpoint: callerLeg });
 * room.chat('Alice', 'hello');
 * await room.leave(me.id);
 */
import { EventEmitter } from 'node:events';
import { randomHex } from '../sip/random-pool.ts';
import type { MediaEngine } from '../media/media-engine.ts';
import type { LegId } from '../media/relay-protocol.ts';
import { mixMinus } from './room-mix.ts';
import { RoomError } from './room-errors.ts';
import { SpeakerDetector } from './speaker-detector.ts';
import { LEVEL_FLOOR_DB } from '../media/level-meter.ts';
import { VideoRouter } from './video-router.ts';
import type { ChatMessage, JoinOptions, LeaveReason, ParticipantKind, ParticipantSnapshot, RoomEvents, RoomSnapshot } from './room-types.ts';

/** What a room needs of the media engine (levels and the speaker need `meter` and `levelOf`). */
export type RoomMedia = Pick<MediaEngine, 'reserveGroup' | 'releaseGroup' | 'standIn' | 'connect' | 'releaseLeg' | 'has'> & Partial<Pick<MediaEngine, 'meter' | 'levelOf'>>;

export interface RoomOptions {
  maxParticipants: number;
  /** Chat messages kept for late joiners. */
  chatHistory: number;
  /** Video forwarding between browsers (`video-router.ts`). Defaults: 8 cameras, 4 slots each. */
  videoPublishers?: number;
  videoSlots?: number;
}

interface Member {
  id: string;
  kind: ParticipantKind;
  displayName: string;
  endpoint: LegId;
  /** The endpoint or its stand-in in the room's worker (the room releases a stand-in only). */
  mixId: LegId;
  hears: boolean;
  speaks: boolean;
  muted: boolean;
  joinedAt: string;
}

export class Room extends EventEmitter<RoomEvents> {
  readonly group: string;
  readonly worker: number;
  readonly createdAt = new Date().toISOString();
  private readonly members = new Map<string, Member>();
  private readonly log: ChatMessage[] = [];
  private nextChatId = 1;
  private queue: Promise<unknown> = Promise.resolve();
  private closedReason: string | null = null;
  private readonly speakers = new SpeakerDetector();
  /** Browsers' video, forwarded between them; members join it themselves (`webrtc-member.ts`). */
  readonly video: VideoRouter;

  constructor(readonly name: string, private readonly media: RoomMedia, private readonly options: RoomOptions) {
    super();
    this.group = `room:${name}`;
    this.worker = media.reserveGroup(this.group);
    this.video = new VideoRouter({ maxPublishers: options.videoPublishers ?? 8, slotsPerSubscriber: options.videoSlots ?? 4 });
    // Whatever the reason a participant leaves (kicked, endpoint gone, room closed), its video goes.
    this.on('left', (p) => this.video.remove(p.id));
  }

  get closed(): boolean {
    return this.closedReason !== null;
  }

  get size(): number {
    return this.members.size;
  }

  /**
   * Adds a participant and gives everyone the new mix.
   * @throws RoomError `ROOM_CLOSED`, `ROOM_FULL`; MediaError when the endpoint is unknown.
   */
  join(options: JoinOptions): Promise<ParticipantSnapshot> {
    return this.serial(async () => {
      this.assertOpen();
      if (this.members.size >= this.options.maxParticipants) throw new RoomError('ROOM_FULL', `${this.options.maxParticipants} in ${this.name}`);
      const mixId = await this.media.standIn(options.endpoint, this.group);
      // Levels for `levels()` and the active speaker: measured where the room decodes it anyway.
      if (options.speaks ?? true) await this.media.meter?.(mixId, true).catch(() => {});
      const member: Member = {
        id: randomHex(6),
        kind: options.kind,
        displayName: options.displayName,
        endpoint: options.endpoint,
        mixId,
        hears: options.hears ?? true,
        speaks: options.speaks ?? true,
        muted: options.muted ?? false,
        joinedAt: new Date().toISOString(),
      };
      this.members.set(member.id, member);
      try {
        await this.remix();
      } catch (err) {
        this.members.delete(member.id);
        await this.detach(member);
        await this.remix().catch(() => {});
        throw err;
      }
      const snap = snapshotOf(member);
      this.emit('joined', snap);
      return snap;
    });
  }

  /** Removes a participant (its endpoint hears nothing from the room after). False when unknown. */
  leave(id: string, reason: LeaveReason = 'left'): Promise<boolean> {
    return this.serial(async () => {
      const member = this.members.get(id);
      if (member === undefined) return false;
      this.members.delete(id);
      await this.detach(member);
      if (!this.closed) await this.remix();
      this.emit('left', snapshotOf(member), reason);
      return true;
    });
  }

  /** Mutes or unmutes what a participant says (it still hears the room). */
  setMuted(id: string, muted: boolean): Promise<ParticipantSnapshot> {
    return this.serial(async () => {
      const member = this.members.get(id);
      if (member === undefined) throw new RoomError('ROOM_NO_PARTICIPANT', id);
      if (member.muted !== muted) {
        member.muted = muted;
        await this.remix();
        this.emit('muted', snapshotOf(member));
      }
      return snapshotOf(member);
    });
  }

  participant(id: string): ParticipantSnapshot | undefined {
    const member = this.members.get(id);
    return member && snapshotOf(member);
  }

  /** The participant whose endpoint (or stand-in) is `endpoint`. */
  participantByEndpoint(endpoint: LegId): ParticipantSnapshot | undefined {
    for (const m of this.members.values()) if (m.endpoint === endpoint || m.mixId === endpoint) return snapshotOf(m);
    return undefined;
  }

  participants(): ParticipantSnapshot[] {
    return [...this.members.values()].map(snapshotOf);
  }

  snapshot(): RoomSnapshot {
    return { name: this.name, created_at: this.createdAt, participants: this.participants(), video: this.video.stats() };
  }

  /**
   * Each participant's smoothed audio level in dBFS (-100: silent, muted, or not speaking into
   * the room; null: not measured yet). Measured by the media worker on the mix path.
   */
  levels(): Array<{ id: string; level_db: number | null }> {
    return [...this.members.values()].map((m) => ({ id: m.id, level_db: m.speaks && !m.muted ? (this.media.levelOf?.(m.mixId) ?? null) : LEVEL_FLOOR_DB }));
  }

  /** The active speaker (see `speaker-detector.ts`), null when nobody speaks. */
  get speaker(): ParticipantSnapshot | null {
    const id = this.speakers.speaker;
    const member = id === null ? undefined : this.members.get(id);
    return member === undefined ? null : snapshotOf(member);
  }

  /**
   * Re-reads the levels (the registry calls this on each report of the room's worker) and
   * emits `speaker` when the loudest unmuted participant changed.
   */
  updateSpeaker(): void {
    if (this.closed) return;
    const levels = new Map<string, number>();
    for (const m of this.members.values()) {
      if (!m.speaks || m.muted) continue;
      const db = this.media.levelOf?.(m.mixId);
      if (db !== undefined) levels.set(m.id, db);
    }
    if (this.speakers.update(levels)) this.emit('speaker', this.speaker);
  }

  /** Posts a chat message to everyone in the room (and whoever listens to `chat`). */
  chat(from: string, text: string): ChatMessage {
    this.assertOpen();
    const message: ChatMessage = { id: this.nextChatId++, room: this.name, from, text, at: new Date().toISOString() };
    this.log.push(message);
    if (this.log.length > this.options.chatHistory) this.log.shift();
    this.emit('chat', message);
    return message;
  }

  /** A participant pressed a key (emitted as `dtmf`); false when it is not in the room. */
  keyPressed(id: string, digit: string): boolean {
    const member = this.members.get(id);
    if (member === undefined) return false;
    this.emit('dtmf', snapshotOf(member), digit);
    return true;
  }

  /** The last chat messages, oldest first. */
  history(): ChatMessage[] {
    return [...this.log];
  }

  /** Everyone leaves (`room-closed`), the worker pin goes; idempotent. */
  close(reason: string): Promise<void> {
    if (this.closedReason !== null) return this.queue.then(() => undefined, () => undefined);
    this.closedReason = reason;
    return this.serial(async () => {
      for (const member of [...this.members.values()]) {
        this.members.delete(member.id);
        await this.detach(member);
        this.emit('left', snapshotOf(member), 'room-closed');
      }
      this.media.releaseGroup(this.group);
      this.emit('closed', reason);
    });
  }

  /**
   * Gives every hearing member the mix of the others. Members whose endpoint is gone (released
   * by its owner without leaving, lost with a worker) leave first as `endpoint-gone`: one dead
   * endpoint must not silence the room.
   */
  private async remix(): Promise<void> {
    for (const member of [...this.members.values()]) {
      if (this.media.has(member.mixId) && this.media.has(member.endpoint)) continue;
      this.members.delete(member.id);
      await this.detach(member);
      this.emit('left', snapshotOf(member), 'endpoint-gone');
    }
    for (const [sink, sources] of mixMinus([...this.members.values()])) await this.media.connect(sink, sources);
  }

  /** Silences what the room gave this member; releases its stand-in. Failures: the endpoint is gone already. */
  private async detach(member: Member): Promise<void> {
    if (member.mixId !== member.endpoint) await this.media.releaseLeg(member.mixId).catch(() => false);
    else {
      if (member.hears) await this.media.connect(member.mixId, []).catch(() => {});
      if (member.speaks) await this.media.meter?.(member.mixId, false).catch(() => {});
    }
  }

  private assertOpen(): void {
    if (this.closedReason !== null) throw new RoomError('ROOM_CLOSED', this.name);
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const next = this.queue.then(op, op);
    this.queue = next.catch(() => {});
    return next;
  }
}

function snapshotOf(m: Member): ParticipantSnapshot {
  return { id: m.id, kind: m.kind, display_name: m.displayName, muted: m.muted, hears: m.hears, speaks: m.speaks, joined_at: m.joinedAt };
}
