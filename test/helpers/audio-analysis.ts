/**
 * Audio checks for media tests: how strong a frequency is (Goertzel), which frequency
 * dominates a recording, levels, 16-bit PCM WAV files in and out, and G.711 decoding of RTP
 * payloads. Test-side reference code: independent of `src/media`, so a bug there cannot
 * hide behind the same bug here.
 *
 * @example
 *   const { samples, sampleRate } = readWavPcm('/tmp/b-received.wav');
 *   assert.ok(Math.abs(dominantFrequency(samples, sampleRate, { min: 300, max: 3400 }) - 1000) <= 15);
 */
import { readFileSync, writeFileSync } from 'node:fs';

/**
 * Power of the component at `freq` Hz (generalised Goertzel, any frequency, not only bins),
 * in the units of a mean square: a sine of amplitude A at `freq` gives ≈ A²/2, comparable
 * to `rms(samples) ** 2`. `from`/`length` select a window of `samples`; `window` applies a
 * Hann window (leakage of strong neighbours then falls off fast; the result is scaled so a
 * sine still gives ≈ A²/2).
 */
export function goertzelPower(samples: Int16Array, sampleRate: number, freq: number, opts: { from?: number; length?: number; window?: 'hann' | 'none' } = {}): number {
  const from = opts.from ?? 0;
  const n = Math.min(opts.length ?? samples.length - from, samples.length - from);
  if (n <= 0) return 0;
  const w = (2 * Math.PI * freq) / sampleRate;
  const coeff = 2 * Math.cos(w);
  const hann = opts.window === 'hann';
  let s1 = 0;
  let s2 = 0;
  let gain = 0;
  for (let i = 0; i < n; i++) {
    const win = hann ? 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1 || 1)) : 1;
    gain += win;
    const s0 = samples[from + i]! * win + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  // |X(f)|² = s1² + s2² − 2cos(w)·s1·s2; a sine of amplitude A gives |X| = A·Σwin/2.
  const mag2 = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return (2 * Math.max(mag2, 0)) / (gain * gain);
}

/** Mean of Hann-windowed {@link goertzelPower} over half-overlapping frames of `frame` samples (Welch). */
function welchPower(samples: Int16Array, sampleRate: number, freq: number, frame: number): number {
  const n = Math.min(frame, samples.length);
  const hop = Math.max(1, n >> 1);
  let sum = 0;
  let count = 0;
  for (let from = 0; from + n <= samples.length; from += hop) {
    sum += goertzelPower(samples, sampleRate, freq, { from, length: n, window: 'hann' });
    count++;
  }
  return count ? sum / count : 0;
}

/**
 * The frequency (Hz) with the most power between `min` and `max`: a scan every `step` Hz
 * (default 10) on short averaged frames whose resolution matches the step, then a scan of
 * ±step at a quarter of the finer resolution on frames of up to one second, then a
 * parabola through the best three points. Precise to well under 1 Hz for a clean tone of
 * ≥ 0.25 s; to "a few Hz" for tones in codec noise. Returns NaN when `samples` is shorter
 * than one coarse frame.
 */
export function dominantFrequency(samples: Int16Array, sampleRate: number, range: { min: number; max: number; step?: number }): number {
  const step = range.step ?? 10;
  // A Hann main lobe is ±2·rate/N wide: N = 4·rate/step puts neighbours of a tone within a step.
  const coarseFrame = Math.round((4 * sampleRate) / step);
  if (samples.length < Math.min(coarseFrame, sampleRate / 4)) return NaN;
  let best = range.min;
  let bestPower = -1;
  for (let f = range.min; f <= range.max; f += step) {
    const p = welchPower(samples, sampleRate, f, coarseFrame);
    if (p > bestPower) { bestPower = p; best = f; }
  }
  const fineFrame = Math.min(samples.length, sampleRate);
  const fineStep = sampleRate / fineFrame / 4;
  const lo = Math.max(range.min, best - step);
  const hi = Math.min(range.max, best + step);
  const powers: number[] = [];
  const freqs: number[] = [];
  for (let f = lo; f <= hi + 1e-9; f += fineStep) {
    freqs.push(f);
    powers.push(welchPower(samples, sampleRate, f, fineFrame));
  }
  let i = 0;
  for (let k = 1; k < powers.length; k++) if (powers[k]! > powers[i]!) i = k;
  if (i === 0 || i === powers.length - 1) return freqs[i]!;
  const [a, b, c] = [powers[i - 1]!, powers[i]!, powers[i + 1]!];
  const denom = a - 2 * b + c;
  const offset = denom === 0 ? 0 : (0.5 * (a - c)) / denom;
  return freqs[i]! + offset * fineStep;
}

/**
 * What a phone heard second by second: the dominant frequency (200–3400 Hz) of each whole second
 * of `samples`, 0 for a second whose RMS is at most `minRms` (silence, noise).
 */
export function dominantPerSecond(samples: Int16Array, sampleRate: number, minRms: number): number[] {
  const out: number[] = [];
  for (let from = 0; from + sampleRate <= samples.length; from += sampleRate) {
    const second = samples.subarray(from, from + sampleRate);
    out.push(rms(second) <= minRms ? 0 : dominantFrequency(second, sampleRate, { min: 200, max: 3400 }));
  }
  return out;
}

/** Root mean square in sample units (0 for an empty array). */
export function rms(samples: Int16Array): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i]! * samples[i]!;
  return Math.sqrt(sum / samples.length);
}

/** Share of the energy of `samples` (at `sampleRate`, default 8 kHz) at `freq` (1 = a pure tone): "is this tone readable here". */
export function toneShare(samples: Int16Array, freq: number, sampleRate = 8000): number {
  const r = rms(samples);
  return r === 0 ? 0 : goertzelPower(samples, sampleRate, freq, { window: 'hann' }) / r ** 2;
}

/** Level relative to full scale (32768): 0 dBFS for a full-scale square wave, ≈ −3 for a full-scale sine, −Infinity for silence. */
export function dbfs(samples: Int16Array): number {
  const r = rms(samples);
  return r === 0 ? -Infinity : 20 * Math.log10(r / 32768);
}

/** A WAV file's PCM, mixed down to mono. */
export interface WavPcm {
  samples: Int16Array;
  sampleRate: number;
  /** Channels in the file (before the mix-down). */
  channels: number;
}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/**
 * Reads a RIFF/WAVE file of 16-bit PCM, mono or stereo (stereo is averaged to mono).
 * Throws on anything else — another sample format, a missing `fmt ` or `data` chunk, a data
 * chunk that runs past the end of the file (a writer that never finalised its header) — so a
 * broken recording fails the test with a reason instead of being analysed as noise.
 */
export function readWavPcm(path: string): WavPcm {
  const buf = readFileSync(path);
  const fail = (why: string): never => { throw new Error(`readWavPcm ${path}: ${why}`); };
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE') fail('not a RIFF/WAVE file');
  let fmt: { format: number; channels: number; sampleRate: number; bits: number } | undefined;
  let off = 12;
  while (off + 8 <= buf.length) {
    const id = buf.toString('latin1', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      if (size < 16) fail(`fmt chunk of ${size} bytes`);
      let format = buf.readUInt16LE(body);
      // WAVE_FORMAT_EXTENSIBLE: the real format is the first two bytes of the SubFormat GUID.
      if (format === WAVE_FORMAT_EXTENSIBLE && size >= 40) format = buf.readUInt16LE(body + 24);
      fmt = { format, channels: buf.readUInt16LE(body + 2), sampleRate: buf.readUInt32LE(body + 4), bits: buf.readUInt16LE(body + 14) };
    } else if (id === 'data') {
      if (!fmt) fail('data chunk before fmt chunk');
      const f = fmt!;
      if (f.format !== WAVE_FORMAT_PCM) fail(`format ${f.format}, want 1 (PCM)`);
      if (f.bits !== 16) fail(`${f.bits}-bit samples, want 16`);
      if (f.channels !== 1 && f.channels !== 2) fail(`${f.channels} channels, want 1 or 2`);
      if (body + size > buf.length) fail(`data chunk of ${size} bytes runs past the end of the file (${buf.length - body} left)`);
      const frames = Math.floor(size / (2 * f.channels));
      const samples = new Int16Array(frames);
      for (let i = 0; i < frames; i++) {
        if (f.channels === 1) samples[i] = buf.readInt16LE(body + 2 * i);
        else samples[i] = (buf.readInt16LE(body + 4 * i) + buf.readInt16LE(body + 4 * i + 2)) >> 1;
      }
      return { samples, sampleRate: f.sampleRate, channels: f.channels };
    }
    off = body + size + (size & 1); // chunks are word-aligned
  }
  return fail(fmt ? 'no data chunk' : 'no fmt chunk');
}

/** Writes mono 16-bit PCM as a canonical 44-byte-header WAV file. */
export function writeWavPcm(path: string, samples: Int16Array, sampleRate: number): void {
  const data = samples.length * 2;
  const buf = Buffer.alloc(44 + data);
  buf.write('RIFF', 0, 'latin1');
  buf.writeUInt32LE(36 + data, 4);
  buf.write('WAVEfmt ', 8, 'latin1');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(WAVE_FORMAT_PCM, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'latin1');
  buf.writeUInt32LE(data, 40);
  for (let i = 0; i < samples.length; i++) buf.writeInt16LE(samples[i]!, 44 + 2 * i);
  writeFileSync(path, buf);
}

/** A sine of `freq` Hz: `seconds` long at `rate` Hz (default 8000), `amplitude` of full scale (default 0.5). */
export function makeTone(opts: { freq: number; seconds: number; rate?: number; amplitude?: number }): Int16Array {
  const rate = opts.rate ?? 8000;
  const amp = (opts.amplitude ?? 0.5) * 32767;
  const out = new Int16Array(Math.round(opts.seconds * rate));
  for (let i = 0; i < out.length; i++) out[i] = Math.round(amp * Math.sin((2 * Math.PI * opts.freq * i) / rate));
  return out;
}

/** Writes {@link makeTone} to `path` as a mono 16-bit WAV file. */
export function makeToneWav(path: string, opts: { freq: number; seconds: number; rate?: number; amplitude?: number }): void {
  writeWavPcm(path, makeTone(opts), opts.rate ?? 8000);
}

/**
 * G.711 µ-law byte → 16-bit linear (ITU-T G.711 §2, the 14-bit value shifted left by 2):
 * 0xFF and 0x7F → 0, 0x80 → 32124, 0x00 → −32124.
 */
export function ulawToLinear(byte: number): number {
  const u = ~byte & 0xff;
  const exponent = (u >> 4) & 0x07;
  const magnitude = ((((u & 0x0f) << 3) + 0x84) << exponent) - 0x84;
  return u & 0x80 ? -magnitude | 0 : magnitude; // | 0: 0x7F is +0, not -0
}

/**
 * G.711 A-law byte → 16-bit linear (ITU-T G.711 §3; bytes are XORed with 0x55 on the wire):
 * 0xD5 → 8, 0x55 → −8, 0xAA → 32256, 0x2A → −32256.
 */
export function alawToLinear(byte: number): number {
  const a = byte ^ 0x55;
  const exponent = (a >> 4) & 0x07;
  let magnitude = ((a & 0x0f) << 4) + 8;
  if (exponent > 0) magnitude = (magnitude + 0x100) << (exponent - 1);
  return a & 0x80 ? magnitude : -magnitude;
}

/** Decodes a µ-law RTP payload (payload type 0, PCMU) to linear samples. */
export function decodeUlaw(payload: Uint8Array): Int16Array {
  const out = new Int16Array(payload.length);
  for (let i = 0; i < payload.length; i++) out[i] = ulawToLinear(payload[i]!);
  return out;
}

/** Decodes an A-law RTP payload (payload type 8, PCMA) to linear samples. */
export function decodeAlaw(payload: Uint8Array): Int16Array {
  const out = new Int16Array(payload.length);
  for (let i = 0; i < payload.length; i++) out[i] = alawToLinear(payload[i]!);
  return out;
}

/** µ-law encoding of one 16-bit sample (G.711). */
export function linearToUlaw(sample: number): number {
  const BIAS = 0x84;
  let s = Math.max(-32635, Math.min(32635, sample));
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  s += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}
