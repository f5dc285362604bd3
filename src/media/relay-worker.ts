/**
 * Relay worker thread: owns the UDP sockets of its legs and moves packets between bridged legs
 * without the main thread (where SIP runs) ever seeing them. Started by {@link MediaEngine}
 * with a {@link RelayWorkerConfig} as `workerData`; speaks {@link RelayRequest} /
 * {@link RelayEvent} over `parentPort`.
 *
 * Every `tickMs` it checks RTP timeouts (coarse, never per packet) and pushes cumulative
 * counters plus its thread CPU time to the engine.
 */
import dgram from 'node:dgram';
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { bindUdp } from '../net/udp-bind.ts';
import type { LegId, RelayEvent, RelayRequest, RelayWorkerConfig } from './relay-protocol.ts';
import { RelayLeg } from './relay-leg.ts';
import { MediaGraph } from './media-graph.ts';
import { graphCodecs, graphResampler } from './graph-codecs.ts';
import { Player } from './player.ts';
import type { PlayerSource } from './player.ts';
import { openRecorder } from './recorder.ts';
import type { Recorder } from './recorder.ts';
import { threadCpuMs } from './thread-cpu.ts';
import { MediaError } from './errors.ts';
import { MessageBatcher, forEachMessage } from './message-batcher.ts';
import { directSender, onDatagram, udpFdHandle } from '../net/udp-direct.ts';
import { LegSrtp } from './srtp/leg-srtp.ts';
import { NativeRelay, loadNativeRelay } from './native-relay.ts';
import type { LegHandles } from './native-relay.ts';

/** `STROWGER_MEDIA_DIRECT_UDP=0`: the public dgram API (comparison; the worker inherits the env). */
const DIRECT_UDP = process.env.STROWGER_MEDIA_DIRECT_UDP !== '0';
/** `STROWGER_MEDIA_NATIVE_RELAY=0`: plain relays stay in JS (comparison; the worker inherits the env). */
const NATIVE_RELAY = process.env.STROWGER_MEDIA_NATIVE_RELAY !== '0';

const port = parentPort;
if (port === null) throw new Error('relay-worker.ts must run in a worker thread');
const config = workerData as RelayWorkerConfig;
const mainFamily: 4 | 6 = config.bindAddress.includes(':') ? 6 : 4;

interface LegSockets {
  rtp: dgram.Socket;
  rtcp: dgram.Socket;
}

/** How often metered levels go to the main thread (a speaker change shows within this). */
const LEVELS_MS = 200;
const legs = new Map<LegId, RelayLeg>();
/** Socket handles of each leg, for the native relay (absent when this Node hides them). */
const handlesOf = new Map<RelayLeg, LegHandles>();
const nativeLoad = NATIVE_RELAY ? loadNativeRelay() : { addon: null, reason: 'STROWGER_MEDIA_NATIVE_RELAY=0' };
/** Plain relays (see native-relay.ts `eligiblePeer`) run in its thread; null: everything in JS. */
const native = nativeLoad.addon === null ? null : new NativeRelay(nativeLoad.addon, (leg) => handlesOf.get(leg) ?? null);
/**
 * Pairs are handed (back) to the native relay once per turn of the event loop, after the turn's
 * requests: a call set-up is a handful of requests on the same two legs, often in one batch, and
 * attaching after each (descriptors duplicated, epoll registration, state copied) then detaching
 * before the next made the worker spend more on hand-overs than on the calls. A graph change may
 * make pairs other than the request's own plain or not (a recorder leaving a call), so the legs
 * the graph re-derived (the connected part of the change) are reconciled too.
 */
let reconcileScheduled = false;
const reconcileTouched = new Set<RelayLeg>();
function scheduleReconcile(touched: readonly RelayLeg[]): void {
  if (native === null) return;
  for (const leg of touched) reconcileTouched.add(leg);
  if (reconcileScheduled) return;
  reconcileScheduled = true;
  setImmediate(() => {
    reconcileScheduled = false;
    const pending = [...reconcileTouched].filter((l) => legs.get(l.id) === l);
    reconcileTouched.clear();
    native.reconcile(pending);
  });
}
const graph = new MediaGraph({
  onRecomputed: native === null ? undefined : scheduleReconcile,
  codecs: graphCodecs,
  resampler: graphResampler,
  onDtmf: (e) => send({ type: 'endpoint', event: { type: 'dtmf', legId: e.legId, digit: e.digit, durationMs: e.durationMs, source: e.source } }),
});
const recorders = new Map<LegId, Recorder>();
const others = new Set<LegId>();
const sockets = new Map<LegId, LegSockets>();
/** Counters of released legs, so the pushed totals never go backwards. */
const retired = { packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, dropped: 0 };

/**
 * Every address the relay sends to is an IP literal (validated by the engine, or taken from a
 * received datagram), so dgram's default `dns.lookup` round (a nextTick and an options object
 * per send) is skipped by answering synchronously.
 */
function literalLookup4(address: string, family: unknown, callback: (err: null, address: string, family: number) => void): void {
  callback(null, address, 4);
}

function literalLookup6(address: string, family: unknown, callback: (err: null, address: string, family: number) => void): void {
  callback(null, address, 6);
}

/** Address a leg of `family` binds to: the main bind address, or the IPv6 one for IPv6 legs. */
function bindAddressOf(family: 4 | 6): string {
  if (family === mainFamily) return config.bindAddress;
  if (family === 6 && config.bindAddress6 !== null) return config.bindAddress6;
  throw new MediaError('MEDIA_ERR_BAD_OPTION', { detail: `no bind address for IPv${family} legs` });
}

const outbox = new MessageBatcher<RelayEvent>((m) => port!.postMessage(m));

function send(event: RelayEvent): void {
  outbox.send(event);
}

function openSocket(portNumber: number, family: 4 | 6): Promise<dgram.Socket> {
  const address = bindAddressOf(family);
  const six = address.includes(':');
  const socket = dgram.createSocket({
    type: six ? 'udp6' : 'udp4',
    lookup: (six ? literalLookup6 : literalLookup4) as unknown as dgram.SocketOptions['lookup'],
    ...(config.socketBufferBytes > 0
      ? { recvBufferSize: config.socketBufferBytes, sendBufferSize: config.socketBufferBytes }
      : {}),
  });
  return bindUdp(socket, address, portNumber).then(() => socket);
}

function closeSocket(socket: dgram.Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

async function createLeg(legId: LegId, rtpPort: number, family: 4 | 6): Promise<{ bound: boolean }> {
  let rtp: dgram.Socket;
  try {
    rtp = await openSocket(rtpPort, family);
  } catch (err) {
    return bindFailure(err, rtpPort, family);
  }
  let rtcp: dgram.Socket;
  try {
    rtcp = await openSocket(rtpPort + 1, family);
  } catch (err) {
    await closeSocket(rtp);
    return bindFailure(err, rtpPort + 1, family);
  }
  const leg = new RelayLeg(legId, rtpPort, { send: directSender(rtp, DIRECT_UDP) }, { send: directSender(rtcp, DIRECT_UDP) }, config.latchWindowMs, config.relatchAfterMs);
  // Sending to an unreachable destination surfaces here (or not at all): count, never crash.
  const onError = (): void => {
    leg.socketErrors++;
  };
  rtp.on('error', onError);
  rtcp.on('error', onError);
  onDatagram(rtp, (msg, address, from) => {
    leg.receiveRtp(msg, address, from, performance.now());
    // Media started: the pair may go native now (see scheduleReconcile).
    if (leg.rtp.packetsIn === 1) scheduleReconcile([leg]);
  }, DIRECT_UDP);
  onDatagram(rtcp, (msg, address, from) => {
    // While the pair is native, the addon owns the RTCP latch and the sink's stream.
    if (native === null || !native.rtcp(leg, msg, address, from)) leg.receiveRtcp(msg, address, from, performance.now());
  }, DIRECT_UDP);
  const rtpHandle = udpFdHandle(rtp);
  const rtcpHandle = udpFdHandle(rtcp);
  if (rtpHandle !== null && rtcpHandle !== null) handlesOf.set(leg, { rtp: rtpHandle, rtcp: rtcpHandle });
  legs.set(legId, leg);
  sockets.set(legId, { rtp, rtcp });
  graph.addLeg(leg);
  return { bound: true };
}

function bindFailure(err: unknown, portNumber: number, family: 4 | 6): { bound: boolean } {
  if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') return { bound: false };
  if (err instanceof MediaError) throw err;
  throw new MediaError('MEDIA_ERR_BIND', { detail: `${bindAddressOf(family)}:${portNumber}`, cause: err });
}

function graphNode(id: LegId): void {
  if (!graph.has(id)) throw new MediaError('MEDIA_ERR_LEG_NOT_FOUND', { detail: `endpoint ${id} in worker ${config.index}` });
}

function legOf(legId: LegId): RelayLeg {
  const leg = legs.get(legId);
  if (leg === undefined) throw new MediaError('MEDIA_ERR_LEG_NOT_FOUND', { detail: `leg ${legId} in worker ${config.index}` });
  return leg;
}

async function createPlayer(id: LegId, source: PlayerSource, loop: boolean): Promise<null> {
  const player = await Player.open(source, loop, {
    ended: () => send({ type: 'endpoint', event: { type: 'ended', id } }),
    error: (reason) => send({ type: 'endpoint', event: { type: 'error', id, reason } }),
  });
  graph.addSource(id, player);
  others.add(id);
  return null;
}

async function createRecorder(id: LegId, path: string, format: 'wav' | 'ogg-opus', rate: number): Promise<null> {
  let recorder: Recorder;
  try {
    recorder = await openRecorder(format, path, rate, (reason) => send({ type: 'endpoint', event: { type: 'error', id, reason } }));
  } catch (err) {
    throw new MediaError('MEDIA_ERR_BAD_OPTION', { detail: `recorder ${path}: ${(err as Error).message}`, cause: err });
  }
  graph.addSink(id, recorder);
  recorders.set(id, recorder);
  others.add(id);
  return null;
}

/** Detaches a recorder and resolves once its file is complete. */
async function stopRecorder(id: LegId): Promise<null> {
  const recorder = recorders.get(id);
  if (recorder === undefined) throw new MediaError('MEDIA_ERR_LEG_NOT_FOUND', { detail: `recorder ${id} in worker ${config.index}` });
  recorders.delete(id);
  others.delete(id);
  graph.remove(id); // its close() starts the stop; await the same completion
  await recorder.stop();
  return null;
}

async function releaseLeg(legId: LegId): Promise<null> {
  if (others.has(legId)) {
    if (recorders.has(legId)) return stopRecorder(legId);
    others.delete(legId);
    graph.remove(legId);
    return null;
  }
  const leg = legOf(legId);
  native?.detach(leg);
  graph.remove(legId);
  legs.delete(legId);
  handlesOf.delete(leg);
  retired.packetsIn += leg.rtp.packetsIn + leg.rtcp.packetsIn;
  retired.packetsOut += leg.rtp.packetsOut + leg.rtcp.packetsOut;
  retired.bytesIn += leg.rtp.bytesIn + leg.rtcp.bytesIn;
  retired.bytesOut += leg.rtp.bytesOut + leg.rtcp.bytesOut;
  retired.dropped += droppedOf(leg);
  const pair = sockets.get(legId)!;
  sockets.delete(legId);
  // Reply only once both sockets are closed, so the engine can hand the ports out again.
  await Promise.all([closeSocket(pair.rtp), closeSocket(pair.rtcp)]);
  return null;
}

/** New keys replace the contexts; the same keys again (re-INVITE) keep their ROC and replay state. */
function setSrtp(leg: RelayLeg, keys: LegSrtp['keys'] | null): void {
  if (keys === null) { leg.srtp = null; return; }
  if (leg.srtp !== null && leg.srtp.sameAs(keys)) return;
  try {
    leg.srtp = new LegSrtp(keys);
  } catch (err) {
    throw new MediaError('MEDIA_ERR_BAD_OPTION', { detail: `SRTP of leg ${leg.id}: ${(err as Error).message}` });
  }
}

function droppedOf(leg: RelayLeg): number {
  const { rtp, rtcp } = leg;
  return rtp.latch.dropped + rtp.droppedInvalid + rtp.droppedUnrouted + leg.droppedUnknownPt +
    rtcp.latch.dropped + rtcp.droppedInvalid + rtcp.droppedUnrouted + (leg.srtp === null ? 0 : leg.srtp.dropped);
}

/**
 * Runs a request. The RTP legs it changes are first taken back from the native relay (their
 * state into JS, JS reads their sockets again), and handed back at the end of the turn if they
 * still form a plain relay pair; a graph change also reconciles the legs it re-derived (`onRecomputed`).
 */
async function handle(msg: RelayRequest): Promise<unknown> {
  if (native === null) return dispatch(msg);
  const touched: RelayLeg[] = [];
  for (const id of changedBy(msg)) {
    const leg = legs.get(id);
    if (leg === undefined) continue;
    native.detach(leg);
    touched.push(leg);
  }
  try {
    return await dispatch(msg);
  } finally {
    if (touched.length > 0) scheduleReconcile(touched);
  }
}

async function dispatch(msg: RelayRequest): Promise<unknown> {
  const now = performance.now();
  switch (msg.op) {
    case 'create':
      return createLeg(msg.legId, msg.rtpPort, msg.family);
    case 'remote':
      legOf(msg.legId).setRemote(msg.remote, now);
      return null;
    case 'createPlayer':
      return createPlayer(msg.id, msg.source, msg.loop);
    case 'createRecorder':
      return createRecorder(msg.id, msg.path, msg.format, msg.rate);
    case 'stopRecorder':
      return stopRecorder(msg.id);
    case 'codec':
      legOf(msg.legId);
      graph.setCodec(msg.legId, msg.codec);
      return null;
    case 'connect':
      graphNode(msg.sink);
      for (const s of msg.sources) graphNode(s);
      graph.connect(msg.sink, msg.sources);
      return null;
    case 'bridge':
      legOf(msg.a);
      legOf(msg.b);
      graph.bridge(msg.a, msg.b, now);
      return null;
    case 'unbridge':
      legOf(msg.legId);
      graph.unbridge(msg.legId);
      return null;
    case 'direction':
      legOf(msg.legId).setDirection(msg.direction, now);
      return null;
    case 'dtmf':
      legOf(msg.legId);
      try {
        graph.sendDtmf(msg.legId, msg.digits, msg.durationMs);
      } catch (err) {
        throw new MediaError('MEDIA_ERR_BAD_OPTION', { detail: (err as Error).message });
      }
      return null;
    case 'srtp':
      setSrtp(legOf(msg.legId), msg.keys);
      return null;
    case 'zrtp': {
      const leg = legOf(msg.legId);
      const legId = msg.legId;
      // Copied: the packet crosses to the main thread, where the handshake runs (zrtp-service.ts).
      leg.zrtp = msg.enabled ? (packet) => send({ type: 'zrtp', legId, packet: Uint8Array.prototype.slice.call(packet) }) : null;
      return null;
    }
    case 'zrtpSend': {
      const p = msg.packet;
      return legOf(msg.legId).transmitZrtp(Buffer.from(p.buffer, p.byteOffset, p.byteLength));
    }
    case 'release':
      return releaseLeg(msg.legId);
    case 'meter':
      graphNode(msg.legId);
      graph.setMetered(msg.legId, msg.on);
      return null;
    case 'stats': {
      const leg = legOf(msg.legId);
      native?.peek(leg);
      return leg.snapshot(config.index, performance.timeOrigin, graph.stats(msg.legId), native !== null && native.isAttached(leg));
    }
  }
}

/** The endpoints a request changes (see {@link handle}); reads and creations change none. */
function changedBy(msg: RelayRequest): LegId[] {
  switch (msg.op) {
    case 'remote': case 'codec': case 'direction': case 'dtmf': case 'srtp': case 'zrtp': case 'zrtpSend': case 'release': case 'unbridge': case 'meter':
      return [msg.legId];
    case 'connect':
      return [msg.sink, ...msg.sources];
    case 'bridge':
      return [msg.a, msg.b];
    default:
      return [];
  }
}

port.on('message', (data: RelayRequest | RelayRequest[]) => forEachMessage(data, onRequest));

function onRequest(msg: RelayRequest): void {
  handle(msg).then(
    (result) => send({ type: 'reply', req: msg.req, ok: true, result }),
    (err: unknown) => {
      const code = err instanceof MediaError ? err.code : 'MEDIA_ERR_BIND';
      send({ type: 'reply', req: msg.req, ok: false, code, detail: err instanceof Error ? err.message : String(err) });
    },
  );
}

function tick(): void {
  const now = performance.now();
  native?.sync();
  let packetsIn = retired.packetsIn;
  let packetsOut = retired.packetsOut;
  let bytesIn = retired.bytesIn;
  let bytesOut = retired.bytesOut;
  let dropped = retired.dropped;
  for (const leg of legs.values()) {
    if (leg.checkTimeout(now, config.rtpTimeoutMs)) send({ type: 'timeout', legId: leg.id, reason: 'rtp' });
    if (leg.srtp !== null && config.srtpAuthTimeoutMs > 0 && leg.srtp.checkAuthFailing(now, config.srtpAuthTimeoutMs)) send({ type: 'timeout', legId: leg.id, reason: 'srtp_auth' });
    packetsIn += leg.rtp.packetsIn + leg.rtcp.packetsIn;
    packetsOut += leg.rtp.packetsOut + leg.rtcp.packetsOut;
    bytesIn += leg.rtp.bytesIn + leg.rtcp.bytesIn;
    bytesOut += leg.rtp.bytesOut + leg.rtcp.bytesOut;
    dropped += droppedOf(leg);
  }
  // RFC 4733 events of relay-only calls whose end packets were lost (the 20 ms clock does
  // this for decoded calls, but relay-only calls run no clock).
  graph.pollDtmf();
  const clock = graph.clock;
  const jitter = graph.jitterTotals();
  send({
    type: 'tick', legs: legs.size, packetsIn, packetsOut, bytesIn, bytesOut, dropped, cpuMs: cpuMs(),
    clockTicks: clock.ticks, lateTicks: clock.lateTicks, skippedTicks: clock.skippedTicks, decodeSinks: graph.decodeSinks,
    jitterLost: jitter.lost, jitterLate: jitter.late, concealed: jitter.concealed,
  });
}

/** This thread's CPU plus the native relay thread's (it works for this worker). */
function cpuMs(): number {
  const own = threadCpuMs();
  return own < 0 || native === null ? own : own + native.cpuMs();
}

setInterval(tick, config.tickMs);
// Levels for active-speaker detection: only while some endpoint is metered (rooms).
setInterval(() => {
  if (graph.meteredCount > 0) send({ type: 'endpoint', event: { type: 'levels', levels: graph.levels() } });
}, LEVELS_MS);
send({ type: 'ready', nativeRelay: nativeLoad.reason });
