/**
 * Audio codec contract of the media graph. Inside the graph, audio is 16-bit signed mono PCM in
 * 20 ms frames (160 samples at 8 kHz, 320 at 16 kHz, 960 at 48 kHz). A codec turns such frames
 * into RTP payloads and back. Encoders and decoders are stateful (G.722 ADPCM, Opus), one per
 * leg and direction, and write into caller-owned buffers: nothing is allocated per frame.
 */

/** What an SDP rtpmap names, plus the PCM rate the codec works at. */
export interface CodecInfo {
  /** Encoding name as in SDP, canonical case: `PCMU`, `PCMA`, `G722`, `opus`. */
  name: string;
  /** RTP clock rate as in SDP (G.722 says 8000 for historic reasons, RFC 3551 §4.5.2). */
  clockRate: number;
  /** SDP channel count (`opus/48000/2` per RFC 7587, although we send mono). */
  channels: number;
  /** Static payload type (RFC 3551 §6), or null for a dynamic one. */
  staticPt: number | null;
  /** Natural PCM sample rate of the codec (8000 for G.711, 16000 for G.722, 48000 for Opus). */
  sampleRate: number;
}

/** Options for one encoder or decoder instance. */
export interface CodecParams {
  /**
   * PCM rate of the frames this instance consumes (encoder) or produces (decoder). Only codecs
   * that can run at several rates honour it (Opus: 8000, 12000, 16000, 24000, 48000), which
   * saves a resampler when the other side is narrowband; others ignore it and use `sampleRate`.
   */
  sampleRate?: number;
  /** SDP `a=fmtp` of the negotiated payload type (Opus: `useinbandfec=1; usedtx=1; ...`). */
  fmtp?: string | null;
}

export interface AudioEncoder {
  /** PCM rate of the frames `encode` expects. */
  readonly sampleRate: number;
  /**
   * Encodes one frame of `pcm` (20 ms at `sampleRate`: `sampleRate / 50` samples) into `dst`.
   * @returns bytes written (0 = nothing to send, e.g. Opus DTX silence).
   */
  encode(pcm: Int16Array, dst: Buffer): number;
  /** Frees native or WASM state; the instance is unusable after. */
  close(): void;
}

export interface AudioDecoder {
  /** PCM rate of the frames `decode` produces. */
  readonly sampleRate: number;
  /**
   * Decodes one RTP payload into `dst` (which holds at least 120 ms at `sampleRate`).
   * @returns samples written, or -1 when the payload is corrupt (the caller conceals instead).
   */
  decode(payload: Uint8Array, dst: Int16Array): number;
  /**
   * Packet-loss concealment: writes `samples` samples that stand in for a lost frame (Opus: its
   * own PLC, or FEC from `next` when given and the stream carries it; G.711/G.722: a faded
   * repeat of the last frame). @returns samples written.
   */
  conceal(dst: Int16Array, samples: number, next?: Uint8Array): number;
  close(): void;
}

export interface AudioCodec {
  readonly info: CodecInfo;
  createEncoder(params?: CodecParams): AudioEncoder;
  createDecoder(params?: CodecParams): AudioDecoder;
}
