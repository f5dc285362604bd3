/**
 * G.711 (ITU-T G.711, 1988) µ-law (PCMU, static PT 0) and A-law (PCMA, static PT 8), RFC 3551
 * §4.5.14: one octet per sample at 8000 Hz, so a 20 ms frame is 160 samples and 160 octets.
 *
 * Both directions are single table look-ups. Decoding uses the 256-entry expansion tables of
 * G.711 Tables 1a/2a (scaled to 16 bits, as ffmpeg and the Sun reference do). Encoding indexes a
 * 16 KiB table by the top 14 bits of the sample; each entry is the code whose decoded value is
 * nearest (decision levels half-way between reconstruction levels, G.711 Tables 1b/2b). The
 * table is built exactly as ffmpeg's `pcm_tablegen.h` builds its own, so our output is
 * byte-identical to `ffmpeg -f mulaw` / `-f alaw` (the tests check that).
 */
import { FadeConcealer } from './fade-concealer.ts';
import type { AudioCodec, AudioDecoder, AudioEncoder, CodecInfo } from './types.ts';

/** Code 0..255 → linear 16-bit value, µ-law (G.711 Table 2a; bias 0x84 = 132). */
function ulawToLinear(code: number): number {
  const u = ~code & 0xff;
  let t = ((u & 0x0f) << 3) + 0x84;
  t <<= (u & 0x70) >> 4;
  return u & 0x80 ? 0x84 - t : t - 0x84;
}

/** Code 0..255 → linear 16-bit value, A-law (G.711 Table 1a; even bits inverted, 0x55). */
function alawToLinear(code: number): number {
  const a = code ^ 0x55;
  let t = a & 0x0f;
  const seg = (a & 0x70) >> 4;
  t = seg ? (t + t + 1 + 32) << (seg + 2) : (t + t + 1) << 3;
  return a & 0x80 ? t : -t;
}

/**
 * Builds the 14-bit-indexed compression table: entry `8192 ± j` is the code for linear value
 * `±4j`. `mask` is the code of +0 (0xFF µ-law, 0xD5 A-law); XOR with `mask` maps the magnitude
 * index 0..127 to the code, and `mask ^ 0x80` gives the negative twin.
 */
function buildCompressTable(expand: (code: number) => number, mask: number): Uint8Array {
  const table = new Uint8Array(16384);
  let j = 1;
  table[8192] = mask;
  for (let i = 0; i < 127; i++) {
    const v1 = expand(i ^ mask);
    const v2 = expand((i + 1) ^ mask);
    // Decision level half-way between reconstruction levels i and i+1, in 14-bit units.
    const v = (v1 + v2 + 4) >> 3;
    for (; j < v; j++) {
      table[8192 - j] = i ^ (mask ^ 0x80);
      table[8192 + j] = i ^ mask;
    }
  }
  for (; j < 8192; j++) {
    table[8192 - j] = 127 ^ (mask ^ 0x80);
    table[8192 + j] = 127 ^ mask;
  }
  table[0] = table[1]!;
  return table;
}

function buildExpandTable(expand: (code: number) => number): Int16Array {
  const table = new Int16Array(256);
  for (let c = 0; c < 256; c++) table[c] = expand(c);
  return table;
}

/** µ-law code → 16-bit linear sample. */
export const ULAW_TO_LINEAR: Int16Array = buildExpandTable(ulawToLinear);
/** A-law code → 16-bit linear sample. */
export const ALAW_TO_LINEAR: Int16Array = buildExpandTable(alawToLinear);
/** 16-bit sample `s` → µ-law code: `LINEAR_TO_ULAW[(s + 32768) >> 2]`. */
export const LINEAR_TO_ULAW: Uint8Array = buildCompressTable(ulawToLinear, 0xff);
/** 16-bit sample `s` → A-law code: `LINEAR_TO_ALAW[(s + 32768) >> 2]`. */
export const LINEAR_TO_ALAW: Uint8Array = buildCompressTable(alawToLinear, 0xd5);

/**
 * Compresses `length` samples of `pcm` into `dst` through a 14-bit table.
 * @returns octets written (`min(length, dst.length)`).
 */
export function g711Compress(table: Uint8Array, pcm: Int16Array, length: number, dst: Uint8Array): number {
  const n = Math.min(length, pcm.length, dst.length);
  for (let i = 0; i < n; i++) dst[i] = table[(pcm[i]! + 32768) >> 2]!;
  return n;
}

/** Expands `length` octets of `src` into `dst`. @returns samples written. */
export function g711Expand(table: Int16Array, src: Uint8Array, length: number, dst: Int16Array): number {
  const n = Math.min(length, src.length, dst.length);
  for (let i = 0; i < n; i++) dst[i] = table[src[i]!]!;
  return n;
}

class G711Encoder implements AudioEncoder {
  readonly sampleRate = 8000;
  constructor(private readonly table: Uint8Array) {}
  encode(pcm: Int16Array, dst: Buffer): number {
    return g711Compress(this.table, pcm, pcm.length, dst);
  }
  close(): void {}
}

class G711Decoder implements AudioDecoder {
  readonly sampleRate = 8000;
  private readonly plc = new FadeConcealer(8000);
  constructor(private readonly table: Int16Array) {}
  decode(payload: Uint8Array, dst: Int16Array): number {
    const n = g711Expand(this.table, payload, payload.length, dst);
    this.plc.remember(dst, n);
    return n;
  }
  conceal(dst: Int16Array, samples: number): number {
    return this.plc.conceal(dst, samples);
  }
  close(): void {}
}

function g711Codec(info: CodecInfo, compress: Uint8Array, expand: Int16Array): AudioCodec {
  return {
    info,
    createEncoder: () => new G711Encoder(compress),
    createDecoder: () => new G711Decoder(expand),
  };
}

/** PCMU/8000, static payload type 0 (RFC 3551 §6). */
export const PCMU: AudioCodec = g711Codec(
  { name: 'PCMU', clockRate: 8000, channels: 1, staticPt: 0, sampleRate: 8000 },
  LINEAR_TO_ULAW,
  ULAW_TO_LINEAR,
);

/** PCMA/8000, static payload type 8 (RFC 3551 §6). */
export const PCMA: AudioCodec = g711Codec(
  { name: 'PCMA', clockRate: 8000, channels: 1, staticPt: 8, sampleRate: 8000 },
  LINEAR_TO_ALAW,
  ALAW_TO_LINEAR,
);
