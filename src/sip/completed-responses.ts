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
 */
import type { SipMessage } from './message.ts';
import { loadResponse, storeResponse } from './response-tail.ts';
import type { TimerHandle, Timers } from './timers.ts';

const INITIAL_CAPACITY = 1024;

export class CompletedResponses {
  private readonly bytes = new Map<string, string>();
  private keys: Array<string | undefined> = new Array(INITIAL_CAPACITY);
  private expires = new Float64Array(INITIAL_CAPACITY);
  private head = 0;
  private count = 0;
  private timer: TimerHandle | undefined = undefined;

  constructor(
    private readonly timers: Timers,
    /** How long an entry lives (Timer J). */
    private readonly lingerMs: number,
  ) {}

  get size(): number {
    return this.bytes.size;
  }

  has(key: string): boolean {
    return this.bytes.has(key);
  }

  /** Keeps `data` as the response to resend for `key` until the linger time has passed. */
  add(key: string, data: Buffer): void {
    if (this.bytes.has(key)) return; // cannot happen: a live key absorbs its retransmissions
    this.bytes.set(key, storeResponse(data));
    if (this.count === this.keys.length) this.grow();
    const tail = (this.head + this.count) % this.keys.length;
    this.keys[tail] = key;
    this.expires[tail] = this.timers.now() + this.lingerMs;
    this.count++;
    if (this.timer === undefined) this.schedule();
  }

  /**
   * The response to resend to `request`, a retransmission of the request answered under `key`,
   * or undefined. A fresh Buffer: the caller may hand it to a socket.
   */
  get(key: string, request: SipMessage): Buffer | undefined {
    const s = this.bytes.get(key);
    return s === undefined ? undefined : (loadResponse(s, request) ?? undefined);
  }

  /** Forgets everything and stops the timer. */
  clear(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.bytes.clear();
    this.keys.fill(undefined);
    this.head = 0;
    this.count = 0;
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
    const keys = this.keys;
    while (this.count > 0 && this.expires[this.head]! <= now) {
      this.bytes.delete(keys[this.head]!);
      keys[this.head] = undefined;
      this.head = (this.head + 1) % keys.length;
      this.count--;
    }
    if (this.count > 0) this.schedule();
    else this.shrink();
  }

  private grow(): void {
    const n = this.keys.length;
    const keys: Array<string | undefined> = new Array(n * 2);
    const expires = new Float64Array(n * 2);
    for (let i = 0; i < this.count; i++) {
      const j = (this.head + i) % n;
      keys[i] = this.keys[j];
      expires[i] = this.expires[j]!;
    }
    this.keys = keys;
    this.expires = expires;
    this.head = 0;
  }

  /** Empty after a burst: give the ring's memory back. */
  private shrink(): void {
    this.head = 0;
    if (this.keys.length === INITIAL_CAPACITY) return;
    this.keys = new Array(INITIAL_CAPACITY);
    this.expires = new Float64Array(INITIAL_CAPACITY);
  }
}
