import { MediaError } from './errors.ts';

/**
 * RTP/RTCP port pairs from a configured range (`STROWGER_RTP_PORTS`). RTP takes the even port
 * and RTCP the next odd one (RFC 3550 §11: "RTP SHOULD use an even destination port number and
 * the corresponding RTCP stream SHOULD use the next higher (odd) destination port number").
 *
 * Free pairs sit in a FIFO ring, so allocate and release are O(1) and a released pair goes to
 * the back of the queue: it is reused as late as possible, which keeps stray packets of a
 * finished call from landing in a new one. Ports another process holds (EADDRINUSE) go to the
 * back as well, so they are retried only after every other free pair.
 *
 * @example
 * const pool = new PortPool(10000, 20000);
 * const rtpPort = await pool.acquire((port) => tryBindPair(port)); // rtcp = rtpPort + 1
 * pool.release(rtpPort);
 */
export class PortPool {
  /** First RTP port (even). */
  readonly first: number;
  /** Number of pairs the range holds. */
  readonly capacity: number;
  /** Bind attempts refused with EADDRINUSE since creation. */
  bindFailures = 0;
  private readonly ring: Int32Array;
  private readonly inUse: Uint8Array;
  private head = 0;
  private free: number;

  /** @param min lowest port of the range; @param max highest port (inclusive). */
  constructor(min: number, max: number) {
    if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max > 65535 || max < min) {
      throw new MediaError('MEDIA_ERR_BAD_OPTION', { detail: `port range ${min}-${max}` });
    }
    this.first = min + (min & 1);
    this.capacity = Math.max(0, Math.floor((max - this.first + 1) / 2));
    if (this.capacity === 0) {
      throw new MediaError('MEDIA_ERR_BAD_OPTION', { detail: `port range ${min}-${max} holds no even/odd pair` });
    }
    this.ring = new Int32Array(this.capacity);
    this.inUse = new Uint8Array(this.capacity);
    for (let i = 0; i < this.capacity; i++) this.ring[i] = i;
    this.free = this.capacity;
  }

  /** Pairs currently handed out. */
  get pairsInUse(): number {
    return this.capacity - this.free;
  }

  /** Pairs available. */
  get pairsFree(): number {
    return this.free;
  }

  /**
   * Takes the pair at the front of the queue without binding anything.
   * @returns the RTP (even) port, or -1 when every pair is in use.
   */
  allocate(): number {
    if (this.free === 0) return -1;
    const index = this.ring[this.head];
    this.head = this.head + 1 === this.capacity ? 0 : this.head + 1;
    this.free--;
    this.inUse[index] = 1;
    return this.first + index * 2;
  }

  /**
   * Returns a pair to the back of the queue.
   * @returns false (and changes nothing) when `rtpPort` is not an allocated pair of this pool,
   *   so a double release cannot put a pair in the queue twice.
   */
  release(rtpPort: number): boolean {
    const index = this.indexOf(rtpPort);
    if (index < 0 || this.inUse[index] === 0) return false;
    this.inUse[index] = 0;
    let tail = this.head + this.free;
    if (tail >= this.capacity) tail -= this.capacity;
    this.ring[tail] = index;
    this.free++;
    return true;
  }

  /** True when `rtpPort` is a pair of this pool that is currently allocated. */
  isAllocated(rtpPort: number): boolean {
    const index = this.indexOf(rtpPort);
    return index >= 0 && this.inUse[index] === 1;
  }

  /**
   * Allocates a pair and lets `bind` open its sockets. `bind` resolves false when the OS
   * refuses a port as already in use: that pair is skipped (sent to the back of the queue) and
   * the next one tried, up to `maxAttempts` pairs (default: every pair free at the call). Any error thrown by `bind` releases the pair
   * and propagates.
   *
   * @throws MediaError `MEDIA_ERR_PORTS_EXHAUSTED` when no pair is free or all attempts failed.
   */
  async acquire(bind: (rtpPort: number) => Promise<boolean>, maxAttempts = this.capacity): Promise<number> {
    const attempts = Math.min(maxAttempts, this.free);
    for (let i = 0; i < attempts; i++) {
      const port = this.allocate();
      if (port < 0) break;
      let bound: boolean;
      try {
        bound = await bind(port);
      } catch (err) {
        this.release(port);
        throw err;
      }
      if (bound) return port;
      this.release(port);
      this.bindFailures++;
    }
    throw new MediaError('MEDIA_ERR_PORTS_EXHAUSTED', {
      detail: `${this.pairsInUse}/${this.capacity} pairs in use, ${this.bindFailures} bind failures so far`,
    });
  }

  private indexOf(rtpPort: number): number {
    const offset = rtpPort - this.first;
    if (!Number.isInteger(rtpPort) || offset < 0 || (offset & 1) !== 0) return -1;
    const index = offset >> 1;
    return index < this.capacity ? index : -1;
  }
}
