/**
 * The gateways of this node (seeds 000 and 001): Record, Streaming and SIP participants of
 * built-in rooms, keyed by the caller's `gw_id` and found by room. Each start writes a
 * `gateways` row and every change of state a `gateway_events` row, so `/gateway/status` can
 * answer for a gateway a restart ended (`ended`, never `running`: the server calls
 * `endOrphans` at start).
 *
 * The rules live here: one live gateway per `gw_id`, at most `max` live ones (`finalising`
 * counts: its file and mail still use the node), stop is idempotent, a runner that fails
 * leaves the room and the gateway shows `failed` with the reason.
 *
 * @example
 * const gateways = new GatewayService({ db, rooms, max: 50, logger, runners: gatewayRunners(deps) });
 * await gateways.start({ type: 'Record', room: 'standup', gwId: 'rec1', transcript: true });
 * await gateways.stop('rec1');   // 'finalising', then 'stopped' once mailed
 */
import type { Logger } from 'pino';
import type { Db } from '../store/db.ts';
import { addGatewayEvent, endOrphanGateways, insertGateway, latestGateway, updateGateway } from '../store/gateways.ts';
import type { GatewayRow } from '../store/schema.ts';
import type { RoomRegistry } from '../rooms/room-registry.ts';
import type { Room } from '../rooms/room.ts';
import { RoomError } from '../rooms/room-errors.ts';
import type { ParticipantSnapshot } from '../rooms/room-types.ts';
import { GatewayError } from './gateway-errors.ts';
import type { GatewayParams, GatewayRunner, GatewayState, GatewayTask } from './gateway-types.ts';
import type { GatewayRunners } from './gateway-runners.ts';
import type { ConferenceAdapter } from '../rooms/conference-adapter.ts';
import { ChatRelay } from './chat-relay.ts';
import type { ChatMessage } from '../rooms/room-types.ts';
import { externalSystemOf, openExternalRoom, type ConferenceSystems, type ExternalRoom, type ExternalSystem } from './external-room.ts';

export interface GatewayServiceOptions {
  db: Db;
  /** Absent on a node without media (HTTP-only): every start answers GW_UNAVAILABLE. */
  rooms?: RoomRegistry;
  /** Live gateways at most (`STROWGER_GATEWAYS_MAX`). */
  max: number;
  logger: Logger;
  /** Checks a start and makes the runner of each gateway kind. */
  runners: GatewayRunners;
  /** The adapter for an external system `webrtc_domain` names (WHIP/WHEP); absent: such starts answer GW_UNAVAILABLE. */
  conference?: (system: ExternalSystem) => ConferenceAdapter;
  /** External systems the operator configured, by domain (`STROWGER_CONFERENCE_SYSTEMS`). */
  systems?: ConferenceSystems;
}

/** A gateway as the APIs show it (plain data). */
export interface GatewaySnapshot {
  gw_id: string;
  type: string;
  room: string;
  processing_state: GatewayState;
  task: GatewayTask | null;
  /** Seconds recorded (Record), else null. */
  recording_time: number | null;
  /** Percent of the transcript done (Record with transcript), else null. */
  transcript_progress: number | null;
  participants: ParticipantSnapshot[];
  chat: boolean;
  /** The room's chat while the relay was on, oldest first (see `chat-relay.ts`). */
  chat_messages: ChatMessage[];
  started_at: string;
  ended_at: string | null;
  error: string | null;
  /** Kind-specific figures (RTMP retries, SIP URI…). */
  details: Record<string, unknown>;
}

interface Live {
  row: GatewayRow;
  params: GatewayParams;
  state: GatewayState;
  error: string | null;
  endedAt: string | null;
  runner: GatewayRunner | null;
  room: Room | null;
  /** The bridge to an external conference system, when `webrtc_domain` names one. */
  external: ExternalRoom | null;
  chat: ChatRelay | null;
  /** Settles when a stop has finished its work. */
  stopping: Promise<void> | null;
}

const LIVE: ReadonlySet<GatewayState> = new Set(['starting', 'running', 'finalising']);

export class GatewayService {
  private readonly gateways = new Map<string, Live>();
  private readonly chatOff = new Set<string>();
  private readonly log: Logger;
  private closing = false;

  constructor(private readonly o: GatewayServiceOptions) {
    this.log = o.logger.child({ component: 'gateways' });
  }

  /** Start-up: what a previous run left live is `ended` now. */
  endOrphans(): Promise<number> {
    return endOrphanGateways(this.o.db, 'the server restarted while the gateway was live');
  }

  get liveCount(): number {
    let n = 0;
    for (const g of this.gateways.values()) if (LIVE.has(g.state)) n++;
    return n;
  }

  /**
   * Starts a gateway and resolves once it is in its room.
   * @throws GatewayError GW_RUNNING, GW_CAPACITY, GW_UNAVAILABLE, GW_BAD_REQUEST, GW_UNAVAILABLE.
   */
  async start(params: GatewayParams): Promise<GatewaySnapshot> {
    const rooms = this.o.rooms;
    if (rooms === undefined || this.closing) throw new GatewayError('GW_UNAVAILABLE');
    const current = this.gateways.get(params.gwId);
    if (current !== undefined && LIVE.has(current.state)) throw new GatewayError('GW_RUNNING', `${params.gwId} is ${current.state}`);
    this.o.runners.check(params);
    const system = externalSystemOf(params.webrtcDomain, params.room, this.o.systems);
    if (system !== null && this.o.conference === undefined) throw new GatewayError('GW_UNAVAILABLE', 'this node reaches no external conference system (no WebRTC)');
    if (this.liveCount >= this.o.max) throw new GatewayError('GW_CAPACITY', `${this.o.max} gateways are live`);
    let room: Room;
    try {
      if (system === null) room = rooms.open(params.room);
    } catch (err) {
      if (err instanceof RoomError) throw new GatewayError(err.code === 'ROOM_LIMIT' ? 'GW_CAPACITY' : 'GW_BAD_REQUEST', err.message);
      throw err;
    }
    // Reserved before the first await: a second start of the same gw_id meanwhile gets GW_RUNNING.
    const placeholder = { state: 'starting' } as Live;
    this.gateways.set(params.gwId, placeholder);
    let live: Live | undefined;
    let external: ExternalRoom | null = null;
    try {
      if (system !== null) {
        external = await openExternalRoom(rooms, this.o.conference!(system), system, params.gwId, params.fromId || `gateway ${params.gwId}`);
        room = external.room;
      }
      const { gwId, ...rest } = params;
      const row = await insertGateway(this.o.db, { gwId, room: params.room, type: params.type, state: 'starting', params: rest });
      live = { row, params, state: 'starting', error: null, endedAt: null, runner: null, room: room!, external, chat: null, stopping: null };
      this.gateways.set(gwId, live);
      const g = live;
      // The external room going away (remote DELETE, media lost) ends the gateway; our own close comes after `running`.
      for (const l of external?.links ?? []) void l.ended.then((why) => { if (g.state === 'running') void this.fail(g, `the external conference link ended: ${why}`, 'failed'); });
      live.runner = this.o.runners.create(params, { rowId: row.id, failed: (reason) => void this.fail(g, reason, 'failed'), ended: (reason) => void this.fail(g, reason, 'stopped') });
      await live.runner.start(room!);
      live.chat = new ChatRelay(room!, () => this.chatEnabled(params.room));
      await this.setState(live, 'running');
      this.log.info({ gwId, type: params.type, room: params.room }, 'gateway started');
      return this.snapshotOf(live);
    } catch (err) {
      await external?.close().catch(() => {});
      if (live === undefined) this.gateways.delete(params.gwId);
      else await this.setState(live, 'failed', (err as Error).message).catch(() => {});
      if (err instanceof RoomError) throw new GatewayError(err.code === 'ROOM_FULL' ? 'GW_CAPACITY' : 'GW_BAD_REQUEST', err.message);
      throw err;
    }
  }

  /**
   * Stops a gateway: resolves with its state once it has left the room — `finalising` while a
   * recording is still closed, transcribed and mailed, else `stopped`. Idempotent.
   * @throws GatewayError GW_NOT_FOUND.
   */
  async stop(gwId: string): Promise<GatewaySnapshot> {
    const live = this.gateways.get(gwId);
    if (live === undefined || live.row === undefined) return this.status(gwId);
    if (live.state === 'running' || live.state === 'starting') {
      const { left, done } = live.runner?.stop() ?? { left: Promise.resolve(), done: Promise.resolve() };
      await this.setState(live, 'finalising');
      live.stopping = done.then(
        () => this.setState(live, 'stopped'),
        (err: Error) => this.setState(live, 'failed', err.message),
      ).catch((err) => this.log.error({ err, gwId }, 'gateway state not saved'));
      await left.catch(() => {});
      await live.external?.close().catch(() => {});
      // Nothing more to do after leaving (no file to finish): answer the final state at once.
      await Promise.race([live.stopping, new Promise((r) => setImmediate(r))]);
    }
    return this.snapshotOf(live);
  }

  /** Resolves when a stopping gateway has finished (tests, shutdown). */
  async settled(gwId: string): Promise<void> {
    await this.gateways.get(gwId)?.stopping;
  }

  /** Stops every live gateway of a room; resolves with what was stopped. */
  async stopRoom(room: string): Promise<GatewaySnapshot[]> {
    const ids = [...this.gateways.entries()].filter(([, g]) => g.row !== undefined && g.params.room === room && LIVE.has(g.state)).map(([id]) => id);
    return Promise.all(ids.map((id) => this.stop(id)));
  }

  /**
   * The current gateway of `gwId`, or the last one a previous run had.
   * @throws GatewayError GW_NOT_FOUND.
   */
  async status(gwId: string): Promise<GatewaySnapshot> {
    const live = this.gateways.get(gwId);
    if (live !== undefined && live.row !== undefined) return this.snapshotOf(live);
    const row = await latestGateway(this.o.db, gwId);
    if (row === undefined) throw new GatewayError('GW_NOT_FOUND', gwId);
    return snapshotOfRow(row);
  }

  /** The live gateway (for commands); GW_NOT_FOUND when there is none running. */
  running(gwId: string): { params: GatewayParams; room: Room; runner: GatewayRunner } {
    const live = this.gateways.get(gwId);
    if (live === undefined || live.state !== 'running' || live.room === null || live.runner === null) throw new GatewayError('GW_NOT_FOUND', `${gwId} is not running`);
    return { params: live.params, room: live.room, runner: live.runner };
  }

  /** Seed 000's chat toggle: whether the room's gateways relay the room chat (on by default). */
  setChat(room: string, on: boolean): void {
    if (on) this.chatOff.delete(room);
    else this.chatOff.add(room);
  }

  chatEnabled(room: string): boolean {
    return !this.chatOff.has(room);
  }

  /**
   * Shutdown: every live gateway leaves its room (a recording's file is closed) and is `ended`
   * — cut short by the server, not stopped by its caller; a transcript or mail not done yet is
   * not made.
   */
  async close(): Promise<void> {
    this.closing = true;
    const live = [...this.gateways.values()].filter((g) => g.row !== undefined && LIVE.has(g.state));
    await Promise.all(live.map(async (g) => {
      await g.runner?.stop().left.catch(() => {});
      await g.external?.close().catch(() => {});
      await this.setState(g, 'ended', 'the server shut down while the gateway was live').catch((err) => this.log.error({ err }, 'gateway state not saved'));
    }));
  }

  /** The runner ended on its own: `failed`, or `stopped` when nothing went wrong (far end hung up). */
  private async fail(live: Live, reason: string, state: 'failed' | 'stopped'): Promise<void> {
    if (!LIVE.has(live.state)) return;
    this.log.warn({ gwId: live.params.gwId, reason, state }, 'gateway ended by itself');
    await this.setState(live, state, reason);
    if (live.runner !== null) await live.runner.stop().done.catch(() => {});
    await live.external?.close().catch(() => {});
  }

  private async setState(live: Live, state: GatewayState, error: string | null = null): Promise<void> {
    if (live.state === state && error === null) return;
    // After shutdown marked it ended, a finishing stop must not overwrite that.
    if (live.state === 'ended') return;
    live.state = state;
    if (error !== null) live.error = error;
    const ended = !LIVE.has(state);
    if (ended) live.endedAt = new Date().toISOString();
    if (ended) live.chat?.detach();
    const figures = live.runner?.status() ?? {};
    await updateGateway(this.o.db, live.row.id, {
      state, error: live.error, ended_at: live.endedAt,
      recording_seconds: typeof figures.recording_time === 'number' ? figures.recording_time : null,
      recording_path: typeof figures.file === 'string' ? figures.file : null,
      transcript: typeof figures.transcript === 'string' ? figures.transcript : null,
    });
    await addGatewayEvent(this.o.db, live.row.id, state, error);
  }

  private snapshotOf(live: Live): GatewaySnapshot {
    const figures = live.runner?.status() ?? {};
    const { recording_time, transcript_progress, file: _file, transcript: _text, ...details } = figures;
    const inRoom = live.room !== null && !live.room.closed && LIVE.has(live.state);
    return {
      gw_id: live.params.gwId,
      type: live.params.type,
      room: live.params.room,
      processing_state: live.state,
      task: live.runner?.task ?? null,
      recording_time: typeof recording_time === 'number' ? recording_time : null,
      transcript_progress: typeof transcript_progress === 'number' ? transcript_progress : null,
      participants: inRoom ? live.room!.participants() : [],
      chat: this.chatEnabled(live.params.room),
      chat_messages: live.chat?.messages() ?? [],
      started_at: live.row.started_at,
      ended_at: live.endedAt,
      error: live.error,
      details: live.external === null ? details : { ...details, external: live.external.links.map((l) => ({ kind: l.participant.kind, remote: l.remote })) },
    };
  }
}

function snapshotOfRow(row: GatewayRow): GatewaySnapshot {
  const params = JSON.parse(row.params) as Partial<GatewayParams>;
  const task: GatewayTask = row.type === 'Record' ? (params.transcript ? 'record_transcript' : 'record') : row.type === 'Streaming' ? 'streaming' : 'sip';
  return {
    gw_id: row.gw_id, type: row.type, room: row.room, processing_state: row.state as GatewayState, task,
    recording_time: row.recording_seconds, transcript_progress: null, participants: [], chat: true, chat_messages: [],
    started_at: row.started_at, ended_at: row.ended_at, error: row.error, details: {},
  };
}
