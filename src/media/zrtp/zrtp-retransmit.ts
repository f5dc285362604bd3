/**
 * The retransmission timers of RFC 6189 §6: T1 for Hello (50 ms doubling to 200 ms, 20 times),
 * T2 for Commit, DHPart2 and Confirm2 (150 ms doubling to 1.2 s, 10 times). One message is
 * outstanding at a time; a new one (or an answer) replaces it.
 */
import type { ZrtpTimers } from './zrtp-options.ts';

export interface RetransmitTimer {
  first: number;
  cap: number;
  tries: number;
}

export const T1: RetransmitTimer = { first: 50, cap: 200, tries: 20 };
export const T2: RetransmitTimer = { first: 150, cap: 1200, tries: 10 };

export class Retransmitter {
  private handle: unknown = null;

  constructor(private readonly timers: ZrtpTimers, private readonly send: (message: Buffer) => void) {}

  /** Sends `message` now and again on `t` until `stop`; `giveUp` runs after the last try. */
  start(message: Buffer, t: RetransmitTimer, giveUp: () => void): void {
    this.stop();
    this.send(message);
    let delay = t.first;
    let tries = 0;
    const again = (): void => {
      if (++tries > t.tries) {
        this.handle = null;
        giveUp();
        return;
      }
      this.send(message);
      delay = Math.min(delay * 2, t.cap);
      this.handle = this.timers.setTimeout(again, delay);
    };
    this.handle = this.timers.setTimeout(again, delay);
  }

  stop(): void {
    if (this.handle !== null) this.timers.clearTimeout(this.handle);
    this.handle = null;
  }
}
