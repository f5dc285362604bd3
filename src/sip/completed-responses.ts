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
 * bytes in an arena, the index (a `ProbeIndex`, typed arrays) maps a 30-bit hash of the key to
 * the entry's location, and a lookup compares the key's bytes. Strings kept 32 s were promoted
 * by every scavenge that met them and made V8 grow the heap for them and their garbage: at
 * 10,000 REGISTER pairs/s, 320,000 entries were ~130 MB of old generation, and each
 * young-generation collection copied the fresh ones twice.
 *
 * The arena is a ring of 256 KB chunks filled in expiry order; a chunk is given back once its
 * last entry expired, so memory follows the live entries. (It was one buffer that doubled and
 * moved every entry when full: at 5,000 REGISTER pairs/s, 64 MB of live entries copied into a
 * new 128 MB buffer with both held at once, a stall of the event loop and a quarter of the
 * run's peak RSS.)
 */
import type { SipMessage } from './message.ts';
import { loadResponse, maxStoredLength, storeResponseInto } from './response-tail.ts';
import type { TimerHandle, Timers } from './timers.ts';
import { hashString, ProbeIndex } from './probe-index.ts';

const INITIAL_CAPACITY = 1024;
/** A location is the chunk's ring slot above `CHUNK_BITS` and the offset in it below. */
const CHUNK_BITS = 18;
const CHUNK_BYTES = 1 << CHUNK_BITS;
const OFFSET_MASK = CHUNK_BYTES - 1;
/** Ring slots for chunks: 4,096 × 256 KB = 1 GB of responses waiting for retransmissions. */
const MAX_CHUNKS = 1 << 12;
const SLOT_MASK = MAX_CHUNKS - 1;
/** Entry header in the arena: key byte length, stored response length (uint32 LE each). */
const HEADER = 8;

/** The key's hash kept to 30 bits, so it stays a small integer (exported for the collision test). */
export function hashKey(key: string): number {
  return hashString(key) & 0x3fffffff;
}

export class CompletedResponses {
  /** Key hash → arena locations of the entries with that hash. */
  private readonly index = new ProbeIndex(INITIAL_CAPACITY);
  /** The arena's chunks by ring slot, from `firstChunk` to `lastChunk` (`chunkCount` of them). */
  private readonly chunks: Array<Buffer | undefined> = [];
  private firstChunk = 0;
  private lastChunk = 0;
  private chunkCount = 0;
  /** A chunk given back, kept for the next one (no allocation per chunk in a steady stream). */
  private spare: Buffer | undefined = undefined;
  /** Offset in the last chunk where the next entry goes. */
  private tailAt = 0;
  /** Entries not kept because the arena was full (1 GB): their retransmissions are handled anew. */
  notKept = 0;
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

  /** Bytes the arena holds now (its chunks, the spare one not counted). */
  get arenaBytes(): number {
    let n = 0;
    for (let i = 0, slot = this.firstChunk; i < this.chunkCount; i++, slot = (slot + 1) & SLOT_MASK) n += this.chunks[slot]!.length;
    return n;
  }

  has(key: string): boolean {
    return this.find(key) >= 0;
  }

  /** Keeps `data` as the response to resend for `key` until the linger time has passed. */
  add(key: string, data: Buffer): void {
    const hash = hashKey(key);
    if (this.find(key, hash) >= 0) return; // cannot happen: a live key absorbs its retransmissions
    const at = this.reserve(HEADER + key.length * 3 + maxStoredLength(data));
    if (at < 0) { this.notKept++; return; }
    const chunk = this.chunks[at >>> CHUNK_BITS]!;
    const offset = at & OFFSET_MASK;
    const keyBytes = chunk.write(key, offset + HEADER, 'utf8');
    const storedBytes = storeResponseInto(data, chunk, offset + HEADER + keyBytes);
    chunk.writeUInt32LE(keyBytes, offset);
    chunk.writeUInt32LE(storedBytes, offset + 4);
    this.tailAt = offset + HEADER + keyBytes + storedBytes;
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
    const chunk = this.chunks[at >>> CHUNK_BITS]!;
    const offset = at & OFFSET_MASK;
    const start = offset + HEADER + chunk.readUInt32LE(offset);
    return loadResponse(chunk.subarray(start, start + chunk.readUInt32LE(offset + 4)), request) ?? undefined;
  }

  /** Forgets everything and stops the timer. */
  clear(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.head = 0;
    this.count = 0;
    this.shrink();
  }

  /** Location of the live entry for `key`, or -1. */
  private find(key: string, hash = hashKey(key)): number {
    for (let b = this.index.first(hash); b >= 0; b = this.index.next(b, hash)) {
      const at = this.index.valueAt(b);
      if (this.keyAt(at, key)) return at;
    }
    return -1;
  }

  private keyAt(at: number, key: string): boolean {
    const chunk = this.chunks[at >>> CHUNK_BITS]!;
    const offset = at & OFFSET_MASK;
    const length = chunk.readUInt32LE(offset);
    if (this.scratch.length < key.length * 3) this.scratch = Buffer.allocUnsafeSlow(key.length * 3);
    const n = this.scratch.write(key, 0, 'utf8');
    return n === length && this.scratch.compare(chunk, offset + HEADER, offset + HEADER + n, 0, n) === 0;
  }

  /**
   * The location of `bytes` free in the arena: after the last entry of the last chunk, else at
   * the start of a new chunk (of its own size for an entry larger than a chunk); -1 when every
   * ring slot holds a chunk.
   */
  private reserve(bytes: number): number {
    if (this.chunkCount > 0) {
      const last = this.chunks[this.lastChunk]!;
      if (this.tailAt < CHUNK_BYTES && this.tailAt + bytes <= last.length) return (this.lastChunk << CHUNK_BITS) | this.tailAt;
      if (this.chunkCount === MAX_CHUNKS) return -1;
    }
    const slot = this.chunkCount === 0 ? this.firstChunk : (this.lastChunk + 1) & SLOT_MASK;
    let chunk: Buffer;
    if (bytes <= CHUNK_BYTES && this.spare !== undefined) {
      chunk = this.spare;
      this.spare = undefined;
    } else {
      chunk = Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, bytes));
    }
    this.chunks[slot] = chunk;
    this.lastChunk = slot;
    this.chunkCount++;
    this.tailAt = 0;
    return slot << CHUNK_BITS;
  }

  /** Gives back the chunks before ring slot `keep` (`undefined`: all of them). */
  private releaseChunks(keep?: number): void {
    while (this.chunkCount > 0 && this.firstChunk !== keep) {
      const chunk = this.chunks[this.firstChunk]!;
      this.chunks[this.firstChunk] = undefined;
      if (chunk.length === CHUNK_BYTES) this.spare = chunk;
      this.firstChunk = (this.firstChunk + 1) & SLOT_MASK;
      this.chunkCount--;
    }
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
    if (this.count > 0) {
      this.releaseChunks(this.offsets[this.head]! >>> CHUNK_BITS);
      this.schedule();
    } else {
      this.shrink();
    }
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
    this.releaseChunks();
    this.tailAt = 0;
    if (this.hashes.length === INITIAL_CAPACITY) return;
    this.hashes = new Int32Array(INITIAL_CAPACITY);
    this.offsets = new Int32Array(INITIAL_CAPACITY);
    this.expires = new Float64Array(INITIAL_CAPACITY);
  }
}
