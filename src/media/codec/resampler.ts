/**
 * Sample-rate conversion between the PCM rates of the media graph (8000, 16000, 48000 Hz;
 * integer ratios 2, 3 and 6 either way), so a G.711 leg can meet a G.722 or Opus one.
 *
 * A polyphase windowed-sinc FIR: conceptually the input is zero-stuffed up by L, low-pass
 * filtered at the high rate, and every M-th sample kept (L or M is 1 here). Only the taps that
 * meet non-zero input are computed, so the cost is `taps / L` multiply-adds per output sample.
 * The low-pass is the same both ways: pass band to 0.425 of the lower rate (3.4 kHz at 8 kHz,
 * the telephone band), stop band from 0.525 of it with ≥ 70 dB rejection (Kaiser window), so
 * decimation does not alias and interpolation leaves no images. Aliases of 0.5–0.525 × the
 * lower rate land in the transition band, never in the pass band.
 *
 * The converter is stateful: the last `taps / L` input samples are kept between calls, so a
 * stream converted in 20 ms frames equals the stream converted at once (no clicks at frame
 * edges). Output has a constant group delay of `(taps - 1) / 2` samples at the high rate.
 */
import { MediaError } from '../errors.ts';

/** Rates the graph converts between. */
export const RESAMPLER_RATES: readonly number[] = [8000, 16000, 48000];

const STOPBAND_DB = 70;
const PASS_EDGE = 0.425;
const STOP_EDGE = 0.525;

/** Zeroth-order modified Bessel function of the first kind (series), for the Kaiser window. */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 50; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}

/** Low-pass prototype at rate `high`; odd length. Kaiser's formulas (Oppenheim & Schafer §7.5.3). */
function designLowPass(high: number, low: number): Float64Array {
  const width = ((STOP_EDGE - PASS_EDGE) * low) / high; // cycles per sample
  let n = Math.ceil((STOPBAND_DB - 7.95) / (2.285 * 2 * Math.PI * width)) + 1;
  if (n % 2 === 0) n++;
  const beta = 0.1102 * (STOPBAND_DB - 8.7);
  const fc = (((PASS_EDGE + STOP_EDGE) / 2) * low) / high;
  const h = new Float64Array(n);
  const mid = (n - 1) / 2;
  const i0b = besselI0(beta);
  let sum = 0;
  for (let k = 0; k < n; k++) {
    const t = k - mid;
    const sinc = t === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * t) / (Math.PI * t);
    const r = t / mid;
    h[k] = sinc * (besselI0(beta * Math.sqrt(Math.max(0, 1 - r * r))) / i0b);
    sum += h[k]!;
  }
  for (let k = 0; k < n; k++) h[k]! /= sum; // unity gain at DC
  return h;
}

/** Maximum input samples converted per inner pass (120 ms at 48 kHz); longer input loops. */
const CHUNK = 5760;

/**
 * A one-way, one-stream rate converter.
 *
 * @example
 * const up = new Resampler(8000, 48000);
 * const out = new Int16Array(up.maxOutput(160)); // allocate once per leg
 * const n = up.process(pcmu20ms, out);          // 960 samples
 */
export class Resampler {
  readonly inRate: number;
  readonly outRate: number;
  /** Up-sampling factor. */
  private readonly L: number;
  /** Down-sampling factor. */
  private readonly M: number;
  /** Taps per polyphase branch (history kept is K - 1 input samples). */
  private readonly K: number;
  /** Branch p's taps, already reversed and scaled by L: `coef[p*K + j]` multiplies `x[n-K+1+j]`. */
  private readonly coef: Float64Array;
  /** K - 1 samples of history, then up to CHUNK new input samples. */
  private readonly buf: Float64Array;
  /** Position of the next output on the high-rate grid, relative to the current chunk's start. */
  private t = 0;

  /** @throws MediaError MEDIA_ERR_BAD_OPTION for a pair of rates the graph does not convert. */
  constructor(inRate: number, outRate: number) {
    if (!RESAMPLER_RATES.includes(inRate) || !RESAMPLER_RATES.includes(outRate)) {
      throw new MediaError('MEDIA_ERR_BAD_OPTION', { detail: `resampler rates ${inRate} -> ${outRate}, need ${RESAMPLER_RATES.join('/')}` });
    }
    this.inRate = inRate;
    this.outRate = outRate;
    this.L = outRate > inRate ? outRate / inRate : 1;
    this.M = inRate > outRate ? inRate / outRate : 1;
    const high = inRate * this.L;
    const h = designLowPass(high, Math.min(inRate, outRate));
    const L = this.L;
    const K = Math.ceil(h.length / L);
    this.K = K;
    this.coef = new Float64Array(L * K);
    for (let p = 0; p < L; p++) {
      for (let i = 0; i < K; i++) {
        const k = p + i * L;
        this.coef[p * K + (K - 1 - i)] = k < h.length ? h[k]! * L : 0;
      }
    }
    this.buf = new Float64Array(K - 1 + CHUNK);
  }

  /** Taps per output sample (the cost, in multiply-adds). */
  get tapsPerOutput(): number {
    return this.K;
  }

  /** Upper bound of the samples `process` writes for `inputLength` input samples. */
  maxOutput(inputLength: number): number {
    return Math.ceil((inputLength * this.L) / this.M) + 1;
  }

  /**
   * Converts `input[0..length)` (default: all of it) and appends nothing: writes from `output[0]`.
   * `output` must hold `maxOutput(length)` samples; exactly `length * out / in` are written when
   * lengths are whole multiples of the down-sampling factor (20 ms frames always are).
   * @returns samples written.
   */
  process(input: Int16Array, output: Int16Array, length: number = input.length): number {
    if (output.length < Math.ceil(((length * this.L) / this.M) - this.t / this.M)) {
      throw new MediaError('MEDIA_ERR_BAD_OPTION', { detail: `resampler output holds ${output.length}, need ${this.maxOutput(length)}` });
    }
    let written = 0;
    for (let off = 0; off < length; off += CHUNK) {
      written += this.chunk(input, off, Math.min(CHUNK, length - off), output, written);
    }
    return written;
  }

  /** Back to silence history, as new. */
  reset(): void {
    this.buf.fill(0);
    this.t = 0;
  }

  private chunk(input: Int16Array, off: number, n: number, output: Int16Array, outOff: number): number {
    const { L, M, K, coef, buf } = this;
    const hist = K - 1;
    for (let i = 0; i < n; i++) buf[hist + i] = input[off + i]!;
    let t = this.t;
    let w = outOff;
    const end = n * L;
    while (t < end) {
      const x = Math.floor(t / L); // newest input sample index (chunk-relative)
      const p = t - x * L;
      const c0 = p * K;
      // buf[x] .. buf[x + K - 1] are x[n-K+1] .. x[n] (history offset hist = K - 1).
      let acc = 0;
      for (let j = 0; j < K; j++) acc += coef[c0 + j]! * buf[x + j]!;
      const v = Math.round(acc);
      output[w++] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
      t += M;
    }
    this.t = t - end;
    buf.copyWithin(0, n, n + hist);
    return w - outOff;
  }
}
