/**
 * Messages between the main thread ({@link MediaEngine}) and a relay worker. Control messages
 * are rare (a few per call), so they are plain structured-clone objects; packets never cross
 * the thread boundary.
 */
import type { MediaErrorCode } from './errors.ts';
import type { LegCodec } from './leg-codec.ts';
import type { LegMediaStats } from './media-graph.ts';
import type { PlayerSource } from './player.ts';
import type { DtmfDigit } from './tone.ts';
import type { LegSrtpStats, SrtpKeys } from './srtp/leg-srtp.ts';

/** Engine-wide leg identifier (unique across workers for the engine's lifetime). */
export type LegId = number;

/**
 * Media direction of a leg from the engine's point of view, i.e. the attribute we would put in
 * the SDP we send to that leg's endpoint (RFC 3264 §6.1): `sendonly` = we send to the endpoint
 * but ignore what it sends, `recvonly` = we take its media but send it nothing, `inactive` =
 * neither. A packet moves from leg X to its bridged leg Y only when X receives (sendrecv or
 * recvonly) and Y sends (sendrecv or sendonly). RTCP is relayed whatever the direction
 * (RFC 3264 §5.1: RTCP is still sent for inactive streams).
 */
export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export const MEDIA_DIRECTIONS: readonly MediaDirection[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];

/** Settings every worker gets at start (`workerData`). */
export interface RelayWorkerConfig {
  index: number;
  bindAddress: string;
  /** Address for legs created with family 6 when `bindAddress` is IPv4 (null: no IPv6 legs). */
  bindAddress6: string | null;
  latchWindowMs: number;
  relatchAfterMs: number;
  rtpTimeoutMs: number;
  /** An SRTP leg whose packets all fail authentication for this long emits `timeout` with reason `srtp_auth`; 0 = never. */
  srtpAuthTimeoutMs: number;
  tickMs: number;
  /** SO_RCVBUF/SO_SNDBUF for each leg socket; 0 keeps the OS default. */
  socketBufferBytes: number;
}

/** Remote media address as signalled in SDP, already normalised by the engine. */
export interface RemoteTarget {
  address: string;
  rtpPort: number;
  rtcpPort: number;
  /** RFC 5761: RTCP shares the RTP port; we then send our RTCP from the RTP socket too. */
  rtcpMux: boolean;
}

/**
 * Either side may send several messages as one array: control messages issued during one turn
 * of the event loop travel together (see `MessageBatcher`), which at thousands of call
 * set-ups per second saves most of the cross-thread wake-ups.
 */
export type RelayRequest =
  | { op: 'create'; req: number; legId: LegId; rtpPort: number; family: 4 | 6 }
  | { op: 'remote'; req: number; legId: LegId; remote: RemoteTarget }
  | { op: 'codec'; req: number; legId: LegId; codec: LegCodec | null }
  | { op: 'createPlayer'; req: number; id: LegId; source: PlayerSource; loop: boolean }
  | { op: 'createRecorder'; req: number; id: LegId; path: string; format: 'wav' | 'ogg-opus'; rate: number }
  | { op: 'stopRecorder'; req: number; id: LegId }
  | { op: 'connect'; req: number; sink: LegId; sources: LegId[] }
  | { op: 'bridge'; req: number; a: LegId; b: LegId }
  | { op: 'unbridge'; req: number; legId: LegId }
  | { op: 'direction'; req: number; legId: LegId; direction: MediaDirection }
  | { op: 'dtmf'; req: number; legId: LegId; digits: DtmfDigit[]; durationMs: number }
  | { op: 'release'; req: number; legId: LegId }
  | { op: 'stats'; req: number; legId: LegId }
  | { op: 'meter'; req: number; legId: LegId; on: boolean }
  | { op: 'srtp'; req: number; legId: LegId; keys: SrtpKeys | null }
  | { op: 'zrtp'; req: number; legId: LegId; enabled: boolean }
  | { op: 'zrtpSend'; req: number; legId: LegId; packet: Uint8Array };

/** Counters of one direction-agnostic stream (RTP or RTCP) of a leg. */
export interface StreamStats {
  /** Datagrams received on our socket for this stream, accepted or not. */
  packetsIn: number;
  bytesIn: number;
  /** Datagrams we sent to the leg's endpoint. */
  packetsOut: number;
  bytesOut: number;
  /** Wall-clock ms (epoch) of the last accepted packet from the endpoint, null if none. */
  lastPacketAt: number | null;
  /** Source we answer to, null until the first accepted packet. */
  latched: { address: string; port: number } | null;
  /** Dropped: from a source the latching rule refused (see `SourceLatch`). */
  droppedForeign: number;
  /** Dropped: not a valid RTP (or RTCP) packet. */
  droppedInvalid: number;
  /** Dropped: accepted but nowhere to go (no bridge, direction, or no target for the peer). */
  droppedUnrouted: number;
}

/** Snapshot returned by `engine.stats(legId)`. */
export interface LegStats {
  id: LegId;
  worker: number;
  rtpPort: number;
  rtcpPort: number;
  bridgedTo: LegId | null;
  direction: MediaDirection;
  remote: RemoteTarget | null;
  rtp: StreamStats;
  rtcp: StreamStats;
  /**
   * 'error' events of the leg's sockets. A send that fails at once (unreachable destination,
   * EINVAL) is dropped silently by dgram when no callback is given, and the hot path gives none
   * (a callback costs a nextTick per packet), so such sends show only as missing packets.
   */
  socketErrors: number;
  /** Codec, relay/transcode mode and decode-path counters (see `LegMediaStats`). */
  media: LegMediaStats;
  /** SDES-SRTP of the leg (suite, authentication failures dropped), null for plain RTP. */
  srtp: LegSrtpStats | null;
  /** ZRTP packets on the leg's RTP port (handed to the main thread, sent, over the rate limit); null when ZRTP is off. */
  zrtp: { packetsIn: number; packetsOut: number; dropped: number } | null;
  /** The leg's RTP is relayed by the native relay thread right now (native-relay.ts), not in JS. */
  native: boolean;
}

/** Worker-wide counters pushed every tick; the engine derives rates from their deltas. */
export interface RelayTick {
  type: 'tick';
  legs: number;
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
  dropped: number;
  /** CPU time of the worker thread (user + system) in ms, -1 when the OS does not tell. */
  cpuMs: number;
  /** 20 ms clock of the decode path (4 phase ticks per frame): ticks run, ticks late by more than half a frame, skipped. */
  clockTicks: number;
  lateTicks: number;
  skippedTicks: number;
  /** Sinks on the decode path now (legs we encode for, recorders). */
  decodeSinks: number;
  /** Decode path since start: packets its jitter buffers found lost or late, frames concealed. */
  jitterLost: number;
  jitterLate: number;
  concealed: number;
}

/** Something an endpoint reports to the engine (forwarded as an engine event of that name). */
export type EndpointEvent =
  | { type: 'dtmf'; legId: LegId; digit: string; durationMs: number; source: 'rfc4733' | 'inband' }
  | { type: 'ended'; id: LegId }
  | { type: 'error'; id: LegId; reason: string }
  /** Smoothed audio levels (dBFS) of the metered endpoints, every `levelsMs` while there are any. */
  | { type: 'levels'; levels: Array<[LegId, number]> };

export type RelayEvent =
  /** `nativeRelay`: null when plain relays go native, else why they stay in JS (logged once per worker). */
  | { type: 'ready'; nativeRelay: string | null }
  | { type: 'endpoint'; event: EndpointEvent }
  | { type: 'reply'; req: number; ok: true; result: unknown }
  | { type: 'reply'; req: number; ok: false; code: MediaErrorCode; detail: string }
  | { type: 'timeout'; legId: LegId; reason: MediaTimeoutReason }
  /** A ZRTP packet received on a leg with ZRTP on (RFC 6189: rare, a handshake per call). */
  | { type: 'zrtp'; legId: LegId; packet: Uint8Array }
  | RelayTick;

/** `rtp`: no RTP for rtpTimeoutMs; `srtp_auth`: only SRTP that failed authentication for srtpAuthTimeoutMs. */
export type MediaTimeoutReason = 'rtp' | 'srtp_auth';
