/**
 * Active speaker of a room from its participants' levels (dBFS, `media/level-meter.ts`): the
 * loudest one above a threshold, with hysteresis so the speaker does not flip between two
 * people talking at similar levels: another participant takes over only when it is louder by
 * `hysteresisDb`, or when the current one has gone quiet or away. Nobody above the threshold
 * for `holdReports` reports in a row: no speaker. Pure, so the rule has unit tests.
 */

export interface SpeakerOptions {
  /** Quieter than this is not speaking. Default -50 dBFS (well above line noise). */
  thresholdDb?: number;
  /** How much louder a challenger must be to take over. Default 6 dB. */
  hysteresisDb?: number;
  /** Reports with nobody above the threshold before the speaker is cleared. Default 5 (1 s at 200 ms). */
  holdReports?: number;
}

export class SpeakerDetector {
  private current: string | null = null;
  private quiet = 0;
  private readonly threshold: number;
  private readonly hysteresis: number;
  private readonly hold: number;

  constructor(options: SpeakerOptions = {}) {
    this.threshold = options.thresholdDb ?? -50;
    this.hysteresis = options.hysteresisDb ?? 6;
    this.hold = options.holdReports ?? 5;
  }

  get speaker(): string | null {
    return this.current;
  }

  /**
   * One report: the levels of the participants that may speak (unmuted). Returns true when
   * the speaker changed (read it from `speaker`).
   */
  update(levels: ReadonlyMap<string, number>): boolean {
    let best: string | null = null;
    let bestDb = -Infinity;
    for (const [id, db] of levels) {
      if (db >= this.threshold && db > bestDb) {
        best = id;
        bestDb = db;
      }
    }
    const cur = this.current;
    const curDb = cur === null ? undefined : levels.get(cur);
    let next = cur;
    if (best === null) {
      this.quiet++;
      if (cur !== null && (curDb === undefined || this.quiet >= this.hold)) next = null;
    } else {
      this.quiet = 0;
      if (cur === null || curDb === undefined || curDb < this.threshold) next = best;
      else if (best !== cur && bestDb >= curDb + this.hysteresis) next = best;
    }
    if (next === cur) return false;
    this.current = next;
    return true;
  }
}
