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
  /** Min-heap on (at, id); cleared timers stay until popped (lazy deletion). */
  private readonly heap: FakeTimer[] = [];

  constructor(startMs = 1_700_000_000_000) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: FakeTimer = { id: this.nextId++, at: this.current + Math.max(0, ms), fn };
    this.pending.set(timer.id, timer);
    this.push(timer);
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
    while (this.heap.length > 0 && this.heap[0].at <= end) {
      const next = this.pop();
      if (!this.pending.delete(next.id)) continue; // cleared
      this.current = next.at;
      next.fn();
    }
    this.current = end;
  }

  /** Fires timers until none is left or `limitMs` of fake time has passed. */
  runAll(limitMs = 3_600_000): void {
    this.advance(limitMs);
  }

  private push(t: FakeTimer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  private pop(): FakeTimer {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l], h[m])) m = l;
        if (r < h.length && before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

function before(a: FakeTimer, b: FakeTimer): boolean {
  return a.at < b.at || (a.at === b.at && a.id < b.id);
}
