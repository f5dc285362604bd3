/**
 * Clock and timer abstraction for the SIP layer.
 *
 * Everything in `src/sip/` that reads the time or schedules work takes a
 * {@link Timers} (or just a {@link Clock}) instead of calling `Date.now()` /
 * `setTimeout` directly, so tests can drive RFC 3261 §17 timers (A..L, up to
 * 64*T1 = 32 s) in microseconds with {@link FakeTimers}.
 *
 * @example
 * ```ts
 * const timers = new FakeTimers();
 * timers.setTimeout(() => console.log('timer B'), 32_000);
 * timers.advance(32_000); // prints "timer B"
 * ```
 */

/** Wall clock in milliseconds since the epoch (same unit as `Date.now()`). */
export interface Clock {
  now(): number;
}

/** Opaque handle returned by {@link Timers.setTimeout}. */
export type TimerHandle = object;

/** One-shot timers plus a clock. */
export interface Timers extends Clock {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Real time: `Date.now()` and Node's global timers. */
export const systemTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

interface FakeTimer {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

/**
 * Deterministic clock for tests. Timers fire in due-time order (ties in
 * creation order) while {@link advance} moves the clock; a callback that
 * schedules a new timer inside the advanced window sees it fire in the same
 * call, as real time would.
 */
export class FakeTimers implements Timers {
  private current: number;
  private nextId = 1;
  private readonly pending = new Map<number, FakeTimer>();

  constructor(startMs = 1_700_000_000_000) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: FakeTimer = { id: this.nextId++, at: this.current + Math.max(0, ms), fn };
    this.pending.set(timer.id, timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    this.pending.delete((handle as FakeTimer).id);
  }

  /** Number of timers scheduled and not yet fired or cleared. */
  get size(): number {
    return this.pending.size;
  }

  /** Moves the clock forward by `ms`, firing every timer that falls due. */
  advance(ms: number): void {
    const end = this.current + ms;
    for (;;) {
      const next = this.earliest(end);
      if (next === undefined) break;
      this.pending.delete(next.id);
      this.current = next.at;
      next.fn();
    }
    this.current = end;
  }

  /** Fires timers until none is left or `limitMs` of fake time has passed. */
  runAll(limitMs = 3_600_000): void {
    this.advance(limitMs);
  }

  private earliest(end: number): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.pending.values()) {
      if (t.at > end) continue;
      if (best === undefined || t.at < best.at || (t.at === best.at && t.id < best.id)) best = t;
    }
    return best;
  }
}
