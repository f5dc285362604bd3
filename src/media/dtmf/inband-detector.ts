/**
 * In-band DTMF detection on PCM frames, for legs that did not negotiate telephone-event.
 *
 * Classic block detector (the scheme of spandsp and Asterisk): the signal is cut into blocks of
 * 12.75 ms (102 samples at 8 kHz, scaled for 16 and 48 kHz so time and frequency resolution
 * are the same at every rate); a bank of 8 Goertzel filters measures the Q.23 frequencies in
 * each block. 12.75 ms gives ~78 Hz resolution, enough to separate 697 from 770 Hz (73 Hz),
 * the closest pair. A block is a *hit* for a key when:
 *
 * 1. both tones reach `minTonePower` (sensitivity; default -32 dBm0 per tone);
 * 2. twist is within limits: the high tone at most 8 dB below the low one (normal twist) and
 *    at most 4 dB above it (reverse twist), EIA-464 / Bellcore TR-NWT-000506;
 * 3. the strongest tone of each group is 6 dB above the other three of its group;
 * 4. the two tones hold at least 60 % of the block's energy (speech and music spread theirs
 *    across the band; this is the main talk-off guard);
 * 5. the two halves of the block carry energy within 3 dB of each other: a block only partly
 *    covered by the tone (at its start or end) fails, so a hit means ≥ ~75 % coverage and
 *    the hit count measures duration without depending on the signal level.
 *
 * A key is accepted after 3 consecutive hits (38 ms of block time: tones of 30 ms are always
 * rejected, tones of 45 ms or more always accepted, ITU-T Q.24 asks for 40 ms) and reported once
 * through `onDigit`; it ends after 2 consecutive blocks without it (the inter-digit gap, ~25 ms),
 * reported through `onDigitEnd` with its duration. Nothing is allocated per frame.
 */
import { DTMF_HIGH_HZ, DTMF_KEYPAD, DTMF_LOW_HZ, dbm0ToPeak, type DtmfDigit } from '../tone.ts';
import { GoertzelBank } from './goertzel.ts';

export interface InbandDtmfDetectorOptions {
  /** PCM rate of the frames: 8000 (primary), 16000 or 48000; any integer rate >= 8000 works (the block scales). */
  sampleRate: number;
  /** A key was accepted (once per press). `atSample` counts input samples since creation. */
  onDigit: (digit: DtmfDigit, atSample: number) => void;
  /** The key of the last `onDigit` was released; `durationMs` is the detected tone length. */
  onDigitEnd?: (digit: DtmfDigit, durationMs: number) => void;
  /** Minimum level of each tone, dBm0. Default -32. */
  minToneDbm0?: number;
  /** Consecutive hit blocks to accept a key. Default 3 (≈ 38 ms). */
  minHits?: number;
  /** Consecutive non-hit blocks that end a key. Default 2 (≈ 25 ms). */
  gapBlocks?: number;
}

const NORMAL_TWIST = 10 ** (-8 / 10); // high may be 8 dB below low
const REVERSE_TWIST = 10 ** (4 / 10); // high may be 4 dB above low
const RELATIVE_PEAK = 10 ** (6 / 10);
const TO_TOTAL_ENERGY = 0.6;
const HALF_BALANCE = 2; // 3 dB

/**
 * Streaming in-band DTMF detector; one per leg and direction.
 *
 * @example
 * const det = new InbandDtmfDetector({ sampleRate: 8000, onDigit: (d) => events.emit('dtmf', d) });
 * det.process(frame); // every 20 ms
 */
export class InbandDtmfDetector {
  readonly sampleRate: number;
  /** Samples per analysis block. */
  readonly blockSize: number;
  private readonly bank: GoertzelBank;
  private readonly onDigit: (digit: DtmfDigit, atSample: number) => void;
  private readonly onDigitEnd: ((digit: DtmfDigit, durationMs: number) => void) | undefined;
  private readonly minPower: number;
  private readonly minHits: number;
  private readonly gapBlocks: number;
  private readonly half: number;

  /** Samples already in the current block. */
  private fillCount = 0;
  private energyFirst = 0;
  private energySecond = 0;
  private samples = 0;
  /** Candidate key index (row*4+col) and its consecutive hits, -1 for none. */
  private candidate = -1;
  private hits = 0;
  /** Accepted key index being held, -1 for none. */
  private current = -1;
  private currentBlocks = 0;
  private misses = 0;

  constructor(options: InbandDtmfDetectorOptions) {
    const { sampleRate } = options;
    if (!(sampleRate >= 8000) || !Number.isInteger(sampleRate)) {
      throw new RangeError(`in-band DTMF detection needs an integer sample rate >= 8000, got ${sampleRate}`);
    }
    this.sampleRate = sampleRate;
    this.blockSize = Math.round((102 * sampleRate) / 8000);
    this.half = this.blockSize >> 1;
    this.bank = new GoertzelBank([...DTMF_LOW_HZ, ...DTMF_HIGH_HZ], sampleRate);
    this.onDigit = options.onDigit;
    this.onDigitEnd = options.onDigitEnd;
    const peak = dbm0ToPeak(options.minToneDbm0 ?? -32);
    this.minPower = (peak * peak) / 2;
    this.minHits = options.minHits ?? 3;
    this.gapBlocks = options.gapBlocks ?? 2;
  }

  /** The key currently held, or null. */
  get active(): DtmfDigit | null {
    return this.current < 0 ? null : DTMF_KEYPAD[this.current >> 2][this.current & 3];
  }

  /** Feeds `length` samples of `pcm` from `offset` (a 20 ms frame, or any length). */
  process(pcm: Int16Array, offset = 0, length = pcm.length - offset): void {
    const end = offset + length;
    let i = offset;
    while (i < end) {
      const n = Math.min(end - i, this.blockSize - this.fillCount);
      this.bank.accumulate(pcm, i, n);
      // Energy per half block, for the coverage check.
      const split = i + Math.max(0, Math.min(n, this.half - this.fillCount));
      let e1 = 0;
      let e2 = 0;
      for (let k = i; k < split; k++) e1 += pcm[k] * pcm[k];
      for (let k = split, stop = i + n; k < stop; k++) e2 += pcm[k] * pcm[k];
      this.energyFirst += e1;
      this.energySecond += e2;
      this.fillCount += n;
      i += n;
      if (this.fillCount === this.blockSize) {
        this.samples += this.blockSize;
        this.onBlock(this.classify());
        this.bank.reset();
        this.fillCount = 0;
        this.energyFirst = 0;
        this.energySecond = 0;
      }
    }
  }

  /** Ends a key still held (end of stream), reporting `onDigitEnd`. */
  flush(): void {
    if (this.current >= 0) this.end();
  }

  /** @returns the key index (row*4+col) this block is a hit for, or -1. */
  private classify(): number {
    const N = this.blockSize;
    const bank = this.bank;
    let row = 0;
    let rowP = bank.power(0, N);
    for (let k = 1; k < 4; k++) {
      const p = bank.power(k, N);
      if (p > rowP) {
        rowP = p;
        row = k;
      }
    }
    let col = 0;
    let colP = bank.power(4, N);
    for (let k = 1; k < 4; k++) {
      const p = bank.power(4 + k, N);
      if (p > colP) {
        colP = p;
        col = k;
      }
    }
    if (rowP < this.minPower || colP < this.minPower) return -1;
    if (colP < rowP * NORMAL_TWIST || colP > rowP * REVERSE_TWIST) return -1;
    for (let k = 0; k < 4; k++) {
      if (k !== row && bank.power(k, N) * RELATIVE_PEAK > rowP) return -1;
      if (k !== col && bank.power(4 + k, N) * RELATIVE_PEAK > colP) return -1;
    }
    const total = (this.energyFirst + this.energySecond) / N;
    if (rowP + colP < TO_TOTAL_ENERGY * total) return -1;
    const a = this.energyFirst;
    const b = this.energySecond;
    if (a > b * HALF_BALANCE || b > a * HALF_BALANCE) return -1;
    return row * 4 + col;
  }

  private onBlock(key: number): void {
    if (this.current >= 0) {
      if (key === this.current) {
        this.misses = 0;
        this.currentBlocks++;
        return;
      }
      if (++this.misses < this.gapBlocks) return;
      this.end();
    }
    if (key >= 0 && key === this.candidate) this.hits++;
    else {
      this.candidate = key;
      this.hits = key >= 0 ? 1 : 0;
    }
    if (this.hits >= this.minHits) {
      this.current = this.candidate;
      this.currentBlocks = this.hits;
      this.misses = 0;
      this.candidate = -1;
      this.hits = 0;
      this.onDigit(DTMF_KEYPAD[this.current >> 2][this.current & 3], this.samples);
    }
  }

  private end(): void {
    const digit = DTMF_KEYPAD[this.current >> 2][this.current & 3];
    const ms = (this.currentBlocks * this.blockSize * 1000) / this.sampleRate;
    this.current = -1;
    this.misses = 0;
    this.onDigitEnd?.(digit, ms);
  }
}
