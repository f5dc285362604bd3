/**
 * Call-IDs this endpoint challenged (401/407) lately, for overload control (`endpoint.ts`): the
 * request that answers a challenge finishes work already paid for, so it is not shed. Shedding
 * it too made a REGISTER pair's odds (1 - p)² under a shed share p and wasted the challenge: at
 * 1.25× the clean rate, goodput fell to a third of it (bench/README.md, "Wave 2 session 16").
 *
 * Only Call-IDs we challenged count, so a flood that invents credentials gains nothing; the
 * challenges themselves stay sheddable. Two generations of `windowMs` each (a Call-ID is
 * remembered for one to two windows): no timer, no per-entry expiry, memory bounded by the
 * challenge rate.
 */
import { copyString } from './copy-string.ts';

export class ChallengedCallIds {
  private current = new Set<string>();
  private previous = new Set<string>();
  private rotatedAt: number;

  constructor(private readonly windowMs = 2000, private readonly now: () => number = Date.now) {
    this.rotatedAt = now();
  }

  add(callId: string): void {
    this.rotate();
    // A copy: a slice would keep the whole request's text for the window.
    this.current.add(copyString(callId));
  }

  has(callId: string): boolean {
    this.rotate();
    return this.current.has(callId) || this.previous.has(callId);
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }

  private rotate(): void {
    const t = this.now();
    if (t - this.rotatedAt < this.windowMs) return;
    this.previous = t - this.rotatedAt >= 2 * this.windowMs ? new Set() : this.current;
    this.current = new Set();
    this.rotatedAt = t;
  }
}
