/** Signal generators and measurements shared by the codec tests. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Deterministic pseudo-random numbers in [-1, 1) (LCG), so every run feeds the same noise. */
export function noise(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

/** `n` samples of a sine of `freq` Hz and peak `amp` at `rate`, plus optional uniform noise. */
export function sine(n: number, rate: number, freq: number, amp: number, noiseAmp = 0, seed = 1): Int16Array {
  const out = new Int16Array(n);
  const rnd = noise(seed);
  for (let i = 0; i < n; i++) {
    const v = amp * Math.sin((2 * Math.PI * freq * i) / rate) + noiseAmp * rnd();
    out[i] = Math.max(-32768, Math.min(32767, Math.round(v)));
  }
  return out;
}

/** Linear sweep from `f0` to `f1` Hz over `n` samples. */
export function sweep(n: number, rate: number, f0: number, f1: number, amp: number): Int16Array {
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    const T = n / rate;
    out[i] = Math.round(amp * Math.sin(2 * Math.PI * (f0 * t + ((f1 - f0) * t * t) / (2 * T))));
  }
  return out;
}

/** Amplitude of the `freq` component of `x` (Goertzel); a sine of peak A gives ≈ A. */
export function toneAmplitude(x: ArrayLike<number>, rate: number, freq: number, from = 0, to = x.length): number {
  const w = (2 * Math.PI * freq) / rate;
  const c = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = from; i < to; i++) {
    const s0 = x[i]! + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - c * s1 * s2;
  return (2 * Math.sqrt(Math.max(0, power))) / (to - from);
}

/** RMS of `x[from..to)`. */
export function rms(x: ArrayLike<number>, from = 0, to = x.length): number {
  let e = 0;
  for (let i = from; i < to; i++) e += x[i]! * x[i]!;
  return Math.sqrt(e / (to - from));
}

/** Frequency (step `step` Hz) with the largest Goertzel amplitude between `lo` and `hi`. */
export function dominantFrequency(x: ArrayLike<number>, rate: number, lo: number, hi: number, step = 10): number {
  let best = lo;
  let bestAmp = -1;
  for (let f = lo; f <= hi; f += step) {
    const a = toneAmplitude(x, rate, f);
    if (a > bestAmp) {
      bestAmp = a;
      best = f;
    }
  }
  return best;
}

/** SNR in dB of `y` against reference `x` (same length), after lining them up by `delay` samples. */
export function snrDb(x: ArrayLike<number>, y: ArrayLike<number>, delay = 0, from = 0, to = x.length - delay): number {
  let sig = 0;
  let err = 0;
  for (let i = from; i < to; i++) {
    const d = y[i + delay]! - x[i]!;
    sig += x[i]! * x[i]!;
    err += d * d;
  }
  return 10 * Math.log10(sig / Math.max(err, 1e-9));
}

/** The delay in [0, maxDelay] that maximises the SNR of `y` against `x`. */
export function bestDelay(x: ArrayLike<number>, y: ArrayLike<number>, maxDelay: number): number {
  let best = 0;
  let bestSnr = -Infinity;
  for (let d = 0; d <= maxDelay; d++) {
    const s = snrDb(x, y, d, 0, Math.min(x.length, y.length) - maxDelay);
    if (s > bestSnr) {
      bestSnr = s;
      best = d;
    }
  }
  return best;
}

/** Runs ffmpeg with `args` where `IN` and `OUT` are replaced by temp files; returns OUT's bytes. */
export function ffmpeg(input: Uint8Array, args: string[]): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'strowger-codec-'));
  try {
    const inFile = join(dir, 'in.bin');
    const outFile = join(dir, 'out.bin');
    writeFileSync(inFile, input);
    const argv = ['-hide_banner', '-loglevel', 'error', '-y', ...args.map((a) => (a === 'IN' ? inFile : a === 'OUT' ? outFile : a))];
    execFileSync('ffmpeg', argv, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
    return readFileSync(outFile);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Int16Array view of little-endian s16 bytes (copied, so alignment does not matter). */
export function s16(buf: Uint8Array): Int16Array {
  const out = new Int16Array(buf.length >> 1);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = dv.getInt16(2 * i, true);
  return out;
}

/** Little-endian bytes of `pcm`. */
export function bytes(pcm: Int16Array): Buffer {
  return Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
}
