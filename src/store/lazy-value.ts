/**
 * A value read from the database on first use and shared by everyone asking until it is
 * dropped: single-flight (callers arriving during a load share it), a failed load is not kept
 * (the next call tries again), and, with `ttlMs`, a loaded value is trusted that long only (a
 * bound for writes this process hears nothing of: another node, a restore).
 */
export class LazyValue<T> {
  private value: Promise<T> | undefined;
  private loadedAt = 0;

  constructor(
    private readonly load: () => Promise<T>,
    private readonly ttlMs = Infinity,
    private readonly now: () => number = Date.now,
  ) {}

  get(): Promise<T> {
    if (this.value === undefined || (this.ttlMs !== Infinity && this.now() - this.loadedAt >= this.ttlMs)) {
      const p = this.load();
      this.value = p;
      this.loadedAt = this.now();
      p.catch(() => { if (this.value === p) this.value = undefined; });
    }
    return this.value;
  }

  /** The next `get` loads again (a value being loaded now still reaches whoever asked for it). */
  invalidate(): void {
    this.value = undefined;
  }
}
