/**
 * An open-addressing multimap from a 32-bit hash to small non-negative integers (a slot, an
 * offset), in two typed arrays: linear probing, at most half full, backward-shift deletion.
 * The tables that outlive a request by tens of seconds (completed responses, nonce counts)
 * index their entries with it instead of a `Map`, whose backing store sat in large-object
 * space and was rehashed as entries came and went at thousands per second.
 *
 * Equal hashes may hold several values: a lookup walks the probe run from the hash's home
 * bucket with {@link first}/{@link next} and the caller compares its keys.
 *
 * @example
 * for (let b = index.first(hash); b >= 0; b = index.next(b, hash)) if (keyAt(index.valueAt(b)) === key) return index.valueAt(b);
 */
const MIN_BUCKETS = 16;

/** FNV-1a over a string's UTF-16 units, as a 32-bit signed integer: the hash these tables use. */
export function hashString(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h | 0;
}

export class ProbeIndex {
  /** value + 1 per bucket; 0 = empty. */
  private values: Int32Array;
  private hashes: Int32Array;
  private count = 0;

  constructor(expected = 0) {
    const n = bucketsFor(expected);
    this.values = new Int32Array(n);
    this.hashes = new Int32Array(n);
  }

  get size(): number {
    return this.count;
  }

  add(hash: number, value: number): void {
    if ((this.count + 1) * 2 > this.values.length) this.rehash(this.values.length * 2);
    this.place(hash | 0, value + 1);
    this.count++;
  }

  /** The first bucket of `hash`'s probe run holding `hash`, or -1. */
  first(hash: number): number {
    return this.scan(hash | 0, hash & (this.values.length - 1));
  }

  /** The bucket after `bucket` in the probe run holding `hash`, or -1. */
  next(bucket: number, hash: number): number {
    return this.scan(hash | 0, (bucket + 1) & (this.values.length - 1));
  }

  valueAt(bucket: number): number {
    return this.values[bucket]! - 1;
  }

  /** Removes the entry `hash` → `value`; false when there is none. */
  remove(hash: number, value: number): boolean {
    let b = this.first(hash);
    while (b >= 0 && this.values[b] !== value + 1) b = this.next(b, hash);
    if (b < 0) return false;
    this.count--;
    const mask = this.values.length - 1;
    let hole = b;
    for (let n = (hole + 1) & mask; this.values[n] !== 0; n = (n + 1) & mask) {
      const home = this.hashes[n]! & mask;
      // The entry at n moves into the hole unless its home lies cyclically in (hole, n].
      if (hole <= n ? home <= hole || home > n : home <= hole && home > n) {
        this.values[hole] = this.values[n]!;
        this.hashes[hole] = this.hashes[n]!;
        hole = n;
      }
    }
    this.values[hole] = 0;
    return true;
  }

  /** Empties the index; its memory shrinks back to what `expected` needs. */
  clear(expected = 0): void {
    const n = bucketsFor(expected);
    this.values = new Int32Array(n);
    this.hashes = new Int32Array(n);
    this.count = 0;
  }

  private scan(hash: number, from: number): number {
    const mask = this.values.length - 1;
    for (let b = from; this.values[b] !== 0; b = (b + 1) & mask) if (this.hashes[b] === hash) return b;
    return -1;
  }

  private place(hash: number, stored: number): void {
    const mask = this.values.length - 1;
    let b = hash & mask;
    while (this.values[b] !== 0) b = (b + 1) & mask;
    this.values[b] = stored;
    this.hashes[b] = hash;
  }

  private rehash(buckets: number): void {
    const { values, hashes } = this;
    this.values = new Int32Array(buckets);
    this.hashes = new Int32Array(buckets);
    for (let b = 0; b < values.length; b++) if (values[b] !== 0) this.place(hashes[b]!, values[b]!);
  }
}

function bucketsFor(entries: number): number {
  let n = MIN_BUCKETS;
  while (n < entries * 2) n *= 2;
  return n;
}
