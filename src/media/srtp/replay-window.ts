/**
 * The receiver's replay list (RFC 3711 §3.3.2): the last 64 packet indices. `check` before
 * authentication, `accept` only after it succeeded, so a forged packet never moves the window.
 * A slot holds the index last accepted into it: an index is seen when its slot holds exactly
 * it (indices are 48-bit, exact in a double; no allocation per packet).
 */
const WINDOW = 64;

export class ReplayWindow {
  private top = -1;
  private readonly seen = new Float64Array(WINDOW).fill(-1);

  /** True when `index` is new: ahead of the window, or inside it and not seen yet. */
  check(index: number): boolean {
    if (index > this.top) return true;
    if (this.top - index >= WINDOW) return false;
    return this.seen[index % WINDOW] !== index;
  }

  accept(index: number): void {
    if (index > this.top) this.top = index;
    this.seen[index % WINDOW] = index;
  }
}
