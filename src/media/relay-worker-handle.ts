/**
 * Main-thread handle of one relay worker: request/reply over the worker channel, the latest
 * pushed counters with rates derived from them, and exit detection. The engine owns one per
 * worker slot and replaces it when the worker dies.
 */
import type { Worker } from 'node:worker_threads';
import { MediaError, isMediaErrorCode } from './errors.ts';
import type { EndpointEvent, LegId, MediaTimeoutReason, RelayEvent, RelayRequest, RelayTick, RelayWorkerConfig } from './relay-protocol.ts';
import { spawnWorker } from './spawn-worker.ts';
import { MessageBatcher, forEachMessage } from './message-batcher.ts';

const WORKER_ENTRY = new URL('./relay-worker.ts', import.meta.url);

/** `Omit` applied to each member of a union (plain `Omit` would merge the members). */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type RelayCommand = DistributiveOmit<RelayRequest, 'req'>;

export interface RelayWorkerHooks {
  onTimeout(legId: LegId, reason: MediaTimeoutReason): void;
  /** DTMF, player ended, endpoint error: forwarded as engine events. */
  onEndpointEvent(event: EndpointEvent): void;
  /** A ZRTP packet from a leg with ZRTP on. */
  onZrtp(legId: LegId, packet: Uint8Array): void;
  /** The worker died without `terminate()` being asked for. */
  onExit(handle: RelayWorkerHandle, code: number, error: Error | undefined): void;
  /** The worker is up; `nativeRelay` is null when plain relays go native, else why they do not. */
  onReady?(handle: RelayWorkerHandle, nativeRelay: string | null): void;
}

/** Rates over the last tick interval. */
export interface RelayWorkerLoad {
  index: number;
  legs: number;
  packetsInPerSecond: number;
  packetsOutPerSecond: number;
  bytesInPerSecond: number;
  bytesOutPerSecond: number;
  droppedPerSecond: number;
  /** CPU of the worker thread in % of one core, -1 when unknown. */
  cpuPercent: number;
  /** Cumulative CPU ms of the worker thread, -1 when unknown (for averages over any span). */
  cpuMs: number;
  /** Epoch ms when these figures arrived. */
  sampledAt: number;
  /** Decode-path clock since the worker started: ticks run (4 phase ticks per 20 ms frame), late (> 10 ms) and skipped ones. */
  clockTicks: number;
  lateTicks: number;
  skippedTicks: number;
  /** Sinks on the decode path (encoded legs, recorders). */
  decodeSinks: number;
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

const ZERO_TICK: RelayTick = {
  type: 'tick', legs: 0, packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, dropped: 0, cpuMs: -1,
  clockTicks: 0, lateTicks: 0, skippedTicks: 0, decodeSinks: 0, jitterLost: 0, jitterLate: 0, concealed: 0,
};

export class RelayWorkerHandle {
  /** Endpoints (legs, players, recorders) the engine placed on this worker, reserved at create time. */
  readonly legs = new Set<LegId>();
  /** Latest cumulative counters pushed by the worker. */
  lastTick: RelayTick = ZERO_TICK;
  load: RelayWorkerLoad;
  /** Resolves once the worker is listening; rejects if it dies first. */
  readonly ready: Promise<void>;
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private readonly outbox: MessageBatcher<RelayRequest>;
  private nextReq = 1;
  private lastTickAt = 0;
  /** The worker reached 'ready' at least once (a worker dying before that is not restarted). */
  isReady = false;
  private terminating = false;
  private exited = false;
  private error: Error | undefined;

  constructor(readonly index: number, config: RelayWorkerConfig, hooks: RelayWorkerHooks) {
    this.load = emptyLoad(index);
    // The relay allocates almost nothing per packet: a small young generation keeps each
    // worker's idle footprint low without costing scavenges on the hot path.
    this.worker = spawnWorker(WORKER_ENTRY, { workerData: config, name: `strowger-relay-${index}`, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
    let markReady!: () => void;
    let failReady!: (err: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failReady = reject;
    });
    // Nobody may be awaiting `ready` when the worker dies later; keep that from being unhandled.
    this.ready.catch(() => {});

    this.outbox = new MessageBatcher<RelayRequest>((m) => this.worker.postMessage(m));
    this.worker.on('message', (data: RelayEvent | RelayEvent[]) => forEachMessage(data, (event) => {
      switch (event.type) {
        case 'ready':
          this.isReady = true;
          hooks.onReady?.(this, event.nativeRelay);
          markReady();
          break;
        case 'reply':
          this.settle(event);
          break;
        case 'timeout':
          hooks.onTimeout(event.legId, event.reason);
          break;
        case 'endpoint':
          hooks.onEndpointEvent(event.event);
          break;
        case 'zrtp':
          hooks.onZrtp(event.legId, event.packet);
          break;
        case 'tick':
          this.onTick(event);
          break;
      }
    }));
    this.worker.on('error', (err) => {
      this.error = err;
    });
    this.worker.on('exit', (code) => {
      this.exited = true;
      const reason = this.terminating
        ? new MediaError('MEDIA_ERR_CLOSED')
        : new MediaError('MEDIA_ERR_WORKER_EXITED', { detail: `worker ${index} exit code ${code}`, cause: this.error });
      failReady(reason);
      for (const p of this.pending.values()) p.reject(reason);
      this.pending.clear();
      if (!this.terminating) hooks.onExit(this, code, this.error);
    });
  }

  /** Sends a command and resolves with the worker's result; rejects with a {@link MediaError}. */
  request<T>(command: RelayCommand): Promise<T> {
    if (this.exited) {
      return Promise.reject(
        this.terminating ? new MediaError('MEDIA_ERR_CLOSED') : new MediaError('MEDIA_ERR_WORKER_EXITED', { detail: `worker ${this.index}` }),
      );
    }
    const req = this.nextReq++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(req, { resolve: resolve as (value: unknown) => void, reject });
      this.outbox.send({ ...command, req } as RelayRequest);
    });
  }

  /**
   * Terminates the worker as if it had died: pending requests fail with
   * `MEDIA_ERR_WORKER_EXITED` and `onExit` runs (the engine reports the lost endpoints and
   * respawns the slot).
   */
  async kill(): Promise<void> {
    if (this.exited) return;
    this.error ??= new MediaError('MEDIA_ERR_WORKER_EXITED', { detail: `worker ${this.index} restarted on request` });
    await this.worker.terminate();
  }

  /** Stops the worker; its sockets close with its event loop. Idempotent. */
  async terminate(): Promise<void> {
    this.terminating = true;
    if (this.exited) return;
    await this.worker.terminate();
  }

  private settle(event: Extract<RelayEvent, { type: 'reply' }>): void {
    const p = this.pending.get(event.req);
    if (p === undefined) return;
    this.pending.delete(event.req);
    if (event.ok) {
      p.resolve(event.result);
    } else {
      p.reject(new MediaError(isMediaErrorCode(event.code) ? event.code : 'MEDIA_ERR_BIND', { detail: event.detail }));
    }
  }

  private onTick(tick: RelayTick): void {
    const now = performance.now();
    const prev = this.lastTick;
    const seconds = (now - this.lastTickAt) / 1000;
    if (this.lastTickAt > 0 && seconds > 0) {
      this.load = {
        index: this.index,
        legs: tick.legs,
        packetsInPerSecond: (tick.packetsIn - prev.packetsIn) / seconds,
        packetsOutPerSecond: (tick.packetsOut - prev.packetsOut) / seconds,
        bytesInPerSecond: (tick.bytesIn - prev.bytesIn) / seconds,
        bytesOutPerSecond: (tick.bytesOut - prev.bytesOut) / seconds,
        droppedPerSecond: (tick.dropped - prev.dropped) / seconds,
        cpuPercent: tick.cpuMs < 0 || prev.cpuMs < 0 ? -1 : ((tick.cpuMs - prev.cpuMs) / (seconds * 1000)) * 100,
        cpuMs: tick.cpuMs,
        sampledAt: Date.now(),
        clockTicks: tick.clockTicks,
        lateTicks: tick.lateTicks,
        skippedTicks: tick.skippedTicks,
        decodeSinks: tick.decodeSinks,
      };
    } else {
      this.load = {
        ...emptyLoad(this.index), legs: tick.legs, cpuMs: tick.cpuMs, sampledAt: Date.now(),
        clockTicks: tick.clockTicks, lateTicks: tick.lateTicks, skippedTicks: tick.skippedTicks, decodeSinks: tick.decodeSinks,
      };
    }
    this.lastTick = tick;
    this.lastTickAt = now;
  }
}

function emptyLoad(index: number): RelayWorkerLoad {
  return {
    index,
    legs: 0,
    packetsInPerSecond: 0,
    packetsOutPerSecond: 0,
    bytesInPerSecond: 0,
    bytesOutPerSecond: 0,
    droppedPerSecond: 0,
    cpuPercent: -1,
    cpuMs: -1,
    sampledAt: 0,
    clockTicks: 0,
    lateTicks: 0,
    skippedTicks: 0,
    decodeSinks: 0,
  };
}
