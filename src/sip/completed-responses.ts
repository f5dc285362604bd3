/**
 * What is left of a non-INVITE server transaction in Completed on an unreliable transport
 * (RFC 3261 §17.2.2, Figure 8): for Timer J (64*T1 = 32 s) it only resends its final response
 * to retransmissions of the request. So that is all we keep: the transaction key and the
 * response's bytes, as a one-byte string (no Buffer object, no slice of a shared 8 KB pool slab
 * kept alive by a 400-byte response), in a FIFO with one timer for its oldest entry.
 *
 * Measured (100,000 lingering REGISTER transactions, `npm run bench -- sip` shapes): a full
 * transaction object with its Timer J, closures and the pool slab its bytes pinned cost ~4 KB;
 * an entry here ~0.5 KB, and less since the headers the request supplies again (Via, From, To,
 * Call-ID, CSeq) are rebuilt from the retransmission instead of kept (`response-tail.ts`). At
 * 10,000 REGISTER pairs/s, 32 s of 200s is 320,000 entries (challenges are not kept at all).
 *
 * All entries share one linger time, so they expire in insertion order: a ring of keys and
 * expiry times, one `setTimeout` at a time (for the head). The response goes to wherever the
 * retransmission came from: it carries the same Via, so §18.2.2 picks the same destination.
 *
 * Nothing of an entry lives on the JS heap but three numbers: its key and stored response are
 * bytes in an arena (a ring of its own memory, entries in expiry order), the index (a
 * `ProbeIndex`, typed arrays) maps a 30-bit hash of the key to the entry's offset, and a lookup
 * compares the key's bytes. Strings kept 32 s were promoted by every scavenge that met them and
 * made V8 grow the heap for them and their garbage: at 10,000 REGISTER pairs/s, 320,000 entries
 * were ~130 MB of old generation, and each young-generation collection copied the fresh ones twice.
 */
import type { SipMessage } from './message.ts';
import { loadResponse, storeResponse } from './response-tail.ts';
import type { TimerHandle, Timers } from './timers.ts';
import { ProbeIndex } from './probe-index.ts';

const INITIAL_CAPACITY = 1024;
const INITIAL_ARENA = 64 * 1024;
/** Entry header in the arena: key byte length, stored response length (uint32 LE each). */
const HEADER = 8;

/** FNV-1a over the UTF-16 units, kept to 30 bits so it stays a small integer (exported for the collision test). */
export function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h & 0x3fffffff;
}

export class CompletedResponses {
  /** Key hash → arena offsets of the entries with that hash. */
  private readonly index = new ProbeIndex(INITIAL_CAPACITY);
  private arena: Buffer = Buffer.allocUnsafeSlow(INITIAL_ARENA);
  /** Arena offset where the next entry goes. */
  private tailAt = 0;
  private hashes = new Int32Array(INITIAL_CAPACITY);
  private offsets = new Int32Array(INITIAL_CAPACITY);
  private expires = new Float64Array(INITIAL_CAPACITY);
  private head = 0;
  private count = 0;
  private timer: TimerHandle | undefined = undefined;
  private scratch: Buffer = Buffer.allocUnsafeSlow(1024);

  constructor(
    private readonly timers: Timers,
    /** How long an entry lives (Timer J). */
    private readonly lingerMs: number,
  ) {}

  get size(): number {
    return this.count;
  }

  has(key: string): boolean {
    return this.find(key) >= 0;
  }

  /** Keeps `data` as the response to resend for `key` until the linger time has passed. */
  add(key: string, data: Buffer): void {
    const hash = hashKey(key);
    if (this.find(key, hash) >= 0) return; // cannot happen: a live key absorbs its retransmissions
    const stored = storeResponse(data);
    const at = this.reserve(HEADER + key.length * 3 + stored.length);
    const arena = this.arena;
    const keyBytes = arena.write(key, at + HEADER, 'utf8');
    stored.copy(arena, at + HEADER + keyBytes);
    arena.writeUInt32LE(keyBytes, at);
    arena.writeUInt32LE(stored.length, at + 4);
    this.tailAt = at + HEADER + keyBytes + stored.length;
    this.index.add(hash, at);
    if (this.count === this.hashes.length) this.grow();
    const slot = (this.head + this.count) % this.hashes.length;
    this.hashes[slot] = hash;
    this.offsets[slot] = at;
    this.expires[slot] = this.timers.now() + this.lingerMs;
    this.count++;
    if (this.timer === undefined) this.schedule();
  }

  /**
   * The response to resend to `request`, a retransmission of the request answered under `key`,
   * or undefined. A fresh Buffer: the caller may hand it to a socket.
   */
  get(key: string, request: SipMessage): Buffer | undefined {
    const at = this.find(key);
    if (at < 0) return undefined;
    const start = at + HEADER + this.arena.readUInt32LE(at);
    return loadResponse(this.arena.subarray(start, start + this.arena.readUInt32LE(at + 4)), request) ?? undefined;
  }

  /** Forgets everything and stops the timer. */
  clear(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.head = 0;
    this.count = 0;
    this.shrink();
  }

  /** Arena offset of the live entry for `key`, or -1. */
  private find(key: string, hash = hashKey(key)): number {
    for (let b = this.index.first(hash); b >= 0; b = this.index.next(b, hash)) {
      const at = this.index.valueAt(b);
      if (this.keyAt(at, key)) return at;
    }
    return -1;
  }

  private keyAt(at: number, key: string): boolean {
    const length = this.arena.readUInt32LE(at);
    if (this.scratch.length < key.length * 3) this.scratch = Buffer.allocUnsafeSlow(key.length * 3);
    const n = this.scratch.write(key, 0, 'utf8');
    return n === length && this.scratch.compare(this.arena, at + HEADER, at + HEADER + n, 0, n) === 0;
  }

  /**
   * An arena offset with `bytes` free after it: after the tail, else from the start when the
   * oldest entry leaves room before it; else the arena doubles (entries moved, offsets updated).
   */
  private reserve(bytes: number): number {
    if (this.count === 0) return (this.tailAt = 0);
    const headAt = this.offsets[this.head]!;
    if (this.tailAt > headAt) {
      if (this.tailAt + bytes <= this.arena.length) return this.tailAt;
      if (bytes < headAt) return 0;
    } else if (this.tailAt + bytes < headAt) {
      return this.tailAt;
    }
    this.moveTo(Buffer.allocUnsafeSlow(Math.max(this.arena.length * 2, this.arena.length + bytes * 2)));
    return this.tailAt;
  }

  /** Copies the live entries, oldest first, to the start of `arena` and re-points the index. */
  private moveTo(arena: Buffer): void {
    const old = this.arena;
    const moved = new Map<number, number>();
    let at = 0;
    for (let i = 0; i < this.count; i++) {
      const slot = (this.head + i) % this.hashes.length;
      const from = this.offsets[slot]!;
      const size = HEADER + old.readUInt32LE(from) + old.readUInt32LE(from + 4);
      old.copy(arena, at, from, from + size);
      moved.set(from, at);
      this.offsets[slot] = at;
      at += size;
    }
    this.index.forEachBucket((b) => this.index.setValueAt(b, moved.get(this.index.valueAt(b))!));
    this.arena = arena;
    this.tailAt = at;
  }

  private schedule(): void {
    const wait = Math.max(0, this.expires[this.head]! - this.timers.now());
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.expire();
    }, wait);
  }

  private expire(): void {
    const now = this.timers.now();
    while (this.count > 0 && this.expires[this.head]! <= now) {
      this.index.remove(this.hashes[this.head]!, this.offsets[this.head]!);
      this.head = (this.head + 1) % this.hashes.length;
      this.count--;
    }
    if (this.count > 0) this.schedule();
    else this.shrink();
  }

  private grow(): void {
    const n = this.hashes.length;
    const hashes = new Int32Array(n * 2);
    const offsets = new Int32Array(n * 2);
    const expires = new Float64Array(n * 2);
    for (let i = 0; i < this.count; i++) {
      const j = (this.head + i) % n;
      hashes[i] = this.hashes[j]!;
      offsets[i] = this.offsets[j]!;
      expires[i] = this.expires[j]!;
    }
    this.hashes = hashes;
    this.offsets = offsets;
    this.expires = expires;
    this.head = 0;
  }

  /** Empty after a burst: give the rings' and the arena's memory back. */
  private shrink(): void {
    this.head = 0;
    this.index.clear(INITIAL_CAPACITY);
    this.tailAt = 0;
    if (this.arena.length > INITIAL_ARENA) this.arena = Buffer.allocUnsafeSlow(INITIAL_ARENA);
    if (this.hashes.length === INITIAL_CAPACITY) return;
    this.hashes = new Int32Array(INITIAL_CAPACITY);
    this.offsets = new Int32Array(INITIAL_CAPACITY);
    this.expires = new Float64Array(INITIAL_CAPACITY);
  }
}
