/**
 * The 20 ms clock of a worker's decode path. Ticks are scheduled against the monotonic clock
 * (`performance.now()`), not chained `setTimeout(20)`s, so timer lateness never accumulates
 * into drift. After a stall (GC, a busy loop) it runs the missed ticks at once, but at most
 * `maxCatchUp` frames of them: older ones are skipped, since their audio is too late to matter.
 *
 * With `phases` > 1 the frame is split into that many evenly spaced ticks (phase 0, 1, ...;
 * 5 ms apart for 4), each doing the work of the calls assigned to it: the work of a frame is
 * spread over the frame instead of one burst that holds the event loop (received packets
 * wait, the next tick starts late). Counters are per tick, i.e. per phase.
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

  /** Time between ticks: the frame divided by the phases. */
  readonly periodMs: number;
  /** Phase of the next tick. */
  private phase = 0;

  /**
   * @param onTick runs the graph for one phase of one frame (always 0 with one phase).
   * @param maxCatchUp frames run at once after a stall; older ones are skipped.
   * @param lateMs lateness from which a tick counts as late (default half a frame).
   * @param phases ticks per frame.
   */
  constructor(
    private readonly onTick: (phase: number) => void,
    private readonly driver: ClockDriver = realClockDriver,
    readonly maxCatchUp = 3,
    readonly lateMs = FRAME_MS / 2,
    readonly phases = 1,
  ) {
    this.periodMs = FRAME_MS / phases;
  }

  get running(): boolean {
    return this.cancel !== null;
  }

  start(): void {
    if (this.cancel !== null) return;
    this.due = this.driver.now() + this.periodMs;
    this.phase = 0;
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
    const period = this.periodMs;
    const maxBehind = this.maxCatchUp * this.phases;
    const behind = Math.floor((now - this.due) / period);
    if (behind >= maxBehind) {
      const skip = behind - maxBehind + 1;
      this.skippedTicks += skip;
      this.due += skip * period;
      this.phase = (this.phase + skip) % this.phases;
    }
    while (this.due <= now) {
      if (now - this.due > this.lateMs) this.lateTicks++;
      this.ticks++;
      this.due += period;
      const phase = this.phase;
      this.phase = phase + 1 === this.phases ? 0 : phase + 1;
      this.onTick(phase);
    }
    if (this.cancel !== null) this.arm();
  };
}
