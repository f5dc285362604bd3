/**
 * The clock and timers of call logic: the SIP layer's `Timers` (src/sip/timers.ts), injected so
 * whole call flows (ring timeout, 2xx retransmission, session timer, reliable provisionals)
 * run in unit tests on `FakeTimers`, without sleeps.
 */
import type { TimerHandle, Timers } from '../sip/timers.ts';

export type { TimerHandle, Timers } from '../sip/timers.ts';

/** Node's clock. Timers are unref'd: a pending call timer never keeps the process alive. */
export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Clears `handle` when set (call timers are optional fields). */
export function clearTimer(timers: Timers, handle: TimerHandle | undefined): void {
  if (handle !== undefined) timers.clearTimeout(handle);
}
