/**
 * Fixed-delay jitter buffer of one decoded RTP source: packets go in as they arrive, in any
 * order; the worker clock takes one out every frame, in sequence order (RFC 3550 §5.1: the
 * sequence number "may be used by the receiver to detect packet loss and to restore packet
 * sequence"). Playout starts once `targetPackets` packets are buffered (the fixed delay, 40-60
 * ms at 20 ms ptime); a packet arriving after its turn is dropped as late, a second copy as
 * duplicate, a gap is reported as lost so the decoder conceals it.
 *
 * Payloads are copied into preallocated slots: nothing is allocated per packet.
 */

/** `pop()` results besides a payload length. */
export const JB_LOST = -1;
/** Nothing to play: not started yet, or drained after the source stopped (silence, no PLC). */
export const JB_EMPTY = -2;

export interface JitterBufferOptions {
  /** Slots (rounded up to a power of two). Default 32 (640 ms at 20 ms). */
  capacity?: number;
  /** Packets buffered before playout starts. Default 3. */
  targetPackets?: number;
  /** Largest payload kept; longer ones are dropped as invalid. Default 1500. */
  maxPayload?: number;
  /** Consecutive missing packets concealed before the buffer declares the source stopped. Default 5. */
  maxConcealed?: number;
}

export class JitterBuffer {
  readonly capacity: number;
  readonly targetPackets: number;
  private readonly mask: number;
  private readonly maxConcealed: number;
  private readonly data: Buffer;
  private readonly maxPayload: number;
  /** Payload length per slot, -1 when empty. */
  private readonly lengths: Int32Array;
  /** Extended sequence number held by each slot. */
  private readonly seqs: Float64Array;
  /** One view per slot, reused while the payload length stays the same (G.711, G.722). */
  private readonly views: Buffer[];
  private ssrc = -1;
  /** Extended (wrap-counted) highest sequence received, -1 before the first packet. */
  private highest = -1;
  /** Extended sequence of the next packet to play. */
  private next = 0;
  private playing = false;
  private buffered = 0;
  private missingRun = 0;
  /** Slot of the packet the last `pop()` returned. */
  private current = 0;

  received = 0;
  late = 0;
  duplicate = 0;
  /** Gaps reported to the decoder (concealed). */
  lost = 0;
  /** Packets skipped because the buffer grew past twice its target (sender clock faster than ours). */
  overflow = 0;
  tooLarge = 0;
  /** Resets on SSRC change or a sequence jump. */
  resets = 0;

  constructor(options: JitterBufferOptions = {}) {
    let cap = 1;
    while (cap < (options.capacity ?? 32)) cap <<= 1;
    this.capacity = cap;
    this.mask = cap - 1;
    this.targetPackets = Math.max(1, Math.min(cap >> 1, options.targetPackets ?? 3));
    this.maxConcealed = options.maxConcealed ?? 5;
    this.maxPayload = options.maxPayload ?? 1500;
    this.data = Buffer.alloc(cap * this.maxPayload);
    this.lengths = new Int32Array(cap).fill(-1);
    this.seqs = new Float64Array(cap);
    this.views = [];
    for (let i = 0; i < cap; i++) this.views.push(this.data.subarray(i * this.maxPayload, i * this.maxPayload));
  }

  /** Packets waiting, including the one to play next. */
  get depth(): number {
    return this.buffered;
  }

  /**
   * Stores the payload `src[start, end)` of packet `seq` (16-bit) from `ssrc`.
   * @returns false when the packet was dropped (late, duplicate, too large).
   */
  push(ssrc: number, seq: number, src: Buffer, start: number, end: number): boolean {
    const len = end - start;
    if (len > this.maxPayload || len < 0) {
      this.tooLarge++;
      return false;
    }
    this.received++;
    if (ssrc !== this.ssrc) {
      if (this.ssrc !== -1) this.resets++;
      this.reset(ssrc);
    }
    let ext: number;
    if (this.highest < 0) {
      ext = 0x10000 + seq; // leave room below for reordered early packets
      this.highest = ext;
      this.next = ext;
    } else {
      const cycle = this.highest - (this.highest & 0xffff);
      ext = cycle + seq;
      if (ext - this.highest > 0x8000) ext -= 0x10000;
      else if (this.highest - ext > 0x8000) ext += 0x10000;
    }
    if (ext < this.next) {
      // Far behind (sender restarted its numbering): start over rather than call all of it late.
      if (this.next - ext > this.capacity * 4) {
        this.resets++;
        this.reset(ssrc);
        return this.push(ssrc, seq, src, start, end);
      }
      this.late++;
      return false;
    }
    if (ext - this.next >= this.capacity) {
      if (this.playing && ext - this.next < this.capacity * 4) {
        // Ahead by more than we hold: the clock fell behind the sender. Skip forward.
        while (ext - this.next >= this.capacity) this.skipOne();
      } else {
        this.resets++;
        this.reset(ssrc);
        return this.push(ssrc, seq, src, start, end);
      }
    }
    const slot = ext & this.mask;
    if (this.lengths[slot] >= 0 && this.seqs[slot] === ext) {
      this.duplicate++;
      return false;
    }
    src.copy(this.data, slot * this.maxPayload, start, end);
    this.lengths[slot] = len;
    this.seqs[slot] = ext;
    this.buffered++;
    if (ext > this.highest) this.highest = ext;
    return true;
  }

  /**
   * Takes the next packet in sequence.
   * @returns its payload length (read it with {@link payload}), {@link JB_LOST} for a gap the
   *   decoder must conceal, or {@link JB_EMPTY} when there is nothing to play.
   */
  pop(): number {
    if (!this.playing) {
      if (this.buffered < this.targetPackets) return JB_EMPTY;
      this.playing = true;
      this.missingRun = 0;
    }
    // Sender clock faster than ours (or a burst after a stall): keep the delay bounded.
    while (this.buffered > this.targetPackets * 2 + 2) this.skipOne();
    const slot = this.next & this.mask;
    if (this.lengths[slot] >= 0 && this.seqs[slot] === this.next) {
      this.current = slot;
      this.next++;
      this.buffered--;
      this.missingRun = 0;
      const len = this.lengths[slot];
      this.lengths[slot] = -1;
      return len;
    }
    if (this.buffered === 0 && ++this.missingRun > this.maxConcealed) {
      // The source stopped (hold, DTX, hang-up): wait for a new start instead of concealing.
      this.playing = false;
      this.missingRun = 0;
      return JB_EMPTY;
    }
    this.next++;
    this.lost++;
    return JB_LOST;
  }

  /** Payload of the packet the last `pop()` returned (valid until the next `push`/`pop`). */
  payload(length: number): Buffer {
    return this.viewOf(this.current, length);
  }

  /** The packet that follows the current gap, if already here (Opus in-band FEC, RFC 7587 §3.1). */
  peekNext(): Buffer | null {
    const slot = this.next & this.mask;
    if (this.lengths[slot] < 0 || this.seqs[slot] !== this.next) return null;
    return this.viewOf(slot, this.lengths[slot]);
  }

  private viewOf(slot: number, length: number): Buffer {
    let v = this.views[slot];
    if (v.length !== length) {
      v = this.data.subarray(slot * this.maxPayload, slot * this.maxPayload + length);
      this.views[slot] = v;
    }
    return v;
  }

  private skipOne(): void {
    const slot = this.next & this.mask;
    if (this.lengths[slot] >= 0 && this.seqs[slot] === this.next) {
      this.lengths[slot] = -1;
      this.buffered--;
    }
    this.next++;
    this.overflow++;
  }

  private reset(ssrc: number): void {
    this.ssrc = ssrc;
    this.lengths.fill(-1);
    this.highest = -1;
    this.next = 0;
    this.playing = false;
    this.buffered = 0;
    this.missingRun = 0;
  }
}
