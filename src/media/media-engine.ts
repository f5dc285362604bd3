/**
 * Main-thread handle of the RTP relay. The B2BUA anchors each call's media here: every call leg
 * gets an RTP/RTCP port pair, the SDP is rewritten to our address, and packets arriving on one
 * leg leave from its bridged leg's ports towards that leg's endpoint, without decoding.
 *
 * Packets never touch this thread: each leg lives in one of N relay workers (one per core by
 * default), which owns its sockets. A call's legs are created together (`createLegPair`) or
 * with a placement hint (`{ near }`) so their bridge stays inside one worker; legs of
 * different workers are bridged through a loopback link (`worker-link.ts`).
 *
 * Worker crash: the engine emits `workerExit` with the ids of the legs that died with it. Those
 * legs are gone (their sockets closed with the thread, their ports return to the pool, later
 * calls on their ids throw `MEDIA_ERR_LEG_NOT_FOUND`, `releaseLeg` answers false); a fresh
 * worker takes the slot, so new legs keep working. The B2BUA is expected to end those calls.
 */
import { EventEmitter } from 'node:events';
import os from 'node:os';
import { MediaError } from './errors.ts';
import { PortPool } from './port-pool.ts';
import { PlacementGroups } from './placement-groups.ts';
import { engineAddresses, positiveOption, remoteTarget } from './media-addresses.ts';
import { MEDIA_DIRECTIONS } from './relay-protocol.ts';
import { validateLegCodec } from './leg-codec.ts';
import { isDtmfDigit } from './tone.ts';
import type { DtmfDigit } from './tone.ts';
import type { LegCodec } from './leg-codec.ts';
import type { LegId, LegStats, MediaDirection, RelayTick, RelayWorkerConfig } from './relay-protocol.ts';
import { RelayWorkerHandle } from './relay-worker-handle.ts';
import { WorkerLinks } from './worker-link.ts';
import type { SrtpKeys } from './srtp/leg-srtp.ts';

export type { LegCodec } from './leg-codec.ts';
export type { MediaEngineOptions, LegInfo, RemoteOptions, CreateLegOptions, CreatePlayerOptions, CreateRecorderOptions, EndpointInfo, MediaTotals, WorkerExitInfo, DtmfEvent, MediaEngineEvents } from './media-engine-types.ts';
import type { MediaEngineOptions, LegInfo, RemoteOptions, CreateLegOptions, CreatePlayerOptions, CreateRecorderOptions, EndpointInfo, MediaTotals, WorkerExitInfo, DtmfEvent, MediaEngineEvents } from './media-engine-types.ts';

interface LegEntry {
  worker: number;
  family: 4 | 6;
  /** RTP port of a leg, -1 for players and recorders. */
  rtpPort: number;
  group: string | null;
  /** The codec last set (`setCodec`), for links between workers. */
  codec?: LegCodec | null;
}

/**
 * Starts the relay workers and resolves once they all listen.
 *
 * @example
 * const engine = await createMediaEngine({ portRange: [10000, 20000], bindAddress: '0.0.0.0' });
 * const [a, b] = await engine.createLegPair();
 * await engine.setRemote(a.id, { address: '192.0.2.10', rtpPort: 4000 });
 * await engine.setRemote(b.id, { address: '198.51.100.7', rtpPort: 5004 });
 * await engine.bridge(a.id, b.id);
 * engine.on('timeout', (legId) => hangUpCallOf(legId));
 */
export async function createMediaEngine(options: MediaEngineOptions): Promise<MediaEngine> {
  const engine = new MediaEngine(options);
  try {
    await engine.started;
  } catch (err) {
    await engine.close();
    throw err;
  }
  return engine;
}

export class MediaEngine extends EventEmitter<MediaEngineEvents> {
  readonly bindAddress: string;
  readonly advertisedAddress: string;
  /** Local address of IPv6 legs on an IPv4 engine, null when there are none. */
  readonly bindAddress6: string | null;
  readonly advertisedAddress6: string | null;
  /** Resolves when every worker is ready. */
  readonly started: Promise<void>;
  private readonly pool: PortPool;
  private readonly config: Omit<RelayWorkerConfig, 'index'>;
  private readonly slots: RelayWorkerHandle[] = [];
  private readonly legs = new Map<LegId, LegEntry>();
  /** Last reported level of metered endpoints (`meter`), dBFS. */
  private readonly levelDb = new Map<LegId, number>();
  private readonly groups = new PlacementGroups();
  private readonly ipv6: boolean;
  private nextLegId = 1;
  private closing: Promise<void> | null = null;
  private readonly links: WorkerLinks;
  private readonly log: (message: string) => void;

  constructor(options: MediaEngineOptions) {
    super();
    this.log = options.log ?? (() => {});
    const [min, max] = options.portRange;
    this.pool = new PortPool(min, max);
    const addresses = engineAddresses(options);
    this.bindAddress = addresses.bindAddress;
    this.ipv6 = addresses.ipv6;
    this.advertisedAddress = addresses.advertisedAddress;
    this.bindAddress6 = addresses.bindAddress6;
    this.advertisedAddress6 = addresses.advertisedAddress6;
    const workers = options.workers ?? os.availableParallelism();
    if (!Number.isInteger(workers) || workers < 1) throw new MediaError('MEDIA_ERR_BAD_OPTION', { detail: `workers = ${workers}` });
    const latchWindowMs = positiveOption('latchWindowMs', options.latchWindowMs ?? 3000);
    this.config = {
      bindAddress: this.bindAddress,
      bindAddress6: this.bindAddress6,
      latchWindowMs,
      relatchAfterMs: positiveOption('relatchAfterMs', options.relatchAfterMs ?? 2000),
      rtpTimeoutMs: positiveOption('rtpTimeoutMs', options.rtpTimeoutMs ?? 60000),
      srtpAuthTimeoutMs: options.srtpAuthTimeoutMs ?? 10_000,
      tickMs: positiveOption('tickMs', options.tickMs ?? 1000),
      socketBufferBytes: options.socketBufferBytes ?? 0,
    };
    for (let i = 0; i < workers; i++) this.slots.push(this.spawn(i));
    this.started = Promise.all(this.slots.map((s) => s.ready)).then(() => undefined);
    // Callers await `started` (createMediaEngine does); this only keeps an unawaited failure quiet.
    this.started.catch(() => {});
    const wildcard = this.bindAddress === '0.0.0.0' || this.bindAddress === '::';
    this.links = new WorkerLinks({
      address: wildcard ? (this.ipv6 ? '::1' : '127.0.0.1') : this.bindAddress,
      workerOf: (id) => this.entry(id).worker,
      codecOf: (id) => this.legs.get(id)?.codec ?? null,
      createIn: (worker, group) => this.createOn(this.slots[worker], group ?? null, this.ipv6 ? 6 : 4),
      setRemote: (id, remote) => this.setRemote(id, remote),
      setCodec: (id, codec) => this.setCodec(id, codec),
      bridgeIn: async (a, b) => { await this.slots[this.sameWorker([a, b])].request({ op: 'bridge', a, b }); },
      release: (id) => this.releaseLeg(id),
    });
  }

  /**
   * Binds a new RTP/RTCP pair in the least loaded worker (or next to `options.near`).
   * @throws MediaError `MEDIA_ERR_PORTS_EXHAUSTED`, `MEDIA_ERR_BIND`, `MEDIA_ERR_LEG_NOT_FOUND`
   *   (unknown `near`), `MEDIA_ERR_CLOSED`.
   */
  async createLeg(options: CreateLegOptions = {}): Promise<LegInfo> {
    this.assertOpen();
    return this.createOn(this.place(options), options.group ?? null, this.familyOf(options.family));
  }

  /**
   * Two legs in the same worker, ready to be bridged (both released if either fails); `families`
   * as in {@link CreateLegOptions.family}. Both are bound in one round trip to the worker: a
   * call's set-up waits for one reply instead of two in turn.
   */
  async createLegPair(families: readonly [(4 | 6)?, (4 | 6)?] = []): Promise<[LegInfo, LegInfo]> {
    this.assertOpen();
    const fa = this.familyOf(families[0]);
    const fb = this.familyOf(families[1]);
    const slot = this.leastLoaded();
    const [a, b] = await Promise.allSettled([this.createOn(slot, null, fa), this.createOn(slot, null, fb)]);
    if (a.status === 'fulfilled' && b.status === 'fulfilled') return [a.value, b.value];
    for (const leg of [a, b]) if (leg.status === 'fulfilled') await this.releaseLeg(leg.value.id);
    throw (a.status === 'rejected' ? a.reason : (b as PromiseRejectedResult).reason) as Error;
  }

  /** The address family of a new leg: `family`, else the engine's. @throws MediaError `MEDIA_ERR_BAD_OPTION` for one it cannot bind. */
  private familyOf(requested: (4 | 6) | undefined): 4 | 6 {
    const family = requested ?? (this.ipv6 ? 6 : 4);
    if (family !== 4 && family !== 6) throw new MediaError('MEDIA_ERR_BAD_OPTION', { detail: `family ${String(family)}` });
    if (family === 6 && !this.ipv6 && this.bindAddress6 === null) {
      throw new MediaError('MEDIA_ERR_BAD_OPTION', { detail: `IPv6 leg requested but no bindAddress6 for bindAddress ${this.bindAddress}` });
    }
    if (family === 4 && this.ipv6 && this.bindAddress !== '::') {
      // A udp6 socket reaches IPv4 peers only when bound to the wildcard (dual stack).
      throw new MediaError('MEDIA_ERR_BAD_OPTION', { detail: `IPv4 leg requested on an engine bound to ${this.bindAddress}` });
    }
    return family;
  }

  /**
   * Sets where the leg's endpoint wants media (from its SDP). Packets go there until the latch
   * finds where the endpoint really sends from (see `SourceLatch`); a changed address restarts
   * latching.
   * @throws MediaError `MEDIA_ERR_BAD_ADDRESS`, `MEDIA_ERR_BAD_PORT`, `MEDIA_ERR_LEG_NOT_FOUND`.
   */
  async setRemote(legId: LegId, remote: RemoteOptions): Promise<void> {
    const entry = this.entry(legId);
    const target = remoteTarget(remote, entry.family === 6);
    await this.slots[entry.worker].request({ op: 'remote', legId, remote: target });
  }

  /**
   * Relays `a` <-> `b`. A leg already bridged elsewhere leaves its old partner first. Legs of
   * different workers are joined through a link (`worker-link.ts`).
   * @throws MediaError `MEDIA_ERR_SELF_BRIDGE`, `MEDIA_ERR_LEG_NOT_FOUND`.
   */
  async bridge(a: LegId, b: LegId): Promise<void> {
    if (a === b) throw new MediaError('MEDIA_ERR_SELF_BRIDGE', { detail: `leg ${a}` });
    if (this.entry(a).worker !== this.entry(b).worker) { await this.links.bridge(a, b); return; }
    await Promise.all([this.links.drop(a), this.links.drop(b)]);
    await this.slots[this.entry(a).worker].request({ op: 'bridge', a, b });
  }

  /**
   * What the leg negotiated (what we send to it and accept from it). With settings, RTP of any
   * other payload type is dropped and counted (`droppedUnknownPt`); the leg can be decoded,
   * mixed and transcoded. `null` makes it pass-through only again.
   * @throws MediaError `MEDIA_ERR_BAD_OPTION`, `MEDIA_ERR_LEG_NOT_FOUND`.
   */
  async setCodec(legId: LegId, codec: LegCodec | null): Promise<void> {
    const entry = this.entry(legId);
    let settings: LegCodec | null = null;
    if (codec !== null) {
      settings = {
        pt: codec.pt,
        name: codec.name,
        clockRate: codec.clockRate,
        channels: codec.channels ?? 1,
        fmtp: codec.fmtp ?? null,
        telephoneEventPt: codec.telephoneEventPt ?? null,
        ptime: codec.ptime ?? 20,
      };
      try {
        validateLegCodec(settings);
      } catch (err) {
        throw new MediaError('MEDIA_ERR_BAD_OPTION', { detail: `codec of leg ${legId}: ${(err as Error).message}` });
      }
    }
    await this.slots[entry.worker].request({ op: 'codec', legId, codec: settings });
    entry.codec = settings;
    await this.links.codecChanged(legId);
  }

  /**
   * SDES-SRTP for a leg (`null`: plain RTP again). What the leg receives is unprotected with
   * `rxKey` (the endpoint's key) before latching and relaying, failures counted in
   * `stats(legId).srtp` and dropped; what it sends is protected with `txKey` (ours) last.
   * Setting the same keys again keeps the running contexts (a re-INVITE repeating the SDP).
   * @throws MediaError `MEDIA_ERR_BAD_OPTION` (unknown suite, wrong key length), `MEDIA_ERR_LEG_NOT_FOUND`.
   */
  async setSrtp(legId: LegId, keys: SrtpKeys | null): Promise<void> {
    await this.slotOf(legId).request({ op: 'srtp', legId, keys });
  }

  /**
   * ZRTP on a leg: packets with the ZRTP cookie on its RTP port are emitted as `zrtp` events
   * (rate-limited in the worker) instead of being counted invalid. The handshake is a few
   * packets per call, so it runs on this thread; RTP never comes here.
   */
  async setZrtp(legId: LegId, enabled: boolean): Promise<void> {
    await this.slotOf(legId).request({ op: 'zrtp', legId, enabled });
  }

  /**
   * Sends a framed ZRTP packet to the leg's endpoint (where its RTP goes), unprotected.
   * @returns false when the leg has no remote yet (nothing was sent).
   */
  async sendZrtp(legId: LegId, packet: Uint8Array): Promise<boolean> {
    return this.slotOf(legId).request<boolean>({ op: 'zrtpSend', legId, packet });
  }

  /**
   * What `sink` hears from now on: the mix of `sources` (replacing what it heard before; `[]`
   * silences it). Legs, players and recorders may be sinks or sources as their kind allows.
   * A leg hearing one leg of the same codec is relayed without decoding; anything else goes
   * through the worker's decode -> mix -> encode path.
   * @throws MediaError `MEDIA_ERR_CROSS_WORKER` (place them with the same `group`),
   *   `MEDIA_ERR_SELF_BRIDGE`, `MEDIA_ERR_LEG_NOT_FOUND`.
   */
  async connect(sink: LegId, sources: readonly LegId[]): Promise<void> {
    if (sources.includes(sink)) throw new MediaError('MEDIA_ERR_SELF_BRIDGE', { detail: `endpoint ${sink} cannot hear itself` });
    const worker = this.sameWorker([sink, ...sources]);
    await this.slots[worker].request({ op: 'connect', sink, sources: [...sources] });
  }

  /**
   * Measures an endpoint's audio level while it is decoded as a source (a room member; see
   * `level-meter.ts`); `levelOf` and the `levels` event report it. Off again with `on` false.
   */
  async meter(id: LegId, on: boolean): Promise<void> {
    const slot = this.slotOf(id);
    if (!on) this.levelDb.delete(id);
    await slot.request({ op: 'meter', legId: id, on });
  }

  /** The last reported level (dBFS) of a metered endpoint; undefined before the first report. */
  levelOf(id: LegId): number | undefined {
    return this.levelDb.get(id);
  }

  /** Whether an endpoint (leg, player, recorder) exists: not released, not lost with a worker. */
  has(id: LegId): boolean {
    return this.legs.has(id);
  }

  /**
   * Pins placement `group` to a worker before any endpoint exists (a room that members join
   * from anywhere): until `releaseGroup`, endpoints created with the group land there.
   * @returns the group's worker.
   */
  reserveGroup(group: string): number {
    this.assertOpen();
    const worker = this.place({ group }).index;
    this.groups.join(group, worker);
    return worker;
  }

  /** Ends a `reserveGroup` pin; the group is forgotten with its last endpoint. */
  releaseGroup(group: string): void {
    const worker = this.groups.workerOf(group);
    if (worker !== undefined) this.groups.leave(group, worker);
  }

  /** The worker of a placement group, undefined when the group has no endpoint (or pin). */
  groupWorker(group: string): number | undefined {
    return this.groups.workerOf(group);
  }

  /**
   * The endpoint that represents `legId` in `group`'s worker: the leg itself when it lives
   * there, else a stand-in (`worker-link.ts`) that the group's mixer can connect like its own
   * legs. Release a stand-in (`releaseLeg`) when done with it; the leg itself is the caller's.
   * @throws MediaError `MEDIA_ERR_BAD_OPTION` (group without a worker), `MEDIA_ERR_LEG_NOT_FOUND`.
   */
  async standIn(legId: LegId, group: string): Promise<LegId> {
    const worker = this.groupWorker(group);
    if (worker === undefined) throw new MediaError('MEDIA_ERR_BAD_OPTION', { detail: `placement group "${group}" has no worker` });
    if (this.entry(legId).worker === worker) return legId;
    return this.links.standIn(legId, worker, group);
  }

  /**
   * A player endpoint: a frame source others can hear (`connect(leg, [player.id])`). A missing
   * or corrupt file gives silence and an `endpointError` event, never a failure here; a player that
   * does not loop emits `ended` at the end of its file. Release it with `releaseLeg`.
   */
  async createPlayer(options: CreatePlayerOptions): Promise<EndpointInfo> {
    this.assertOpen();
    const slot = this.place(options);
    return this.createEndpoint(slot, options.group ?? null, (id) =>
      slot.request({ op: 'createPlayer', id, source: options.source, loop: options.loop ?? false }));
  }

  /**
   * A recorder endpoint writing what it hears (`connect(recorder.id, [a, b])`) to `path`
   * (16-bit mono WAV at `rate`, default 16000; or Ogg-Opus, default 48000). `stopRecorder` resolves once the file is complete.
   * @throws MediaError `MEDIA_ERR_BAD_OPTION` (file cannot be created, format unavailable).
   */
  async createRecorder(options: CreateRecorderOptions): Promise<EndpointInfo> {
    this.assertOpen();
    const slot = this.place(options);
    const rate = options.rate ?? (options.format === 'ogg-opus' ? 48000 : 16000);
    if (![8000, 16000, 48000].includes(rate)) throw new MediaError('MEDIA_ERR_BAD_OPTION', { detail: `recorder rate ${rate}` });
    return this.createEndpoint(slot, options.group ?? null, (id) =>
      slot.request({ op: 'createRecorder', id, path: options.path, format: options.format ?? 'wav', rate }));
  }

  /** Stops a recorder and resolves once its file is complete on disk; the endpoint is gone after. */
  async stopRecorder(id: LegId): Promise<void> {
    const entry = this.entry(id);
    this.legs.delete(id);
    this.levelDb.delete(id);
    this.groups.leave(entry.group, entry.worker);
    const slot = this.slots[entry.worker];
    slot.legs.delete(id);
    await slot.request({ op: 'stopRecorder', id });
  }

  private async createEndpoint(slot: RelayWorkerHandle, group: string | null, create: (id: LegId) => Promise<unknown>): Promise<EndpointInfo> {
    const id = this.nextLegId++;
    slot.legs.add(id);
    this.groups.join(group, slot.index);
    const entry: LegEntry = { worker: slot.index, family: 4, rtpPort: -1, group };
    try {
      await create(id);
    } catch (err) {
      slot.legs.delete(id);
      this.groups.leave(entry.group, entry.worker);
      throw err;
    }
    if (!slot.legs.has(id)) throw new MediaError('MEDIA_ERR_WORKER_EXITED', { detail: `worker ${slot.index} while creating endpoint ${id}` });
    this.legs.set(id, entry);
    return { id, worker: slot.index };
  }

  /**
   * Terminates worker `index` as a crash would: its endpoints are reported lost through
   * `workerExit`, their ports freed, and a fresh worker takes the slot. For operators (a stuck
   * worker) and for tests of crash handling.
   */
  async restartWorker(index: number): Promise<void> {
    this.assertOpen();
    const slot = this.slots[index];
    if (slot === undefined) throw new MediaError('MEDIA_ERR_BAD_OPTION', { detail: `worker ${index} of ${this.slots.length}` });
    const exited = new Promise<void>((resolve) => {
      const onExit = (info: WorkerExitInfo): void => {
        if (info.worker !== index) return;
        this.off('workerExit', onExit);
        resolve();
      };
      this.on('workerExit', onExit);
    });
    await slot.kill();
    await exited;
  }

  /** Stops relaying between `legId` and its partner (both sides). No-op when not bridged. */
  async unbridge(legId: LegId): Promise<void> {
    const entry = this.entry(legId);
    await this.links.drop(legId);
    await this.slots[entry.worker].request({ op: 'unbridge', legId });
  }

  /**
   * Plays `digits` (0-9, *, #, A-D; case-insensitive) to a leg's endpoint, each `durationMs`
   * long with 80 ms between them: RFC 4733 telephone-events when the leg negotiated
   * telephone-event (`setCodec`), else Q.23 tones in its audio. Resolves once queued, not once
   * played. A relayed leg is sent our own stream while the digits play, then relayed again.
   * @throws MediaError `MEDIA_ERR_BAD_OPTION` (bad digit or duration, leg without codec
   *   settings), `MEDIA_ERR_LEG_NOT_FOUND`.
   * @example
   * await engine.sendDtmf(callee.id, '1234#'); // IVR / call API
   */
  async sendDtmf(legId: LegId, digits: string, durationMs = 100): Promise<void> {
    const list: DtmfDigit[] = [];
    for (const ch of digits.toUpperCase()) {
      if (!isDtmfDigit(ch)) throw new MediaError('MEDIA_ERR_BAD_OPTION', { detail: `DTMF digit "${ch}"` });
      list.push(ch);
    }
    if (list.length === 0) throw new MediaError('MEDIA_ERR_BAD_OPTION', { detail: 'no DTMF digits' });
    // Q.24 receivers need >= 40 ms; 8 s is beyond any key press (callers clamp, e.g. SIP INFO).
    if (!Number.isFinite(durationMs) || durationMs < 40 || durationMs > 8000) {
      throw new MediaError('MEDIA_ERR_BAD_OPTION', { detail: `DTMF duration ${durationMs} ms (40..8000)` });
    }
    await this.slotOf(legId).request({ op: 'dtmf', legId, digits: list, durationMs });
  }

  /** Hold/mute: see {@link MediaDirection} for which packets each direction lets through. */
  async setDirection(legId: LegId, direction: MediaDirection): Promise<void> {
    if (!MEDIA_DIRECTIONS.includes(direction)) throw new MediaError('MEDIA_ERR_BAD_OPTION', { detail: `direction "${direction}"` });
    await this.slotOf(legId).request({ op: 'direction', legId, direction });
  }

  /**
   * Closes the leg's sockets (unbridging it) and returns its ports to the pool.
   * @returns false when the leg is unknown (already released, or lost with a crashed worker).
   */
  async releaseLeg(legId: LegId): Promise<boolean> {
    const entry = this.legs.get(legId);
    if (entry === undefined) return false;
    this.legs.delete(legId);
    this.levelDb.delete(legId);
    this.groups.leave(entry.group, entry.worker);
    const slot = this.slots[entry.worker];
    slot.legs.delete(legId);
    void this.links.drop(legId);
    try {
      await slot.request({ op: 'release', legId });
    } catch (err) {
      // A worker that exited took the sockets with it: the ports are free either way.
      if (!(err instanceof MediaError) || (err.code !== 'MEDIA_ERR_WORKER_EXITED' && err.code !== 'MEDIA_ERR_CLOSED')) throw err;
    } finally {
      if (entry.rtpPort >= 0) this.pool.release(entry.rtpPort);
    }
    return true;
  }

  /** Counters of one leg, read from its worker. */
  async stats(legId: LegId): Promise<LegStats> {
    return this.slotOf(legId).request<LegStats>({ op: 'stats', legId });
  }

  /** Engine-wide figures; rates cover the last `tickMs`. Synchronous: no worker round trip. */
  totals(): MediaTotals {
    const totals: MediaTotals = {
      workers: this.slots.length,
      legs: this.legs.size,
      portsInUse: this.pool.pairsInUse * 2,
      portPairsInUse: this.pool.pairsInUse,
      portPairsFree: this.pool.pairsFree,
      packetsInPerSecond: 0,
      packetsOutPerSecond: 0,
      bytesInPerSecond: 0,
      bytesOutPerSecond: 0,
      droppedPerSecond: 0,
      perWorker: [],
    };
    for (const slot of this.slots) {
      const load = slot.load;
      totals.packetsInPerSecond += load.packetsInPerSecond;
      totals.packetsOutPerSecond += load.packetsOutPerSecond;
      totals.bytesInPerSecond += load.bytesInPerSecond;
      totals.bytesOutPerSecond += load.bytesOutPerSecond;
      totals.droppedPerSecond += load.droppedPerSecond;
      totals.perWorker.push({ ...load });
    }
    return totals;
  }

  /**
   * Each worker's cumulative counters as of its last tick (once a second), for metrics;
   * a replaced worker starts again from 0.
   */
  workerCounters(): readonly RelayTick[] {
    return this.slots.map((s) => s.lastTick);
  }

  /** Terminates every worker (closing all sockets) and frees every port. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all(this.slots.map((s) => s.terminate()));
      for (const entry of this.legs.values()) if (entry.rtpPort >= 0) this.pool.release(entry.rtpPort);
      this.legs.clear();
      this.groups.clear();
      for (const slot of this.slots) slot.legs.clear();
    })();
    return this.closing;
  }

  private spawn(index: number): RelayWorkerHandle {
    return new RelayWorkerHandle(index, { ...this.config, index }, {
      onTimeout: (legId, reason) => {
        if (this.legs.has(legId) && !this.links.isLinkLeg(legId)) this.emit('timeout', legId, reason);
      },
      onExit: (handle, code, error) => this.onWorkerExit(handle, code, error),
      onReady: (handle, nativeRelay) => this.log(nativeRelay === null
        ? `media worker ${handle.index}: plain relays run in the native relay thread`
        : `media worker ${handle.index}: native relay not used (${nativeRelay}); relaying in JS`),
      onZrtp: (legId, packet) => {
        if (this.legs.has(legId)) this.emit('zrtp', legId, Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength));
      },
      onEndpointEvent: (event) => {
        switch (event.type) {
          case 'dtmf':
            if (this.known(event.legId)) this.emit('dtmf', { legId: event.legId, digit: event.digit, durationMs: event.durationMs, source: event.source });
            break;
          case 'ended':
            if (this.known(event.id)) this.emit('ended', event.id);
            break;
          case 'error':
            if (this.known(event.id)) this.emit('endpointError', { id: event.id, reason: event.reason });
            break;
          case 'levels':
            for (const [id, db] of event.levels) if (this.legs.has(id)) this.levelDb.set(id, db);
            this.emit('levels', index, event.levels);
            break;
        }
      },
    });
  }

  private onWorkerExit(handle: RelayWorkerHandle, code: number, error: Error | undefined): void {
    const lostLegs = [...handle.legs];
    handle.legs.clear();
    for (const legId of lostLegs) {
      const entry = this.legs.get(legId);
      if (entry === undefined) continue;
      this.legs.delete(legId);
      this.levelDb.delete(legId);
      this.groups.leave(entry.group, entry.worker);
      if (entry.rtpPort >= 0) this.pool.release(entry.rtpPort);
    }
    this.groups.dropWorker(handle.index);
    this.links.lost(lostLegs);
    // Restart only a worker that had started: one dying at start-up would die again, forever.
    if (this.closing === null && handle.isReady && this.slots[handle.index] === handle) {
      this.slots[handle.index] = this.spawn(handle.index);
    }
    this.emit('workerExit', { worker: handle.index, code, error, lostLegs });
  }

  /** An endpoint that exists or is being created (its events may precede the create reply). */
  private known(id: LegId): boolean {
    if (this.legs.has(id)) return true;
    for (const slot of this.slots) if (slot.legs.has(id)) return true;
    return false;
  }

  /** The worker of `near`, else of the group, else the least loaded one. */
  private place(options: { near?: LegId; group?: string }): RelayWorkerHandle {
    if (options.near !== undefined) return this.slots[this.entry(options.near).worker];
    if (options.group !== undefined) {
      const worker = this.groups.workerOf(options.group);
      if (worker !== undefined) return this.slots[worker];
    }
    return this.leastLoaded();
  }

  /** The worker all `ids` live in. @throws MediaError `MEDIA_ERR_CROSS_WORKER`. */
  private sameWorker(ids: readonly LegId[]): number {
    const first = this.entry(ids[0]);
    for (let i = 1; i < ids.length; i++) {
      const e = this.entry(ids[i]);
      if (e.worker !== first.worker) {
        throw new MediaError('MEDIA_ERR_CROSS_WORKER', { detail: `endpoint ${ids[0]} in worker ${first.worker}, endpoint ${ids[i]} in worker ${e.worker}` });
      }
    }
    return first.worker;
  }

  private async createOn(slot: RelayWorkerHandle, group: string | null, family: 4 | 6): Promise<LegInfo> {
    const legId = this.nextLegId++;
    slot.legs.add(legId);
    this.groups.join(group, slot.index);
    let rtpPort: number;
    try {
      rtpPort = await this.pool.acquire(async (port) => {
        const result = await slot.request<{ bound: boolean }>({ op: 'create', legId, rtpPort: port, family });
        return result.bound;
      });
    } catch (err) {
      slot.legs.delete(legId);
      this.groups.leave(group, slot.index);
      throw err;
    }
    if (!slot.legs.has(legId)) {
      // The worker died between its reply and now; nothing is bound any more.
      this.pool.release(rtpPort);
      throw new MediaError('MEDIA_ERR_WORKER_EXITED', { detail: `worker ${slot.index} while creating leg ${legId}` });
    }
    this.legs.set(legId, { worker: slot.index, family, rtpPort, group });
    const address = family === 6 && !this.ipv6 ? this.advertisedAddress6! : this.advertisedAddress;
    return { id: legId, rtpPort, rtcpPort: rtpPort + 1, address, worker: slot.index, family };
  }

  private leastLoaded(): RelayWorkerHandle {
    let best = this.slots[0];
    for (const slot of this.slots) if (slot.legs.size < best.legs.size) best = slot;
    return best;
  }

  /** The worker an endpoint lives in. @throws MediaError `MEDIA_ERR_LEG_NOT_FOUND`. */
  private slotOf(legId: LegId): RelayWorkerHandle {
    return this.slots[this.entry(legId).worker];
  }

  private entry(legId: LegId): LegEntry {
    this.assertOpen();
    const entry = this.legs.get(legId);
    if (entry === undefined) throw new MediaError('MEDIA_ERR_LEG_NOT_FOUND', { detail: `leg ${legId}` });
    return entry;
  }

  private assertOpen(): void {
    if (this.closing !== null) throw new MediaError('MEDIA_ERR_CLOSED');
  }
}
