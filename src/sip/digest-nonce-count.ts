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
 * The table lives in typed arrays, not on the JS heap: a registration storm
 * records a new nonce per REGISTER, and as strings and objects in a `Map`
 * each lived ~25 s at 4,000/s (100,000 entries), long enough to be promoted
 * and then collected by the old generation, and the `Map`'s backing store was
 * rehashed in large-object space as entries came and went. Here an entry is
 * a slot: its key's bytes, issue time, nc and LRU links; a `ProbeIndex` maps
 * a key's hash to its slot.
 *
 * Limit: the table is per process. In a cluster, a request replayed to
 * another node within the nonce lifetime is not caught by this table.
 */

import { hashString, ProbeIndex } from './probe-index.ts';

/** Outcome of {@link NonceCountTracker.check}. */
export type NonceCountCheck = 'ok' | 'replay' | 'forgotten';

/** Longest key kept (a nonce of `digest-nonce.ts` is 40 characters); longer keys are refused. */
export const MAX_NONCE_CHARS = 64;
const INITIAL_SLOTS = 1024;
const NONE = -1;

export class NonceCountTracker {
  private count = 0;
  /** Key bytes of each slot (`MAX_NONCE_CHARS` per slot) and their length. */
  private keys = new Uint8Array(0);
  private keyLength = new Uint8Array(0);
  private issued = new Float64Array(0);
  private ncs = new Float64Array(0);
  private hashes = new Int32Array(0);
  /** LRU list over the used slots: `oldest` … `newest` through `newer`/`older`. */
  private newer = new Int32Array(0);
  private older = new Int32Array(0);
  private oldest = NONE;
  private newest = NONE;
  private readonly index = new ProbeIndex(INITIAL_SLOTS);
  private watermark = -1;

  constructor(readonly capacity = 100_000) {
    if (!(capacity >= 1)) throw new RangeError(`nonce-count capacity must be >= 1, got ${capacity}`);
    this.resize(Math.min(capacity, INITIAL_SLOTS));
  }

  /** Number of nonces tracked (never above `capacity`). */
  get size(): number {
    return this.count;
  }

  /** Read-only check: `nc` must be above the highest nc accepted for `nonce`. */
  check(nonce: string, issuedAt: number, nc: number): NonceCountCheck {
    const slot = this.find(nonce, hashString(nonce));
    if (slot === NONE) return issuedAt <= this.watermark ? 'forgotten' : 'ok';
    return nc <= this.ncs[slot]! ? 'replay' : 'ok';
  }

  /**
   * Records an accepted `nc`. Call only after the credentials verified, so
   * unauthenticated requests can neither fill the table nor push nc forward.
   * @throws RangeError for a key longer than {@link MAX_NONCE_CHARS} or not ASCII.
   */
  record(nonce: string, issuedAt: number, nc: number): void {
    const hash = hashString(nonce);
    let slot = this.find(nonce, hash);
    if (slot !== NONE) {
      if (nc > this.ncs[slot]!) this.ncs[slot] = nc;
      this.unlink(slot);
      this.link(slot);
      return;
    }
    checkKey(nonce);
    const slots = this.issued.length;
    if (this.count === slots) {
      if (slots < this.capacity) {
        this.resize(Math.min(this.capacity, slots * 2));
      } else {
        slot = this.oldest;
        if (this.issued[slot]! > this.watermark) this.watermark = this.issued[slot]!;
        this.index.remove(this.hashes[slot]!, slot);
        this.unlink(slot);
        this.count--;
      }
    }
    if (slot === NONE) slot = this.count; // slots fill in order until the table is full
    const base = slot * MAX_NONCE_CHARS;
    for (let i = 0; i < nonce.length; i++) this.keys[base + i] = nonce.charCodeAt(i);
    this.keyLength[slot] = nonce.length;
    this.issued[slot] = issuedAt;
    this.ncs[slot] = nc;
    this.hashes[slot] = hash;
    this.index.add(hash, slot);
    this.link(slot);
    this.count++;
  }

  private find(nonce: string, hash: number): number {
    if (nonce.length > MAX_NONCE_CHARS) return NONE;
    for (let b = this.index.first(hash); b >= 0; b = this.index.next(b, hash)) {
      const slot = this.index.valueAt(b);
      if (this.keyIs(slot, nonce)) return slot;
    }
    return NONE;
  }

  private keyIs(slot: number, nonce: string): boolean {
    if (this.keyLength[slot] !== nonce.length) return false;
    const base = slot * MAX_NONCE_CHARS;
    for (let i = 0; i < nonce.length; i++) if (this.keys[base + i] !== nonce.charCodeAt(i)) return false;
    return true;
  }

  private link(slot: number): void {
    this.older[slot] = this.newest;
    this.newer[slot] = NONE;
    if (this.newest !== NONE) this.newer[this.newest] = slot;
    this.newest = slot;
    if (this.oldest === NONE) this.oldest = slot;
  }

  private unlink(slot: number): void {
    const o = this.older[slot]!;
    const n = this.newer[slot]!;
    if (o !== NONE) this.newer[o] = n; else this.oldest = n;
    if (n !== NONE) this.older[n] = o; else this.newest = o;
  }

  /** Room for `slots` entries: the arrays grow, entries keep their slots (and the index its values). */
  private resize(slots: number): void {
    const grow = <T extends Uint8Array | Int32Array | Float64Array>(old: T, make: (n: number) => T, per = 1): T => {
      const a = make(slots * per);
      a.set(old);
      return a;
    };
    this.keys = grow(this.keys, (n) => new Uint8Array(n), MAX_NONCE_CHARS);
    this.keyLength = grow(this.keyLength, (n) => new Uint8Array(n));
    this.issued = grow(this.issued, (n) => new Float64Array(n));
    this.ncs = grow(this.ncs, (n) => new Float64Array(n));
    this.hashes = grow(this.hashes, (n) => new Int32Array(n));
    this.newer = grow(this.newer, (n) => new Int32Array(n));
    this.older = grow(this.older, (n) => new Int32Array(n));
  }
}

function checkKey(key: string): void {
  if (key.length > MAX_NONCE_CHARS) throw new RangeError(`nonce of ${key.length} characters (at most ${MAX_NONCE_CHARS} are tracked)`);
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) > 0x7f) throw new RangeError('nonce with a non-ASCII character');
}
