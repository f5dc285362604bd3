/**
 * The native pass-through relay (native/udp-relay/udp_relay.c) seen from a relay worker.
 *
 * A pair of bridged plain-RTP legs that only relay to each other ({@link eligiblePeer}) is
 * handed to the addon: the worker stops reading both RTP sockets (`recvStop`), the addon borrows
 * their descriptors and continues exactly where {@link RelayLeg.receiveRtp} left off — same
 * latches, same outgoing streams, same counters — in its own epoll thread, with recvmmsg /
 * sendmmsg batches and no JS per packet. Node keeps owning the sockets (port pool, close,
 * errors). Before anything changes either leg, the worker calls {@link NativeRelay.detach}: the
 * addon lets go under its mutex (no packet in flight once it returns), the state comes back into
 * the RelayLeg objects and JS reads the sockets again; {@link NativeRelay.reconcile} re-attaches
 * what is still eligible after the change.
 *
 * Counters stay readable while attached: the addon writes them into an ArrayBuffer per pair
 * and {@link NativeRelay.sync} copies them into the legs (tick, stats), no call per packet.
 * RTCP reaching a leg's separate RTCP socket (still read by JS) is handed to the addon, which
 * owns the RTCP latch and the sink's stream meanwhile.
 */
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { UdpFdHandle } from '../net/udp-direct.ts';
import type { RelayLeg, StreamCounters } from './relay-leg.ts';
import { parseThreadStatCpuMs } from './thread-cpu.ts';
import { RtpHeader, readRtpHeader } from './rtp-header.ts';

/** The addon's functions (udp_relay.c, "N-API"). */
export interface NativeRelayAddon {
  attach(state: Float64Array, addresses: string[], counters: ArrayBuffer, timeOffset: number): number;
  detach(handle: number, state: Float64Array): string[];
  peek(handle: number, state: Float64Array): string[];
  rtcp(handle: number, side: number, msg: Uint8Array, address: string, port: number): void;
  /** Telephone-event packets queued since the last call, as [handle, side, packet, ...]; undefined when none. */
  events(): Array<number | Buffer> | undefined;
  monotonicMs(): number;
  threadId(): number;
  layout(): { stateSize: number; counters: number; addresses: number };
  /** A close-on-exec duplicate of a descriptor, or -errno (registrar shards send on the SIP sockets with it). */
  dupFd(fd: number): number;
}

// Per-leg layout shared with udp_relay.c (its S_*, L_*, O_*, C_* enums).
const S_FD = 0;
const S_RTCP_FD = 1;
const S_REMOTE_RTP_PORT = 2;
const S_REMOTE_RTCP_PORT = 3;
const S_RTCP_MUX = 4;
const S_CODEC_PT = 5;
const S_EVENT_PT = 6;
const S_AUDIO_PT_OUT = 7;
const S_EVENT_PT_OUT = 8;
const S_CLOCK_RATE = 9;
const S_RTP_LATCH = 10;
const S_RTCP_LATCH = 18;
const S_OUT = 26;
const S_REPORT_EVENTS = 34;
const STATE_SIZE = 35;
/** Indexes of a latch block: latched, port, ssrc, windowEndsAt, lastAt, sdpPort, windowMs, relatchAfterMs. */
const L_LATCHED = 0, L_PORT = 1, L_SSRC = 2, L_WINDOW_ENDS_AT = 3, L_LAST_AT = 4, L_SDP_PORT = 5, L_WINDOW_MS = 6, L_RELATCH_AFTER_MS = 7;
/** Indexes of the out-stream block. */
const O_SSRC = 0, O_SEQ = 1, O_TS = 2, O_AT = 3, O_MAPPED = 4, O_SOURCE_SSRC = 5, O_SEQ_DELTA = 6, O_TS_DELTA = 7;
const ADDRESSES = 5;
const A_REMOTE = 0, A_RTP_LATCH = 1, A_RTP_SDP = 2, A_RTCP_LATCH = 3, A_RTCP_SDP = 4;
/** Counter block of one stream, then the leg's own counters. */
const C_LATCH_DROPPED = 7, C_LATCH_MOVES = 8;
const C_RTP = 0;
const C_RTCP = 9;
const C_UNKNOWN_PT = 18, C_SOCKET_ERRORS = 19, C_SWITCHES = 20;
const COUNTERS = 24;

/** Where the build script puts the addon, from src/media/ or dist/media/. */
const ADDON_PATH = new URL('../../native/udp-relay/build/udp_relay.node', import.meta.url);

/** The addon, or why it cannot be used (shown once per worker). */
export type NativeRelayLoad = { addon: NativeRelayAddon; reason: null } | { addon: null; reason: string };

/** Loads the addon; never throws. */
export function loadNativeRelay(path: URL = ADDON_PATH): NativeRelayLoad {
  if (process.platform !== 'linux') return { addon: null, reason: `not built for ${process.platform}` };
  if (!existsSync(path)) return { addon: null, reason: `${path.pathname} missing (npm ci runs scripts/build-native.mjs; it needs gcc and node_api.h)` };
  try {
    const addon = createRequire(import.meta.url)(path.pathname) as NativeRelayAddon;
    const l = addon.layout();
    if (l.stateSize !== STATE_SIZE || l.counters !== COUNTERS || l.addresses !== ADDRESSES) return { addon: null, reason: 'stale build (layout differs): run node scripts/build-native.mjs' };
    return { addon, reason: null };
  } catch (err) {
    return { addon: null, reason: `cannot load ${path.pathname}: ${(err as Error).message}` };
  }
}

/** The sockets of a leg, as the addon needs them: the RTP one is borrowed, the RTCP one only sent from. */
export interface LegHandles {
  rtp: UdpFdHandle;
  rtcp: UdpFdHandle;
}

interface Attached {
  legs: [RelayLeg, RelayLeg];
  handle: number;
  state: Float64Array;
  counters: Float64Array;
  /** Native socket errors already added to the legs. */
  socketErrors: [number, number];
  /** The remote addresses the addon was given. */
  remotes: [string, string];
  /** A leg's DTMF is listened to: its telephone-event packets come back through `events()`. */
  reportsEvents: boolean;
}

/** Pass-through parameters the addon copies at attach; a change means detach + attach. */
const scratchParams = new Float64Array(STATE_SIZE);

/**
 * The leg `leg` relays to when the pair can go native: each has exactly one pass edge, to the
 * other; nobody decodes either (listening for its RFC 4733 DTMF is fine: the addon hands those
 * packets to JS); no SRTP, no ZRTP; both have a remote and a codec (so PT filtering is
 * defined); both are sendrecv.
 */
export function eligiblePeer(leg: RelayLeg): RelayLeg | null {
  if (leg.passEdges.length !== 1) return null;
  const peer = leg.passEdges[0].to;
  if (peer === leg || peer.passEdges.length !== 1 || peer.passEdges[0].to !== leg) return null;
  return plain(leg) && plain(peer) ? peer : null;
}

function plain(l: RelayLeg): boolean {
  return (l.inbound === null || !l.inbound.listening) && l.srtp === null && l.zrtp === null && l.remote !== null && l.codec !== null && l.direction === 'sendrecv';
}

/** Writes the pass-through parameters of `leg` (relaying to its one edge) at `base`. */
function writeParams(leg: RelayLeg, s: Float64Array, base: number): void {
  const codec = leg.codec!;
  const edge = leg.passEdges[0];
  const remote = leg.remote!;
  s[base + S_REMOTE_RTP_PORT] = remote.rtpPort;
  s[base + S_REMOTE_RTCP_PORT] = remote.rtcpPort;
  s[base + S_RTCP_MUX] = remote.rtcpMux ? 1 : 0;
  s[base + S_CODEC_PT] = codec.pt;
  s[base + S_EVENT_PT] = codec.telephoneEventPt ?? -1;
  s[base + S_AUDIO_PT_OUT] = edge.audioPt;
  s[base + S_EVENT_PT_OUT] = edge.eventPt;
  s[base + S_CLOCK_RATE] = codec.clockRate;
  s[base + S_REPORT_EVENTS] = leg.inbound === null ? 0 : 1;
}

/** The parameters at `a[aBase]` are those at `b[bBase]` (per-leg blocks). */
function sameParams(a: Float64Array, aBase: number, b: Float64Array, bBase: number): boolean {
  for (let i = S_REMOTE_RTP_PORT; i <= S_CLOCK_RATE; i++) if (a[aBase + i] !== b[bBase + i]) return false;
  return a[aBase + S_REPORT_EVENTS] === b[bBase + S_REPORT_EVENTS];
}

/** The plain fields of a stream block, in the order of C_PACKETS_IN..C_DROPPED_UNROUTED; the latch's two follow. */
const STREAM_FIELDS = ['packetsIn', 'bytesIn', 'packetsOut', 'bytesOut', 'lastInAt', 'droppedInvalid', 'droppedUnrouted'] as const;

function writeCounters(s: StreamCounters, c: Float64Array, base: number): void {
  for (let i = 0; i < STREAM_FIELDS.length; i++) c[base + i] = s[STREAM_FIELDS[i]];
  c[base + C_LATCH_DROPPED] = s.latch.dropped;
  c[base + C_LATCH_MOVES] = s.latch.moves;
}

function readCounters(s: StreamCounters, c: Float64Array, base: number): void {
  for (let i = 0; i < STREAM_FIELDS.length; i++) s[STREAM_FIELDS[i]] = c[base + i];
  s.latch.dropped = c[base + C_LATCH_DROPPED];
  s.latch.moves = c[base + C_LATCH_MOVES];
}

function writeLatch(s: StreamCounters, st: Float64Array, base: number, addresses: string[], a: number, sdp: number): void {
  const l = s.latch.exportState();
  st[base + L_LATCHED] = l.latched ? 1 : 0;
  st[base + L_PORT] = l.port;
  st[base + L_SSRC] = l.ssrc;
  st[base + L_WINDOW_ENDS_AT] = l.windowEndsAt;
  st[base + L_LAST_AT] = l.lastAt;
  st[base + L_SDP_PORT] = l.sdpPort;
  st[base + L_WINDOW_MS] = l.windowMs;
  st[base + L_RELATCH_AFTER_MS] = l.relatchAfterMs;
  addresses[a] = l.address;
  addresses[sdp] = l.sdpAddress;
}

function readLatch(s: StreamCounters, st: Float64Array, base: number, address: string): void {
  const latched = st[base + L_LATCHED] !== 0;
  s.latch.importState({
    ...s.latch.exportState(),
    latched,
    address: latched ? address : '',
    port: st[base + L_PORT],
    ssrc: st[base + L_SSRC],
    windowEndsAt: st[base + L_WINDOW_ENDS_AT],
    lastAt: st[base + L_LAST_AT],
  });
}

/** How often JS collects the telephone-event packets of native pairs (DTMF is reported within this). */
const EVENTS_POLL_MS = 20;
const scratchHeader = new RtpHeader();

export class NativeRelay {
  private readonly attached = new Map<RelayLeg, Attached>();
  /** Attached pairs whose telephone-event packets JS collects (polled while there is one). */
  private readonly byHandle = new Map<number, Attached>();
  private poller: NodeJS.Timeout | null = null;
  /** CPU ms of relay threads already joined (the thread stops with the last pair), so {@link cpuMs} never goes back. */
  private retiredCpuMs = 0;

  /**
   * @param handles the libuv handles of a leg's sockets, null when unavailable (the leg stays in JS).
   */
  constructor(
    private readonly addon: NativeRelayAddon,
    private readonly handles: (leg: RelayLeg) => LegHandles | null,
  ) {}

  /** Pairs currently relayed by the addon. */
  get pairs(): number {
    return this.attached.size / 2;
  }

  isAttached(leg: RelayLeg): boolean {
    return this.attached.has(leg);
  }

  /**
   * Hands the pair `a` <-> `b` to the addon (caller checked {@link eligiblePeer}).
   * @returns false when the addon refused (an address it cannot take, a socket gone): JS keeps relaying.
   */
  attach(a: RelayLeg, b: RelayLeg): boolean {
    const ha = this.handles(a);
    const hb = this.handles(b);
    if (ha === null || hb === null) return false;
    const state = new Float64Array(2 * STATE_SIZE);
    const counters = new Float64Array(new ArrayBuffer(2 * COUNTERS * 8));
    const addresses: string[] = new Array<string>(2 * ADDRESSES);
    const legs: [RelayLeg, RelayLeg] = [a, b];
    const hs = [ha, hb];
    for (let side = 0; side < 2; side++) {
      const leg = legs[side];
      const s = side * STATE_SIZE;
      const c = side * COUNTERS;
      const at = side * ADDRESSES;
      state[s + S_FD] = hs[side].rtp.fd;
      state[s + S_RTCP_FD] = hs[side].rtcp.fd;
      writeParams(leg, state, s);
      addresses[at + A_REMOTE] = leg.remote!.address;
      writeLatch(leg.rtp, state, s + S_RTP_LATCH, addresses, at + A_RTP_LATCH, at + A_RTP_SDP);
      writeLatch(leg.rtcp, state, s + S_RTCP_LATCH, addresses, at + A_RTCP_LATCH, at + A_RTCP_SDP);
      const o = leg.out.exportState();
      state.set([o.ssrc, o.seq, o.ts, o.at, o.mapped ? 1 : 0, o.sourceSsrc, o.seqDelta, o.tsDelta], s + S_OUT);
      writeCounters(leg.rtp, counters, c + C_RTP);
      writeCounters(leg.rtcp, counters, c + C_RTCP);
      counters[c + C_UNKNOWN_PT] = leg.droppedUnknownPt;
      counters[c + C_SOCKET_ERRORS] = 0;
      counters[c + C_SWITCHES] = o.switches;
    }
    // Stop libuv first: a datagram is then read by exactly one of the two, JS before, native after.
    ha.rtp.recvStop();
    hb.rtp.recvStop();
    let handle: number;
    try {
      handle = this.addon.attach(state, addresses, counters.buffer as ArrayBuffer, performance.now() - this.addon.monotonicMs());
    } catch {
      ha.rtp.recvStart();
      hb.rtp.recvStart();
      return false;
    }
    const reportsEvents = state[S_REPORT_EVENTS] !== 0 || state[STATE_SIZE + S_REPORT_EVENTS] !== 0;
    const entry: Attached = { legs, handle, state, counters, socketErrors: [0, 0], remotes: [a.remote!.address, b.remote!.address], reportsEvents };
    this.attached.set(a, entry);
    this.attached.set(b, entry);
    if (reportsEvents) this.byHandle.set(handle, entry);
    if (reportsEvents && this.poller === null) {
      this.poller = setInterval(() => this.deliverEvents(), EVENTS_POLL_MS);
      this.poller.unref();
    }
    return true;
  }

  /** Takes the pair of `leg` back into JS (no-op when not attached); JS reads its sockets again. */
  detach(leg: RelayLeg): void {
    const entry = this.attached.get(leg);
    if (entry === undefined) return;
    const [a, b] = entry.legs;
    this.attached.delete(a);
    this.attached.delete(b);
    if (this.attached.size === 0) this.retiredCpuMs += this.threadCpuMs(); // the thread ends with this detach
    const latches = this.addon.detach(entry.handle, entry.state);
    if (entry.reportsEvents) this.deliverEvents(); // the last ones of this pair too
    this.byHandle.delete(entry.handle);
    if (this.byHandle.size === 0 && this.poller !== null) {
      clearInterval(this.poller);
      this.poller = null;
    }
    this.writeBack(entry, latches, true);
    for (const l of entry.legs) this.handles(l)?.rtp.recvStart();
  }

  /** Telephone-event packets the addon relayed, to the DTMF receivers of their legs (`RtpInbound.event`). */
  deliverEvents(): void {
    const events = this.addon.events();
    if (events === undefined) return;
    const now = performance.now();
    for (let i = 0; i + 2 < events.length; i += 3) {
      const entry = this.byHandle.get(events[i] as number);
      const inbound = entry?.legs[events[i + 1] as number].inbound;
      if (inbound == null) continue;
      const msg = events[i + 2] as Buffer;
      const offset = readRtpHeader(msg, scratchHeader);
      if (offset >= 0) inbound.event(scratchHeader, msg, offset, now);
    }
  }

  /** Detaches every pair (worker shutdown). */
  detachAll(): void {
    for (const leg of [...this.attached.keys()]) this.detach(leg);
  }

  /**
   * After a change of the graph: detaches the pairs no longer eligible (or whose codec, PT
   * rewrite or remote changed), and attaches the eligible ones that are not, once RTP has arrived
   * on either leg (the worker reconciles a leg again at its first packet).
   */
  reconcile(legs: Iterable<RelayLeg>): void {
    for (const leg of legs) {
      const entry = this.attached.get(leg);
      const peer = eligiblePeer(leg);
      if (entry !== undefined) {
        if (peer !== null && entry.legs.includes(peer) && this.unchanged(entry)) continue;
        this.detach(leg);
        if (peer === null) continue;
      } else if (peer === null || this.attached.has(peer)) {
        continue;
      }
      // Only once media flows: a call that never carries RTP (or not yet: set-up, early
      // signalling) is not worth a hand-over, and its set-up requests would undo it anyway.
      if (leg.rtp.packetsIn === 0 && peer.rtp.packetsIn === 0) continue;
      this.attach(leg, peer);
    }
  }

  /** Copies the native counters into the attached legs (for the tick's totals and timeouts). */
  sync(): void {
    for (const [leg, entry] of this.attached) if (entry.legs[0] === leg) this.writeBack(entry, null, false);
  }

  /** Brings the latches of `leg`'s pair up to date in JS too (for a stats snapshot); no-op when not attached. */
  peek(leg: RelayLeg): void {
    const entry = this.attached.get(leg);
    if (entry === undefined) return;
    this.writeBack(entry, this.addon.peek(entry.handle, entry.state), false);
  }

  /**
   * RTCP that reached the (JS-read) RTCP socket of `leg`: relayed by the addon when the leg is
   * attached (it owns the RTCP latch and the sink's stream meanwhile).
   * @returns false when the leg is not attached (JS handles it).
   */
  rtcp(leg: RelayLeg, msg: Buffer, address: string, port: number): boolean {
    const entry = this.attached.get(leg);
    if (entry === undefined) return false;
    this.addon.rtcp(entry.handle, entry.legs[0] === leg ? 0 : 1, msg, address, port);
    return true;
  }

  /** CPU ms of the addon's relay threads since the worker started (the worker adds it to its own). */
  cpuMs(): number {
    return this.retiredCpuMs + this.threadCpuMs();
  }

  /** CPU ms of the running relay thread, 0 when none runs. */
  private threadCpuMs(): number {
    const tid = this.addon.threadId();
    if (tid < 0) return 0;
    try {
      return Math.max(0, parseThreadStatCpuMs(readFileSync(`/proc/self/task/${tid}/stat`, 'latin1')));
    } catch {
      return 0;
    }
  }

  private unchanged(entry: Attached): boolean {
    for (let side = 0; side < 2; side++) {
      const leg = entry.legs[side];
      writeParams(leg, scratchParams, 0);
      if (!sameParams(scratchParams, 0, entry.state, side * STATE_SIZE) || leg.remote!.address !== entry.remotes[side]) return false;
    }
    return true;
  }

  /** Counters (and, given `latches` from detach/peek, the latches; with `streams`, the out streams) back into the legs. */
  private writeBack(entry: Attached, latches: string[] | null, streams: boolean): void {
    const { state, counters } = entry;
    for (let side = 0; side < 2; side++) {
      const leg = entry.legs[side];
      const s = side * STATE_SIZE;
      const c = side * COUNTERS;
      readCounters(leg.rtp, counters, c + C_RTP);
      readCounters(leg.rtcp, counters, c + C_RTCP);
      leg.droppedUnknownPt = counters[c + C_UNKNOWN_PT];
      const errors = counters[c + C_SOCKET_ERRORS];
      leg.socketErrors += errors - entry.socketErrors[side];
      entry.socketErrors[side] = errors;
      if (latches !== null) {
        readLatch(leg.rtp, state, s + S_RTP_LATCH, latches[side * 2]);
        readLatch(leg.rtcp, state, s + S_RTCP_LATCH, latches[side * 2 + 1]);
      }
      if (streams) {
        const o = s + S_OUT;
        leg.out.importState({
          ssrc: state[o + O_SSRC], seq: state[o + O_SEQ], ts: state[o + O_TS], at: state[o + O_AT],
          switches: counters[c + C_SWITCHES], mapped: state[o + O_MAPPED] !== 0,
          sourceSsrc: state[o + O_SOURCE_SSRC], seqDelta: state[o + O_SEQ_DELTA], tsDelta: state[o + O_TS_DELTA],
        });
      } else {
        leg.out.switches = counters[c + C_SWITCHES];
      }
    }
  }
}
