/**
 * Login lockout: too many failures for one account or one source address within the
 * window locks that key out for the lockout period. Kept in memory per node: a lock is a
 * brake on guessing, not a record that must survive restarts.
 */
export interface ThrottleOptions {
  maxFailures: number;
  windowMs: number;
  lockoutMs: number;
  now?: () => number;
  maxKeys?: number;
}

interface Entry {
  failures: number[];
  lockedUntil: number;
}

export class LoginThrottle {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private readonly maxKeys: number;

  constructor(private readonly opts: ThrottleOptions) {
    this.now = opts.now ?? Date.now;
    this.maxKeys = opts.maxKeys ?? 100_000;
  }

  /** Milliseconds until any of the keys is unlocked, or 0 when none is locked. */
  lockedFor(keys: string[]): number {
    const now = this.now();
    let wait = 0;
    for (const k of keys) {
      const e = this.entries.get(k);
      if (e && e.lockedUntil > now) wait = Math.max(wait, e.lockedUntil - now);
    }
    return wait;
  }

  recordFailure(keys: string[]): void {
    const now = this.now();
    for (const k of keys) {
      let e = this.entries.get(k);
      if (!e) {
        if (this.entries.size >= this.maxKeys) this.evictOldest();
        e = { failures: [], lockedUntil: 0 };
        this.entries.set(k, e);
      }
      e.failures = e.failures.filter((t) => now - t < this.opts.windowMs);
      e.failures.push(now);
      if (e.failures.length >= this.opts.maxFailures) {
        e.lockedUntil = now + this.opts.lockoutMs;
        e.failures = [];
      }
    }
  }

  recordSuccess(keys: string[]): void {
    for (const k of keys) this.entries.delete(k);
  }

  private evictOldest(): void {
    const first = this.entries.keys().next();
    if (!first.done) this.entries.delete(first.value);
  }
}
