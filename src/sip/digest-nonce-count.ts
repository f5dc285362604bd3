/**
 * Nonce-count replay protection with bounded memory (RFC 7616 §3.4:
 * "the server can detect request replays by maintaining its own copy of
 * this count — if the same nc-value is seen twice, then the request is a
 * replay").
 *
 * Keeps the highest nc seen per nonce in an LRU of at most `capacity`
 * entries. Forgetting a nonce must not reopen it to replays, so eviction
 * raises a watermark: a nonce issued at or before the newest evicted nonce
 * and no longer tracked is reported `forgotten`; the server then answers
 * stale=true and the client retries with a fresh nonce, at no cost to the user.
 * Memory is O(capacity) whatever the request rate.
 *
 * Limit: the table is per process. In a cluster, a request replayed to
 * another node within the nonce lifetime is not caught by this table.
 */

import { copyString } from './copy-string.ts';

/** Outcome of {@link NonceCountTracker.check}. */
export type NonceCountCheck = 'ok' | 'replay' | 'forgotten';

interface Entry {
  issuedAt: number;
  nc: number;
}

export class NonceCountTracker {
  private readonly entries = new Map<string, Entry>();
  private watermark = -1;

  constructor(readonly capacity = 100_000) {
    if (!(capacity >= 1)) throw new RangeError(`nonce-count capacity must be >= 1, got ${capacity}`);
  }

  /** Number of nonces tracked (never above `capacity`). */
  get size(): number {
    return this.entries.size;
  }

  /** Read-only check: `nc` must be above the highest nc accepted for `nonce`. */
  check(nonce: string, issuedAt: number, nc: number): NonceCountCheck {
    const e = this.entries.get(nonce);
    if (e === undefined) return issuedAt <= this.watermark ? 'forgotten' : 'ok';
    return nc <= e.nc ? 'replay' : 'ok';
  }

  /**
   * Records an accepted `nc`. Call only after the credentials verified, so
   * unauthenticated requests can neither fill the table nor push nc forward.
   */
  record(nonce: string, issuedAt: number, nc: number): void {
    const e = this.entries.get(nonce);
    if (e !== undefined) {
      this.entries.delete(nonce); // re-insert: Map order is our LRU order
      if (nc > e.nc) e.nc = nc;
      this.entries.set(nonce, e);
      return;
    }
    // A copy: the nonce was cut out of the request's text, which would stay alive with it
    // (~600 octets per REGISTER, up to `capacity` of them).
    this.entries.set(copyString(nonce), { issuedAt, nc });
    if (this.entries.size > this.capacity) {
      const [oldKey, old] = this.entries.entries().next().value as [string, Entry];
      this.entries.delete(oldKey);
      if (old.issuedAt > this.watermark) this.watermark = old.issuedAt;
    }
  }
}
