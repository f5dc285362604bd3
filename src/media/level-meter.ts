/**
 * Audio level of one endpoint for active-speaker detection and level displays: the RMS of
 * each 20 ms frame relative to full scale (dBFS: a full-scale square wave is 0, a full-scale
 * sine -3), smoothed with a fast attack and a slower release so a speaker's level does not
 * flicker between syllables. Fed by the decode path with frames it decoded anyway
 * (`graph-phases.ts`): one multiply-add per sample, only for endpoints asked for (`meter`).
 */

/** What a silent endpoint reports; also the floor of every reading. */
export const LEVEL_FLOOR_DB = -100;
/** Smoothing per 20 ms frame: rises within ~2 frames, falls over ~150 ms. */
const ATTACK = 0.6;
const RELEASE = 0.12;
const FULL_SCALE_SQ = 32768 * 32768;
const FLOOR_POWER = 10 ** (LEVEL_FLOOR_DB / 10);

export class LevelMeter {
  /** Smoothed mean square, 1 = full scale. */
  private power = 0;

  /** One frame of the endpoint; null when it was silent (nothing to mix this tick). */
  frame(pcm: Int16Array | null): void {
    let ms = 0;
    if (pcm !== null && pcm.length > 0) {
      let sum = 0;
      for (let i = 0; i < pcm.length; i++) sum += pcm[i] * pcm[i];
      ms = sum / (pcm.length * FULL_SCALE_SQ);
    }
    this.power += (ms > this.power ? ATTACK : RELEASE) * (ms - this.power);
  }

  /** The smoothed level in dBFS, at least {@link LEVEL_FLOOR_DB}, to 0.1 dB. */
  get db(): number {
    if (this.power <= FLOOR_POWER) return LEVEL_FLOOR_DB;
    return Math.round(100 * Math.log10(this.power)) / 10;
  }

  reset(): void {
    this.power = 0;
  }
}
