/**
 * The rooms of this node, by name: a room is created on first use and closed when it has been
 * empty for `idleCloseMs` (a gateway or browser rejoining within that time finds its chat
 * history). A media worker that dies takes its rooms with it: they close with that cause and
 * their participants get `left` events, so gateways and pages can react.
 *
 * @example
 * const rooms = new RoomRegistry({ media, limits: { maxRooms: 100, maxParticipants: 50 } });
 * const room = rooms.open('standup');          // RoomError ROOM_BAD_NAME | ROOM_LIMIT
 * rooms.on('chat', (m) => gateways.relay(m));  // every room's chat, for the gateways' APIs
 */
import { EventEmitter } from 'node:events';
import type { WorkerExitInfo } from '../media/media-engine.ts';
import { Room, type RoomMedia } from './room.ts';
import { RoomError } from './room-errors.ts';
import type { ChatMessage, ParticipantSnapshot, RoomSnapshot } from './room-types.ts';

const ROOM_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** The room-name rule as a JSON-schema `pattern` (API parameters). */
export const ROOM_NAME_PATTERN = ROOM_NAME.source;

export interface RoomLimits {
  maxRooms: number;
  maxParticipants: number;
  /** An empty room closes after this long. Default 60000. */
  idleCloseMs?: number;
  /** Chat messages kept per room. Default 100. */
  chatHistory?: number;
  /** Cameras forwarded per room, and receive slots used per browser (see `video-router.ts`). */
  videoPublishers?: number;
  videoSlots?: number;
}

export interface RoomRegistryEvents {
  opened: [room: Room];
  closed: [name: string, reason: string];
  /** A chat message in any room. */
  chat: [message: ChatMessage];
  /** A key pressed by a participant of any room (SIP callers' DTMF). */
  dtmf: [room: string, participant: ParticipantSnapshot, digit: string];
}

export interface RoomRegistryOptions {
  media: RoomMedia & {
    on(event: 'workerExit', listener: (info: WorkerExitInfo) => void): unknown;
    off(event: 'workerExit', listener: (info: WorkerExitInfo) => void): unknown;
    /** Level reports of a worker (`MediaEngine` `levels`): the active speaker of its rooms. */
    on(event: 'levels', listener: (worker: number) => void): unknown;
    off(event: 'levels', listener: (worker: number) => void): unknown;
  };
  limits: RoomLimits;
  /** Injected for tests. */
  timers?: { setTimeout: typeof setTimeout; clearTimeout: typeof clearTimeout };
}

export class RoomRegistry extends EventEmitter<RoomRegistryEvents> {
  private readonly rooms = new Map<string, Room>();
  private readonly idle = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly timers: NonNullable<RoomRegistryOptions['timers']>;
  private readonly onWorkerExit = (info: WorkerExitInfo): void => {
    for (const room of this.rooms.values()) {
      if (room.worker === info.worker) void room.close(`media worker ${info.worker} exited`);
    }
  };

  private readonly onLevels = (worker: number): void => {
    for (const room of this.rooms.values()) if (room.worker === worker) room.updateSpeaker();
  };

  constructor(private readonly options: RoomRegistryOptions) {
    super();
    this.timers = options.timers ?? { setTimeout, clearTimeout };
    options.media.on('workerExit', this.onWorkerExit);
    options.media.on('levels', this.onLevels);
  }

  /** Checks a room name without opening anything. */
  static validName(name: string): boolean {
    return ROOM_NAME.test(name);
  }

  /**
   * The room of that name, created on first use.
   * @throws RoomError `ROOM_BAD_NAME`, `ROOM_LIMIT`.
   */
  open(name: string): Room {
    const existing = this.rooms.get(name);
    if (existing !== undefined) return existing;
    if (!ROOM_NAME.test(name)) throw new RoomError('ROOM_BAD_NAME', JSON.stringify(name.slice(0, 80)));
    if (this.rooms.size >= this.options.limits.maxRooms) throw new RoomError('ROOM_LIMIT', String(this.options.limits.maxRooms));
    const room = new Room(name, this.options.media, {
      maxParticipants: this.options.limits.maxParticipants,
      chatHistory: this.options.limits.chatHistory ?? 100,
      videoPublishers: this.options.limits.videoPublishers,
      videoSlots: this.options.limits.videoSlots,
    });
    this.rooms.set(name, room);
    room.on('joined', () => this.cancelIdle(name));
    room.on('left', () => {
      if (room.size === 0 && !room.closed) this.scheduleIdle(room);
    });
    room.on('chat', (message) => this.emit('chat', message));
    room.on('dtmf', (participant, digit) => this.emit('dtmf', name, participant, digit));
    room.once('closed', (reason) => {
      this.cancelIdle(name);
      if (this.rooms.get(name) === room) this.rooms.delete(name);
      this.emit('closed', name, reason);
    });
    this.scheduleIdle(room);
    this.emit('opened', room);
    return room;
  }

  get(name: string): Room | undefined {
    return this.rooms.get(name);
  }

  get size(): number {
    return this.rooms.size;
  }

  list(): RoomSnapshot[] {
    return [...this.rooms.values()].map((r) => r.snapshot());
  }

  /** Closes every room (shutdown). */
  async close(): Promise<void> {
    this.options.media.off('workerExit', this.onWorkerExit);
    this.options.media.off('levels', this.onLevels);
    await Promise.all([...this.rooms.values()].map((r) => r.close('server shutting down')));
  }

  private scheduleIdle(room: Room): void {
    this.cancelIdle(room.name);
    const timer = this.timers.setTimeout(() => {
      this.idle.delete(room.name);
      if (room.size === 0) void room.close('idle');
    }, this.options.limits.idleCloseMs ?? 60_000);
    timer.unref?.();
    this.idle.set(room.name, timer);
  }

  private cancelIdle(name: string): void {
    const timer = this.idle.get(name);
    if (timer !== undefined) {
      this.timers.clearTimeout(timer);
      this.idle.delete(name);
    }
  }
}
