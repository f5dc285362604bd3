/**
 * The media engine's public types: options, what its calls answer, and its events
 * (`media-engine.ts` re-exports them).
 */
import type { DtmfDigit } from './tone.ts';
import type { LegCodec } from './leg-codec.ts';
import type { PlayerSource } from './player.ts';
import type { LegId, MediaTimeoutReason } from './relay-protocol.ts';
import type { RelayWorkerLoad } from './relay-worker-handle.ts';

export interface MediaEngineOptions {
  /** Inclusive port range for RTP/RTCP pairs (`STROWGER_RTP_PORTS`, e.g. [10000, 20000]). */
  portRange: [number, number];
  /** Local address the sockets bind to. Default `0.0.0.0`; an IPv6 literal makes udp6 sockets. */
  bindAddress?: string;
  /**
   * Address handed back by `createLeg` for the SDP (`STROWGER_PUBLIC_IP`). Default: the bind
   * address, or for a wildcard bind the first non-internal interface address of that family.
   */
  advertisedAddress?: string;
  /**
   * Local address of legs created with `family: 6` when `bindAddress` is IPv4 (IPv6 callers,
   * `c=IN IP6`). Default: `::1` for a 127.0.0.1 bind, `::` for a wildcard bind, none otherwise
   * (then `family: 6` fails with MEDIA_ERR_BAD_OPTION).
   */
  bindAddress6?: string;
  /** Address handed back for IPv6 legs. Default: like `advertisedAddress`, for `bindAddress6`. */
  advertisedAddress6?: string;
  /** Relay worker threads. Default `os.availableParallelism()`. */
  workers?: number;
  /** A bridged leg that expects RTP and got none for this long emits `timeout`. Default 60000. */
  rtpTimeoutMs?: number;
  /** An SRTP leg receiving only packets that fail authentication for this long emits `timeout` (reason `srtp_auth`). Default 10000; 0 = never. */
  srtpAuthTimeoutMs?: number;
  /** Latching window after a leg's first packet (see `SourceLatch`). Default 3000. */
  latchWindowMs?: number;
  /** Silence of the latched source after which another source may take over. Default 2000. */
  relatchAfterMs?: number;
  /** Period of timeout checks and counter pushes. Default 1000. */
  tickMs?: number;
  /** SO_RCVBUF/SO_SNDBUF of each leg socket in bytes; 0 (default) keeps the OS default. */
  socketBufferBytes?: number;
  /**
   * Start-up notes, once per worker (and per restart): whether plain relays run in the native
   * relay thread (`STROWGER_MEDIA_NATIVE_RELAY`, native-relay.ts) or why they stay in JS.
   */
  log?: (message: string) => void;
}

/** What the B2BUA puts into the SDP it sends for this leg (c= address, m= port, a=rtcp). */
export interface LegInfo {
  id: LegId;
  rtpPort: number;
  rtcpPort: number;
  address: string;
  /** Worker the leg lives in; bridge partners must share it. */
  worker: number;
  /** IP family of the leg's sockets (and of `address`). */
  family: 4 | 6;
}

export interface RemoteOptions {
  /** The endpoint's media address from its SDP (c= line), an IP literal. */
  address: string;
  /** The endpoint's RTP port (m= line). */
  rtpPort: number;
  /** The endpoint's RTCP port (`a=rtcp`, RFC 3605). Default rtpPort + 1, or rtpPort with mux. */
  rtcpPort?: number;
  /** RFC 5761 rtcp-mux negotiated. Default: true when rtcpPort equals rtpPort. */
  rtcpMux?: boolean;
}

export interface CreateLegOptions {
  /** Place the new leg in the same worker as this one, so the two can be bridged. */
  near?: LegId;
  /**
   * Placement group (a call id, a room id): every endpoint of a group lives in the same worker,
   * so they can always be connected. The group is forgotten when its last endpoint is released.
   */
  group?: string;
  /**
   * IP family of the leg's sockets: that of the remote's SDP address (`c=IN IP4` / `IP6`).
   * Legs of different families bridge like any others. Default: the family of `bindAddress`.
   */
  family?: 4 | 6;
}

export interface CreatePlayerOptions {
  group?: string;
  near?: LegId;
  /** A WAV file (any rate, mixed down to mono) or a synthesised tone. */
  source: PlayerSource;
  /** Start again at the end (music on hold). Default false: `ended` is emitted at the end. */
  loop?: boolean;
}

export interface CreateRecorderOptions {
  group?: string;
  near?: LegId;
  path: string;
  /** Default 'wav' (16-bit mono); 'ogg-opus': mono Opus in Ogg (RFC 7845). */
  format?: 'wav' | 'ogg-opus';
  /** PCM rate of the file: 8000, 16000 (default) or 48000. */
  rate?: number;
}

/** A player or recorder: its id (for connect/release) and worker. */
export interface EndpointInfo {
  id: LegId;
  worker: number;
}

/** Codec settings of a leg, as negotiated in its SDP (see `LegCodec`). */

/** Engine-wide figures for `/api/system/status` and `/metrics`. */
export interface MediaTotals {
  workers: number;
  legs: number;
  /** Ports bound by legs (two per leg). */
  portsInUse: number;
  portPairsInUse: number;
  portPairsFree: number;
  packetsInPerSecond: number;
  packetsOutPerSecond: number;
  bytesInPerSecond: number;
  bytesOutPerSecond: number;
  droppedPerSecond: number;
  perWorker: RelayWorkerLoad[];
}

export interface WorkerExitInfo {
  worker: number;
  code: number;
  error: Error | undefined;
  /** Legs that lived in the worker and no longer exist. */
  lostLegs: LegId[];
}

export interface DtmfEvent {
  legId: LegId;
  digit: string;
  durationMs: number;
  source: 'rfc4733' | 'inband';
}

export interface MediaEngineEvents {
  /** No RTP arrived on a bridged leg for `rtpTimeoutMs` (checked every `tickMs`). */
  timeout: [legId: LegId, reason: MediaTimeoutReason];
  /** A digit received on a leg (RFC 4733 event end, or in-band tone detected). */
  dtmf: [event: DtmfEvent];
  /** A player that does not loop reached the end of its source. */
  ended: [id: LegId];
  /**
   * An endpoint failed without taking the worker down (missing or corrupt player file, a
   * recorder write error). Not named `error`: an unhandled EventEmitter 'error' would throw.
   */
  endpointError: [info: { id: LegId; reason: string }];
  /** A worker died; its legs are lost and the slot restarted (see the module comment). */
  workerExit: [info: WorkerExitInfo];
  /** Smoothed levels (dBFS) of a worker's metered endpoints (`meter`), every 200 ms while it has any. */
  levels: [worker: number, levels: ReadonlyArray<readonly [LegId, number]>];
  /** A ZRTP packet arrived on a leg with `setZrtp(leg, true)` (RFC 6189, `zrtp/zrtp-service.ts`). */
  zrtp: [legId: LegId, packet: Buffer];
}
