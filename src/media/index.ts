/**
 * Media layer barrel: the RTP relay engine and the packet helpers other layers may use.
 */
export { createMediaEngine, MediaEngine } from './media-engine.ts';
export type {
  CreateLegOptions,
  CreatePlayerOptions,
  CreateRecorderOptions,
  EndpointInfo,
  DtmfEvent,
  LegCodec,
  LegInfo,
  MediaEngineEvents,
  MediaEngineOptions,
  MediaTotals,
  RemoteOptions,
  WorkerExitInfo,
} from './media-engine.ts';
export type { LegId, LegStats, MediaDirection, RemoteTarget, StreamStats } from './relay-protocol.ts';
export type { LegMediaStats, SendMode } from './media-graph.ts';
export type { PlayerSource, ToneSpec } from './player.ts';
export { MEDIA_DIRECTIONS } from './relay-protocol.ts';
export type { RelayWorkerLoad } from './relay-worker-handle.ts';
export { MediaError, MEDIA_ERRORS } from './errors.ts';
export type { MediaErrorCode } from './errors.ts';
export { PortPool } from './port-pool.ts';
export { RtpHeader, readRtpHeader, RTP_FIXED_HEADER_LENGTH, RTP_VERSION } from './rtp-header.ts';
export { checkRtcpCompound, isRtcpMuxed, rtcpSenderSsrc, RTCP_RR, RTCP_SR } from './rtcp-check.ts';
export { SourceLatch } from './source-latch.ts';
export { spawnWorker } from './spawn-worker.ts';
export { writeRtpHeader, writeSequence, writeTimestamp } from './rtp-writer.ts';
export type { RtpHeaderFields } from './rtp-writer.ts';
export type { SrtpKeys, LegSrtpStats } from './srtp/leg-srtp.ts';
export { SRTP_SUITES, SRTP_SUITE_PREFERENCE, findSrtpSuite } from './srtp/srtp-suites.ts';
export type { SrtpSuite, SrtpSuiteName } from './srtp/srtp-suites.ts';
