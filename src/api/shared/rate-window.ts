/**
 * Requests per key (e.g. a client address) in fixed windows: enough to keep a public route
 * from being used as an oracle or a load generator. In memory per node, bounded in size.
 */
export class RateWindow {
  private readonly counts = new Map<string, { start: number; n: number }>();

  constructor(private readonly opts: { max: number; windowMs: number; maxKeys?: number; now?: () => number }) {}

  /** Counts one request; returns 0 when allowed, else milliseconds until the key's window ends. */
  hit(key: string): number {
    const now = (this.opts.now ?? Date.now)();
    let e = this.counts.get(key);
    if (!e || now - e.start >= this.opts.windowMs) {
      if (!e && this.counts.size >= (this.opts.maxKeys ?? 100_000)) this.sweep(now);
      e = { start: now, n: 0 };
      this.counts.set(key, e);
    }
    e.n++;
    return e.n > this.opts.max ? e.start + this.opts.windowMs - now : 0;
  }

  private sweep(now: number): void {
    for (const [k, e] of this.counts) if (now - e.start >= this.opts.windowMs) this.counts.delete(k);
    // All windows still open: drop the oldest key rather than grow without bound.
    if (this.counts.size >= (this.opts.maxKeys ?? 100_000)) this.counts.delete(this.counts.keys().next().value!);
  }
}
