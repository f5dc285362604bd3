/**
 * The 20 ms clock of a worker's decode path. Ticks are scheduled against the monotonic clock
 * (`performance.now()`), not chained `setTimeout(20)`s, so timer lateness never accumulates
 * into drift. After a stall (GC, a busy loop) it runs the missed ticks at once, but at most
 * `maxCatchUp` of them: older ones are skipped, since their audio is too late to matter.
 *
 * `now` and `schedule` are injected so tests drive it by hand.
 */
import { FRAME_MS } from './frame-endpoint.ts';

export interface ClockDriver {
  now(): number;
  /** Calls `fn` after about `ms`; returns a cancel function. */
  schedule(fn: () => void, ms: number): () => void;
}

export const realClockDriver: ClockDriver = {
  now: () => performance.now(),
  schedule(fn, ms) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

export class MediaClock {
  /** Ticks run. */
  ticks = 0;
  /** Ticks that ran more than `lateMs` after their due time. */
  lateTicks = 0;
  /** Ticks skipped after a stall longer than `maxCatchUp` frames. */
  skippedTicks = 0;
  private due = 0;
  private cancel: (() => void) | null = null;

  /**
   * @param onTick runs the graph for one frame.
   * @param lateMs lateness from which a tick counts as late (default half a frame).
   */
  constructor(
    private readonly onTick: () => void,
    private readonly driver: ClockDriver = realClockDriver,
    readonly maxCatchUp = 3,
    readonly lateMs = FRAME_MS / 2,
  ) {}

  get running(): boolean {
    return this.cancel !== null;
  }

  start(): void {
    if (this.cancel !== null) return;
    this.due = this.driver.now() + FRAME_MS;
    this.arm();
  }

  stop(): void {
    this.cancel?.();
    this.cancel = null;
  }

  private arm(): void {
    const wait = Math.max(0, this.due - this.driver.now());
    this.cancel = this.driver.schedule(this.fire, wait);
  }

  private readonly fire = (): void => {
    const now = this.driver.now();
    let behind = Math.floor((now - this.due) / FRAME_MS);
    if (behind >= this.maxCatchUp) {
      const skip = behind - this.maxCatchUp + 1;
      this.skippedTicks += skip;
      this.due += skip * FRAME_MS;
      behind -= skip;
    }
    while (this.due <= now) {
      if (now - this.due > this.lateMs) this.lateTicks++;
      this.ticks++;
      this.due += FRAME_MS;
      this.onTick();
    }
    if (this.cancel !== null) this.arm();
  };
}
