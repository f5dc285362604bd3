/**
 * Opus (RFC 6716) as an RTP payload, RFC 7587: `opus/48000/2` in SDP whatever the real rate
 * and channel count; the RTP clock is always 48 kHz. We send mono and decode to mono (the graph
 * is mono; libopus downmixes a stereo stream on decode).
 *
 * libopus runs natively at 8, 12, 16, 24 and 48 kHz, so `CodecParams.sampleRate` picks the PCM
 * rate and an Opus↔PCMU bridge needs no resampler. The encoder is set for a server: VOIP
 * application, voice signal, low complexity ({@link opusComplexity}, see bench/README.md for
 * the measured cost of each level) and 20 ms frames.
 *
 * fmtp (RFC 7587 §6.1) read by the **encoder** is the one the remote side sent: it describes what
 * the remote receiver wants — `useinbandfec=1` turns on in-band FEC (LBRR), `usedtx=1` DTX,
 * `maxplaybackrate` caps the coded bandwidth, `maxaveragebitrate` the bitrate, `cbr=1` constant
 * bitrate. `stereo=1` only says the receiver could take stereo: we still send mono (§7.1 allows
 * it). The decoder needs no fmtp: FEC and DTX are self-describing in the bitstream.
 */
import { MediaError } from '../errors.ts';
import { fmtpFlag, fmtpInt, parseFmtp } from './fmtp.ts';
import { opusErrorText, opusWasm, type OpusWasm } from './opus-wasm.ts';
import type { AudioCodec, AudioDecoder, AudioEncoder, CodecParams } from './types.ts';

/** Rates libopus encodes and decodes natively. */
export const OPUS_RATES: readonly number[] = [8000, 12000, 16000, 24000, 48000];

/**
 * Encoder complexity 0–10 (libopus default 10) for wideband and wider coding. Measured on this
 * project's machines (bench `codecs`): 10 → 3 cuts encode time by about 2× with no audible loss
 * for speech.
 */
export const OPUS_COMPLEXITY = 3;

/**
 * Complexity when the encoder codes narrowband or mediumband (PCM at 8/12 kHz, or the receiver's
 * `maxplaybackrate` ≤ 12000): what an Opus leg bridged to G.711 gets. SILK at complexity 2+ adds
 * the delayed-decision quantizer (2 states); at 8 kHz that is ~40 % of the encode time (42 → 25
 * µs per 20 ms frame) for a result within 0.1 dB (SNR, segmental SNR) and 0.05 dB (log-spectral
 * distance) of complexity 3 on speech-like audio (bench/README.md "transcoded calls").
 */
export const OPUS_NB_COMPLEXITY = 1;

/** The complexity {@link OpusEncoder} uses for a coded audio rate (PCM rate capped by maxplaybackrate). */
export function opusComplexity(codedRate: number): number {
  return codedRate <= 12000 ? OPUS_NB_COMPLEXITY : OPUS_COMPLEXITY;
}

/** Packet loss we tell the encoder to expect when FEC is on; it sizes the LBRR data. */
const FEC_LOSS_PERCENT = 10;

// libopus request codes (opus_defines.h).
const OPUS_APPLICATION_VOIP = 2048;
const OPUS_SET_BITRATE = 4002;
const OPUS_SET_MAX_BANDWIDTH = 4004;
const OPUS_SET_VBR = 4006;
const OPUS_SET_COMPLEXITY = 4010;
const OPUS_SET_INBAND_FEC = 4012;
const OPUS_SET_PACKET_LOSS_PERC = 4014;
const OPUS_SET_DTX = 4016;
const OPUS_SET_SIGNAL = 4024;
const OPUS_SIGNAL_VOICE = 3001;
const OPUS_BANDWIDTH_NARROWBAND = 1101;
const OPUS_BANDWIDTH_MEDIUMBAND = 1102;
const OPUS_BANDWIDTH_WIDEBAND = 1103;
const OPUS_BANDWIDTH_SUPERWIDEBAND = 1104;
const OPUS_BANDWIDTH_FULLBAND = 1105;

/** Largest packet we let the encoder write (RFC 6716 §3.4 R5 caps a frame at 1275 octets). */
const MAX_PACKET = 1276;
/** Largest PCM frame handled: 120 ms at 48 kHz (RFC 6716 §3.2.5). */
const MAX_FRAME = 5760;

function checkRate(params: CodecParams | undefined): number {
  const rate = params?.sampleRate ?? 48000;
  if (!OPUS_RATES.includes(rate)) {
    throw new MediaError('MEDIA_ERR_BAD_OPTION', { detail: `opus sample rate ${rate}, need one of ${OPUS_RATES.join('/')}` });
  }
  return rate;
}

/** `maxplaybackrate` (Hz) → the widest Opus audio bandwidth worth coding (RFC 7587 §7.1). */
function bandwidthFor(rate: number): number {
  if (rate <= 8000) return OPUS_BANDWIDTH_NARROWBAND;
  if (rate <= 12000) return OPUS_BANDWIDTH_MEDIUMBAND;
  if (rate <= 16000) return OPUS_BANDWIDTH_WIDEBAND;
  if (rate <= 24000) return OPUS_BANDWIDTH_SUPERWIDEBAND;
  return OPUS_BANDWIDTH_FULLBAND;
}

/** What the encoder was configured with, for tests and the status API. */
export interface OpusEncoderSettings {
  sampleRate: number;
  fec: boolean;
  dtx: boolean;
  maxBandwidth: number;
  bitrate: number;
  cbr: boolean;
  complexity: number;
}

/** Mono Opus encoder over libopus (WASM). Encode writes the packet into the caller's buffer. */
export class OpusEncoder implements AudioEncoder {
  readonly sampleRate: number;
  readonly settings: OpusEncoderSettings;
  private readonly wasm: OpusWasm;
  private st: number;
  private readonly pcmPtr: number;
  private readonly outPtr: number;

  /** @param complexity libopus complexity 0-10 (default {@link opusComplexity} of the coded rate; benchmarks vary it). */
  constructor(params?: CodecParams, complexity?: number) {
    this.sampleRate = checkRate(params);
    const f = parseFmtp(params?.fmtp);
    const maxPlayback = fmtpInt(f, 'maxplaybackrate') ?? 48000;
    const maxAverage = fmtpInt(f, 'maxaveragebitrate');
    // 24 kbit/s is transparent wideband speech; narrowband needs less (RFC 7587 §3.1.1 table).
    const defaultBitrate = Math.min(this.sampleRate, maxPlayback) <= 12000 ? 16000 : 24000;
    this.settings = {
      sampleRate: this.sampleRate,
      fec: fmtpFlag(f, 'useinbandfec'),
      dtx: fmtpFlag(f, 'usedtx'),
      maxBandwidth: bandwidthFor(Math.min(maxPlayback, this.sampleRate)),
      bitrate: maxAverage !== undefined ? Math.max(6000, Math.min(510000, maxAverage)) : defaultBitrate,
      cbr: fmtpFlag(f, 'cbr'),
      complexity: complexity ?? opusComplexity(Math.min(maxPlayback, this.sampleRate)),
    };
    const wasm = (this.wasm = opusWasm());
    const x = wasm.exports;
    this.st = x.malloc(x.opus_encoder_get_size(1));
    this.pcmPtr = x.malloc(MAX_FRAME * 2);
    this.outPtr = x.malloc(MAX_PACKET);
    const err = x.opus_encoder_init(this.st, this.sampleRate, 1, OPUS_APPLICATION_VOIP);
    if (err < 0) {
      this.close();
      throw new MediaError('MEDIA_ERR_BAD_OPTION', { detail: `opus_encoder_init: ${opusErrorText(wasm, err)}` });
    }
    const s = this.settings;
    x.opus_encoder_ctl_set(this.st, OPUS_SET_SIGNAL, OPUS_SIGNAL_VOICE);
    x.opus_encoder_ctl_set(this.st, OPUS_SET_COMPLEXITY, s.complexity);
    x.opus_encoder_ctl_set(this.st, OPUS_SET_BITRATE, s.bitrate);
    x.opus_encoder_ctl_set(this.st, OPUS_SET_MAX_BANDWIDTH, s.maxBandwidth);
    x.opus_encoder_ctl_set(this.st, OPUS_SET_VBR, s.cbr ? 0 : 1);
    x.opus_encoder_ctl_set(this.st, OPUS_SET_INBAND_FEC, s.fec ? 1 : 0);
    x.opus_encoder_ctl_set(this.st, OPUS_SET_PACKET_LOSS_PERC, s.fec ? FEC_LOSS_PERCENT : 0);
    x.opus_encoder_ctl_set(this.st, OPUS_SET_DTX, s.dtx ? 1 : 0);
  }

  /**
   * Encodes one frame (2.5–120 ms; 20 ms in the graph) into `dst`.
   * @returns bytes written; 0 for a DTX frame that needs no packet, -1 on a libopus error.
   */
  encode(pcm: Int16Array, dst: Buffer): number {
    const n = Math.min(pcm.length, MAX_FRAME);
    const x = this.wasm.exports;
    this.wasm.i16.set(n === pcm.length ? pcm : pcm.subarray(0, n), this.pcmPtr >> 1);
    const len = x.opus_encode(this.st, this.pcmPtr, n, this.outPtr, Math.min(MAX_PACKET, dst.length));
    if (len < 0) return -1;
    // A DTX encoder marks silence with packets of ≤ 2 octets that need not be sent (opus_encode docs).
    if (this.settings.dtx && len <= 2) return 0;
    const u8 = this.wasm.u8;
    const src = this.outPtr;
    for (let i = 0; i < len; i++) dst[i] = u8[src + i]!;
    return len;
  }

  close(): void {
    if (this.st === 0) return;
    const x = this.wasm.exports;
    x.free(this.st);
    x.free(this.pcmPtr);
    x.free(this.outPtr);
    this.st = 0;
  }
}

/** Mono Opus decoder over libopus (WASM), with libopus PLC and in-band FEC recovery. */
export class OpusDecoder implements AudioDecoder {
  readonly sampleRate: number;
  private readonly wasm: OpusWasm;
  private st: number;
  private readonly pcmPtr: number;
  private readonly inPtr: number;
  /** Samples in the last decoded frame: the size PLC uses when the caller does not say. */
  private lastFrame: number;

  constructor(params?: CodecParams) {
    this.sampleRate = checkRate(params);
    this.lastFrame = this.sampleRate / 50;
    const wasm = (this.wasm = opusWasm());
    const x = wasm.exports;
    this.st = x.malloc(x.opus_decoder_get_size(1));
    this.pcmPtr = x.malloc(MAX_FRAME * 2);
    this.inPtr = x.malloc(MAX_PACKET * 3);
    const err = x.opus_decoder_init(this.st, this.sampleRate, 1);
    if (err < 0) {
      this.close();
      throw new MediaError('MEDIA_ERR_BAD_OPTION', { detail: `opus_decoder_init: ${opusErrorText(wasm, err)}` });
    }
  }

  decode(payload: Uint8Array, dst: Int16Array): number {
    if (payload.length === 0 || payload.length > MAX_PACKET * 3) return -1;
    this.wasm.u8.set(payload, this.inPtr);
    const max = Math.min(dst.length, MAX_FRAME);
    const n = this.wasm.exports.opus_decode(this.st, this.inPtr, payload.length, this.pcmPtr, max, 0);
    if (n < 0) return -1;
    this.lastFrame = n;
    return this.copyOut(dst, n);
  }

  /**
   * Stands in for one lost frame of `samples` samples (a multiple of 2.5 ms). With `next` (the
   * packet after the gap), the frame is rebuilt from its LBRR copy when the sender used FEC;
   * otherwise (and when `next` carries none) libopus extrapolates it (PLC).
   */
  conceal(dst: Int16Array, samples: number, next?: Uint8Array): number {
    const x = this.wasm.exports;
    const want = Math.min(samples > 0 ? samples : this.lastFrame, dst.length, MAX_FRAME);
    let n: number;
    if (next !== undefined && next.length > 0 && next.length <= MAX_PACKET * 3) {
      this.wasm.u8.set(next, this.inPtr);
      n = x.opus_decode(this.st, this.inPtr, next.length, this.pcmPtr, want, 1);
    } else {
      n = x.opus_decode(this.st, 0, 0, this.pcmPtr, want, 0);
    }
    if (n < 0) {
      dst.fill(0, 0, want);
      return want;
    }
    return this.copyOut(dst, n);
  }

  close(): void {
    if (this.st === 0) return;
    const x = this.wasm.exports;
    x.free(this.st);
    x.free(this.pcmPtr);
    x.free(this.inPtr);
    this.st = 0;
  }

  private copyOut(dst: Int16Array, n: number): number {
    const i16 = this.wasm.i16;
    const src = this.pcmPtr >> 1;
    for (let i = 0; i < n; i++) dst[i] = i16[src + i]!;
    return n;
  }
}

/** `opus/48000/2`, dynamic payload type (RFC 7587 §7). */
export const OPUS: AudioCodec = {
  info: { name: 'opus', clockRate: 48000, channels: 2, staticPt: null, sampleRate: 48000 },
  createEncoder: (params) => new OpusEncoder(params),
  createDecoder: (params) => new OpusDecoder(params),
};
