/**
 * Player endpoint: a frame source reading a WAV file (any rate, mono or mixed down) or
 * synthesising a tone, optionally looping. A file that is missing or corrupt never takes the
 * worker down: the player plays silence and reports an error once.
 */
import { readFile } from 'node:fs/promises';
import { frameSamples } from './frame-endpoint.ts';
import type { SourceEndpoint } from './media-graph.ts';
import { readWav } from './audio-file/wav.ts';
import { toGraphRate } from './graph-rate.ts';

/** A tone: the sum of `frequencies` (dual tones for DTMF/ringback), on/off cadence. */
export interface ToneSpec {
  frequencies: number[];
  /** Level of each component in dBFS (default -16). */
  levelDb?: number;
  /** Cadence: tone for `onMs`, silence for `offMs` (default continuous). */
  onMs?: number;
  offMs?: number;
}

export type PlayerSource = { file: string } | { tone: ToneSpec };

export interface PlayerHooks {
  ended(): void;
  error(reason: string): void;
}

export class Player implements SourceEndpoint {
  readonly rate: number;
  readonly frame: Int16Array;
  private samples: Int16Array | null = null;
  private position = 0;
  private done = false;
  private readonly tone: ToneSpec | null;
  private phase: Float64Array;
  private elapsedMs = 0;

  private constructor(rate: number, tone: ToneSpec | null, private readonly loop: boolean, private readonly hooks: PlayerHooks) {
    this.rate = rate;
    this.frame = new Int16Array(frameSamples(rate));
    this.tone = tone;
    this.phase = new Float64Array(tone?.frequencies.length ?? 0);
  }

  /**
   * Loads the source. A file problem yields a silent player and one `error` hook call, after
   * the returned promise resolved (so the endpoint exists when the error is reported).
   */
  static async open(source: PlayerSource, loop: boolean, hooks: PlayerHooks): Promise<Player> {
    if ('tone' in source) {
      const t = source.tone;
      const top = Math.max(0, ...t.frequencies);
      return new Player(top > 3400 ? 16000 : 8000, t, loop, hooks);
    }
    try {
      const audio = toGraphRate(readWav(await readFile(source.file)));
      const p = new Player(audio.sampleRate, null, loop, hooks);
      p.samples = audio.samples;
      return p;
    } catch (err) {
      const reason = `player file ${source.file}: ${(err as Error).message}`;
      const p = new Player(8000, null, loop, hooks);
      p.done = true;
      queueMicrotask(() => hooks.error(reason));
      return p;
    }
  }

  advance(): boolean {
    if (this.done) return false;
    if (this.tone !== null) return this.synthesise(this.tone);
    const src = this.samples!;
    const frame = this.frame;
    const n = frame.length;
    for (let i = 0; i < n; i++) {
      if (this.position >= src.length) {
        if (!this.loop) {
          frame.fill(0, i);
          this.done = true;
          this.hooks.ended();
          return i > 0;
        }
        this.position = 0;
      }
      frame[i] = src[this.position++];
    }
    return true;
  }

  private synthesise(t: ToneSpec): boolean {
    const frame = this.frame;
    const on = t.onMs ?? Infinity;
    const period = on + (t.offMs ?? 0);
    const inCadence = period === Infinity || this.elapsedMs % period < on;
    this.elapsedMs += 20;
    if (!inCadence) return false;
    const amp = 32767 * 10 ** ((t.levelDb ?? -16) / 20);
    const freqs = t.frequencies;
    frame.fill(0);
    for (let k = 0; k < freqs.length; k++) {
      const step = (2 * Math.PI * freqs[k]) / this.rate;
      let ph = this.phase[k];
      for (let i = 0; i < frame.length; i++) {
        frame[i] += Math.round(amp * Math.sin(ph));
        ph += step;
      }
      this.phase[k] = ph % (2 * Math.PI);
    }
    return true;
  }

  close(): void {
    this.samples = null;
  }
}
