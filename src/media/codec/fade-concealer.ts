/**
 * Packet-loss concealment for codecs without their own (G.711, G.722): the last good frame is
 * repeated with a linear fade to silence over {@link FADE_MS}, the simple "waveform repeat"
 * that G.711 Appendix I refines. Long gaps become silence rather than a buzzing loop.
 */

/** Milliseconds over which a repeated frame fades to silence (3 frames of 20 ms). */
export const FADE_MS = 60;

export class FadeConcealer {
  private readonly last: Int16Array;
  private lastLength = 0;
  /** Gain at the next concealed sample (1 = the last frame as it was). */
  private gain = 0;
  /** Read position inside `last` for the next concealed sample, so repeats are continuous. */
  private pos = 0;
  private readonly step: number;

  /** @param sampleRate PCM rate; the remembered frame holds at most 120 ms of it. */
  constructor(sampleRate: number) {
    this.last = new Int16Array((sampleRate * 120) / 1000);
    this.step = 1000 / (sampleRate * FADE_MS);
  }

  /** Remembers `length` samples of a good frame and resets the fade. */
  remember(pcm: Int16Array, length: number): void {
    const n = Math.min(length, this.last.length);
    this.last.set(n === pcm.length ? pcm : pcm.subarray(0, n));
    this.lastLength = n;
    this.gain = 1;
    this.pos = 0;
  }

  /** Writes `samples` concealment samples into `dst`. @returns samples written. */
  conceal(dst: Int16Array, samples: number): number {
    const n = Math.min(samples, dst.length);
    const src = this.last;
    const len = this.lastLength;
    let gain = this.gain;
    let pos = this.pos;
    for (let i = 0; i < n; i++) {
      if (gain <= 0 || len === 0) {
        dst.fill(0, i, n);
        gain = 0;
        break;
      }
      dst[i] = Math.round(src[pos]! * gain);
      if (++pos === len) pos = 0;
      gain -= this.step;
    }
    this.gain = gain;
    this.pos = pos;
    return n;
  }
}
