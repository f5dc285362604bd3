/**
 * The clock and timers of call logic, injected so a whole call flow (ring timeout, 2xx
 * retransmission, session timer, reliable provisionals) runs in unit tests without sleeps.
 */

/** Opaque handle of a pending timer. */
export type TimerHandle = { readonly __timer: unique symbol } | NodeJS.Timeout;

export interface Timers {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

/** Node's clock. Timers are unref'd: a pending call timer never keeps the process alive. */
export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => {
    if (h !== undefined) clearTimeout(h as NodeJS.Timeout);
  },
};
