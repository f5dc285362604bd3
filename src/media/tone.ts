/**
 * Tone generation for the media graph: DTMF digits, call-progress tones (ringback, busy) and
 * the project's own default music on hold. Everything writes 16-bit mono PCM into caller-owned
 * `Int16Array` frames, so a player can run on the worker's 20 ms clock without allocating.
 *
 * Oscillators are phase-continuous across `fill` calls: a tone cut into 20 ms frames is the
 * same signal as the tone generated in one piece (no click at every frame boundary).
 */

/** A DTMF key: 0-9, `*`, `#`, A-D (ITU-T Q.23). */
export type DtmfDigit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | '*' | '#' | 'A' | 'B' | 'C' | 'D';

/** Every DTMF key, in RFC 4733 event-code order (§3.2, table 1: 0-9, *, #, A-D = 0..15). */
export const DTMF_DIGITS: readonly DtmfDigit[] = [
  '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'A', 'B', 'C', 'D',
];

/** Low (row) group frequencies of ITU-T Q.23, Hz. */
export const DTMF_LOW_HZ: readonly number[] = [697, 770, 852, 941];
/** High (column) group frequencies of ITU-T Q.23, Hz. */
export const DTMF_HIGH_HZ: readonly number[] = [1209, 1336, 1477, 1633];

/**
 * Keypad layout of ITU-T Q.23: row = low tone, column = high tone.
 * ```
 *          1209 1336 1477 1633
 *    697     1    2    3    A
 *    770     4    5    6    B
 *    852     7    8    9    C
 *    941     *    0    #    D
 * ```
 */
export const DTMF_KEYPAD: readonly (readonly DtmfDigit[])[] = [
  ['1', '2', '3', 'A'],
  ['4', '5', '6', 'B'],
  ['7', '8', '9', 'C'],
  ['*', '0', '#', 'D'],
];

/** Digit → `[low Hz, high Hz]`, derived from {@link DTMF_KEYPAD}. */
export const DTMF_FREQUENCIES: Readonly<Record<DtmfDigit, readonly [number, number]>> = (() => {
  const table = {} as Record<DtmfDigit, readonly [number, number]>;
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) table[DTMF_KEYPAD[r][c]] = [DTMF_LOW_HZ[r], DTMF_HIGH_HZ[c]];
  }
  return table;
})();

/** True when `s` is one DTMF key (case-sensitive: A-D upper case, as RFC 4733 and SIP INFO use). */
export function isDtmfDigit(s: string): s is DtmfDigit {
  return s.length === 1 && '0123456789*#ABCD'.includes(s);
}

/**
 * Peak amplitude (16-bit linear) of a sine at 0 dBm0. G.711's full-scale sine is +3.14 dBm0
 * (A-law; µ-law +3.17, ITU-T G.711 table 5 / G.168), i.e. 32767 at +3.14 dBm0, so
 * 0 dBm0 = 32767 / 10^(3.14/20) ≈ 22826.
 */
export const DBM0_REFERENCE_PEAK = 32767 / 10 ** (3.14 / 20);

/** Peak 16-bit amplitude of a sine at `dbm0` (e.g. -10 → 7206). */
export function dbm0ToPeak(dbm0: number): number {
  return DBM0_REFERENCE_PEAK * 10 ** (dbm0 / 20);
}

/** Level of one tone component: `{ dbm0: -10 }` or `{ peak: 8000 }` (16-bit linear peak). */
export type ToneLevel = { dbm0: number } | { peak: number };

export interface ToneOptions {
  /** PCM rate of the frames to fill, any positive rate (8000, 16000, 48000 in the graph). */
  sampleRate: number;
  /** One or two frequencies in Hz, each below the Nyquist frequency. */
  frequencies: readonly number[];
  /** Level of *each* component (DTMF: -7 dBm0 low / -5 high are Q.23 nominal). Default -10 dBm0. */
  level?: ToneLevel | readonly ToneLevel[];
}

function levelToPeak(level: ToneLevel): number {
  return 'dbm0' in level ? dbm0ToPeak(level.dbm0) : level.peak;
}

/**
 * A phase-continuous sum of up to two sines.
 *
 * Each component is a rotating phasor (c, s) multiplied by (cos ω, sin ω) every sample: two
 * multiply-adds per sample instead of a `Math.sin`. Rounding makes the phasor's length drift
 * slowly, so it is renormalised at the end of every `fill` (once per frame).
 *
 * @example
 * const tone = new ToneGenerator({ sampleRate: 8000, frequencies: [425], level: { dbm0: -10 } });
 * const frame = new Int16Array(160);
 * tone.fill(frame); // 20 ms of 425 Hz; the next call continues the same sine
 */
export class ToneGenerator {
  readonly sampleRate: number;
  readonly frequencies: readonly number[];
  /** Phasor state, one pair per component: cos, sin. */
  private readonly re: Float64Array;
  private readonly im: Float64Array;
  /** Per-sample rotation. */
  private readonly stepRe: Float64Array;
  private readonly stepIm: Float64Array;
  private readonly peak: Float64Array;
  private readonly count: number;

  constructor(options: ToneOptions) {
    const { sampleRate, frequencies } = options;
    if (!(sampleRate > 0) || !Number.isFinite(sampleRate)) throw new RangeError(`sampleRate must be > 0, got ${sampleRate}`);
    if (frequencies.length < 1 || frequencies.length > 2) {
      throw new RangeError(`a tone has one or two frequencies, got ${frequencies.length}`);
    }
    for (const f of frequencies) {
      if (!(f > 0) || f >= sampleRate / 2) throw new RangeError(`frequency ${f} Hz outside (0, ${sampleRate / 2}) at ${sampleRate} Hz`);
    }
    const lv = options.level ?? { dbm0: -10 };
    const levels: readonly ToneLevel[] = Array.isArray(lv) ? lv : [lv as ToneLevel];
    this.sampleRate = sampleRate;
    this.frequencies = [...frequencies];
    this.count = frequencies.length;
    this.re = new Float64Array(this.count);
    this.im = new Float64Array(this.count);
    this.stepRe = new Float64Array(this.count);
    this.stepIm = new Float64Array(this.count);
    this.peak = new Float64Array(this.count);
    for (let i = 0; i < this.count; i++) {
      const w = (2 * Math.PI * frequencies[i]) / sampleRate;
      this.stepRe[i] = Math.cos(w);
      this.stepIm[i] = Math.sin(w);
      this.peak[i] = levelToPeak(levels[Math.min(i, levels.length - 1)]);
    }
    this.reset();
  }

  /** Restarts every component at phase 0 (sin = 0, so a tone starting here does not click). */
  reset(): void {
    this.re.fill(1);
    this.im.fill(0);
  }

  /**
   * Writes `length` samples of the tone into `out` from `offset`, saturating at ±32767.
   * @returns the number of samples written.
   */
  fill(out: Int16Array, offset = 0, length = out.length - offset): number {
    const n = this.count;
    for (let k = 0; k < n; k++) {
      let c = this.re[k];
      let s = this.im[k];
      const wc = this.stepRe[k];
      const ws = this.stepIm[k];
      const a = this.peak[k];
      const end = offset + length;
      if (k === 0) {
        for (let i = offset; i < end; i++) {
          out[i] = Math.round(a * s);
          const c2 = c * wc - s * ws;
          s = c * ws + s * wc;
          c = c2;
        }
      } else {
        for (let i = offset; i < end; i++) {
          const v = out[i] + Math.round(a * s);
          out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
          const c2 = c * wc - s * ws;
          s = c * ws + s * wc;
          c = c2;
        }
      }
      const norm = 1 / Math.sqrt(c * c + s * s);
      this.re[k] = c * norm;
      this.im[k] = s * norm;
    }
    return length;
  }
}

/**
 * The tone of one DTMF key at Q.23 nominal levels with 2 dB of pre-emphasis on the high tone
 * (default low -7 dBm0, high -5 dBm0), or at `level` dBm0 for both.
 */
export function dtmfTone(digit: DtmfDigit, sampleRate: number, level?: { low: number; high: number }): ToneGenerator {
  const [lo, hi] = DTMF_FREQUENCIES[digit];
  const l = level ?? { low: -7, high: -5 };
  return new ToneGenerator({ sampleRate, frequencies: [lo, hi], level: [{ dbm0: l.low }, { dbm0: l.high }] });
}

/** One step of a cadence: a tone (1-2 frequencies) or silence (`frequencies: []`), for `ms`. */
export interface CadenceStep {
  ms: number;
  frequencies: readonly number[];
  /** Per-component level; default -10 dBm0 (ETSI TBR/ES 201 970 call-progress tones: -10 to -13). */
  level?: ToneLevel | readonly ToneLevel[];
}

/**
 * Call-progress tones and the generated default music on hold, as cadences.
 * Frequencies and timings: ETSI ES 201 970 / ITU-T E.180 (425 Hz Europe), North America
 * 440+480 ringback (ANSI T1.401).
 */
export const CADENCES = {
  /** ETSI/CEPT ringback: 425 Hz, 1 s on, 4 s off. */
  ringback: [{ ms: 1000, frequencies: [425] }, { ms: 4000, frequencies: [] }],
  /** North American ringback: 440+480 Hz, 2 s on, 4 s off. */
  ringbackUs: [{ ms: 2000, frequencies: [440, 480] }, { ms: 4000, frequencies: [] }],
  /** ETSI busy: 425 Hz, 0.5 s on, 0.5 s off. */
  busy: [{ ms: 500, frequencies: [425] }, { ms: 500, frequencies: [] }],
  /** ETSI congestion: 425 Hz, 0.25 s on, 0.25 s off. */
  congestion: [{ ms: 250, frequencies: [425] }, { ms: 250, frequencies: [] }],
  /** Continuous dial tone, 425 Hz (one long step; loops seamlessly). */
  dial: [{ ms: 1000, frequencies: [425] }],
  /**
   * Default music on hold: a slow I-vi-IV-V progression in A major as two-note chords
   * (root + fifth, then third + octave) at a soft -16 dBm0, 8 s per loop. Two-note chords keep
   * the generator at two oscillators; none of the intervals pairs a DTMF row with a column
   * frequency, so MOH never triggers an in-band detector.
   */
  musicOnHold: [
    { ms: 900, frequencies: [220.0, 329.63], level: { dbm0: -16 } },
    { ms: 100, frequencies: [] },
    { ms: 900, frequencies: [277.18, 440.0], level: { dbm0: -16 } },
    { ms: 100, frequencies: [] },
    { ms: 900, frequencies: [185.0, 277.18], level: { dbm0: -16 } },
    { ms: 100, frequencies: [] },
    { ms: 900, frequencies: [220.0, 369.99], level: { dbm0: -16 } },
    { ms: 100, frequencies: [] },
    { ms: 900, frequencies: [146.83, 220.0], level: { dbm0: -16 } },
    { ms: 100, frequencies: [] },
    { ms: 900, frequencies: [220.0, 293.66], level: { dbm0: -16 } },
    { ms: 100, frequencies: [] },
    { ms: 900, frequencies: [164.81, 246.94], level: { dbm0: -16 } },
    { ms: 100, frequencies: [] },
    { ms: 900, frequencies: [246.94, 329.63], level: { dbm0: -16 } },
    { ms: 100, frequencies: [] },
  ],
} as const satisfies Record<string, readonly CadenceStep[]>;

/** Length of a ramp at each end of a tone step, so cadence edges do not click. */
const RAMP_MS = 4;

/**
 * Loops a cadence of tone and silence steps, sample-accurately, into caller-owned frames.
 * Each tone step starts at phase 0 and is shaped by a 4 ms linear ramp at both ends.
 *
 * @example
 * const ring = new CadencePlayer(CADENCES.ringback, 8000);
 * const frame = new Int16Array(160);
 * setInterval(() => { ring.fill(frame); encodeAndSend(frame) }, 20);
 */
export class CadencePlayer {
  readonly sampleRate: number;
  private readonly steps: readonly { samples: number; tone: ToneGenerator | null }[];
  private readonly ramp: number;
  private step = 0;
  /** Samples already played of the current step. */
  private pos = 0;
  /** Total samples of one loop. */
  readonly loopSamples: number;

  constructor(cadence: readonly CadenceStep[], sampleRate: number) {
    if (cadence.length === 0) throw new RangeError('a cadence needs at least one step');
    this.sampleRate = sampleRate;
    this.ramp = Math.max(1, Math.round((RAMP_MS * sampleRate) / 1000));
    let total = 0;
    this.steps = cadence.map((s) => {
      const samples = Math.round((s.ms * sampleRate) / 1000);
      if (!(samples > 0)) throw new RangeError(`cadence step of ${s.ms} ms is shorter than one sample`);
      total += samples;
      const tone = s.frequencies.length === 0 ? null : new ToneGenerator({ sampleRate, frequencies: s.frequencies, level: s.level });
      return { samples, tone };
    });
    this.loopSamples = total;
  }

  /** Back to the start of the first step. */
  reset(): void {
    this.step = 0;
    this.pos = 0;
    this.steps[0].tone?.reset();
  }

  /** Fills `length` samples of `out` from `offset`, looping the cadence. @returns samples written. */
  fill(out: Int16Array, offset = 0, length = out.length - offset): number {
    let i = offset;
    const end = offset + length;
    while (i < end) {
      const st = this.steps[this.step];
      const n = Math.min(end - i, st.samples - this.pos);
      if (st.tone === null) {
        out.fill(0, i, i + n);
      } else {
        st.tone.fill(out, i, n);
        this.shape(out, i, n, st.samples);
      }
      i += n;
      this.pos += n;
      if (this.pos === st.samples) {
        this.pos = 0;
        this.step = (this.step + 1) % this.steps.length;
        if (this.steps.length > 1) this.steps[this.step].tone?.reset();
      }
    }
    return length;
  }

  /** Applies the start/end ramps to samples [pos, pos+n) of a step of `total` samples at `i`. */
  private shape(out: Int16Array, i: number, n: number, total: number): void {
    // A single-step cadence is a continuous tone: no ramps, or it would dip once per loop.
    if (this.steps.length === 1) return;
    const r = this.ramp;
    if (this.pos >= r && this.pos + n <= total - r) return;
    for (let k = 0; k < n; k++) {
      const p = this.pos + k;
      const head = p < r ? p / r : 1;
      const tail = total - p <= r ? (total - p - 1) / r : 1;
      const g = head < tail ? head : tail;
      if (g < 1) out[i + k] = Math.round(out[i + k] * g);
    }
  }
}
