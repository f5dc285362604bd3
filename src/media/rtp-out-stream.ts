/**
 * The outgoing RTP stream of one leg: one SSRC, one sequence space, one timeline (RFC 3550
 * §5.1), whatever feeds it — packets relayed from one source or another, or our own packetizer
 * (decode path, player, DTMF generator). Phones take an SSRC change or a timestamp that goes
 * backwards for a broken stream (baresip 1.0 logs "rtp timestamp wraps backwards -- discard" and
 * plays nothing after), so every switch of feeder continues the stream: the next sequence
 * number, the timestamp advanced by the wall time elapsed since the last packet, and the marker
 * bit set on the first packet, as at the start of a talkspurt (RFC 3551 §4.1).
 *
 * Relayed packets are rewritten in place through two deltas fixed when the relayed source
 * (its SSRC) changes or the stream comes back from the packetizer: within one source they stay
 * constant, so the source's own gaps, reordering and timestamp jumps (silence suppression) reach
 * the endpoint as sent. RFC 4733 packets get the same rewriting: they share the audio's SSRC and
 * timeline (RFC 4733 §2.1). Per packet: a comparison, a few integer writes, no allocation.
 */
import type { RtpHeader } from './rtp-header.ts';

/** A stream's state, as {@link RtpOutStream.exportState} gives it. */
export interface RtpOutState {
  ssrc: number;
  seq: number;
  ts: number;
  at: number;
  switches: number;
  mapped: boolean;
  sourceSsrc: number;
  seqDelta: number;
  tsDelta: number;
}

export class RtpOutStream {
  readonly ssrc: number;
  /** Sequence number of the newest packet sent (the next feeder continues at +1). */
  seq: number;
  /** Timestamp of the newest audio packet sent, at monotonic ms `at`. */
  ts: number;
  /** Monotonic ms when the audio packet of `ts` was sent, -1 before the first one. */
  at = -1;
  /** Times a feeder switch was bridged over (relay remap or packetizer takeover). */
  switches = 0;
  /** The deltas below are valid for the relayed source `sourceSsrc`. */
  private mapped = false;
  private sourceSsrc = 0;
  private seqDelta = 0;
  private tsDelta = 0;

  /** @param random source of the SSRC and the initial sequence/timestamp (RFC 3550 §5.1). */
  constructor(random: () => number = Math.random) {
    this.ssrc = Math.floor(random() * 0x100000000) >>> 0;
    this.seq = Math.floor(random() * 0x10000) & 0xffff;
    this.ts = Math.floor(random() * 0x100000000) >>> 0;
  }

  /**
   * Timestamp that continues the stream at `now` in a `clockRate` clock: the last audio packet's
   * plus the elapsed wall time (the initial random one before any packet).
   */
  timestampAt(now: number, clockRate: number): number {
    if (this.at < 0) return this.ts;
    const elapsed = now - this.at;
    return elapsed > 0 ? (this.ts + Math.round((elapsed * clockRate) / 1000)) >>> 0 : this.ts;
  }

  /**
   * Rewrites the SSRC, sequence number and timestamp of a relayed packet in place, into this
   * stream. `h` is the packet as received (unchanged by the rewrite); `msg[1]` must already
   * hold the PT and marker to send.
   * @param isEvent RFC 4733 packet: its timestamp is the event's start, not "now", so it does
   *   not move the stream's time reference.
   */
  relay(msg: Buffer, h: RtpHeader, isEvent: boolean, now: number, clockRate: number): void {
    if (!this.mapped || h.ssrc !== this.sourceSsrc) {
      // New source, or back from the packetizer: continue right after the last packet sent.
      this.mapped = true;
      this.sourceSsrc = h.ssrc;
      this.seqDelta = (this.seq + 1 - h.sequenceNumber) & 0xffff;
      this.tsDelta = (this.timestampAt(now, clockRate) - h.timestamp) >>> 0;
      this.switches++;
      msg[1] |= 0x80;
    }
    const seq = (h.sequenceNumber + this.seqDelta) & 0xffff;
    const ts = (h.timestamp + this.tsDelta) >>> 0;
    const ssrc = this.ssrc;
    msg[2] = seq >>> 8;
    msg[3] = seq;
    msg[4] = ts >>> 24;
    msg[5] = ts >>> 16;
    msg[6] = ts >>> 8;
    msg[7] = ts;
    msg[8] = ssrc >>> 24;
    msg[9] = ssrc >>> 16;
    msg[10] = ssrc >>> 8;
    msg[11] = ssrc;
    // Only a newer packet (RFC 3550 serial order) moves the reference: a late one keeps its gap.
    const ahead = (seq - this.seq) & 0xffff;
    if (ahead !== 0 && ahead < 0x8000) {
      this.seq = seq;
      if (!isEvent) {
        this.ts = ts;
        this.at = now;
      }
    }
  }

  /**
   * An RTCP compound relayed to this leg whose first packet is an SR (RFC 3550 §6.4.1) from the
   * source we relay: its sender SSRC and RTP timestamp are put in this stream, so the endpoint
   * can tie the report to the RTP it gets. Report blocks and SDES chunks are left as sent (they
   * name SSRCs of the far side's view; rewriting them needs the reverse mapping).
   */
  relaySenderReport(msg: Buffer): void {
    if (!this.mapped || msg.length < 28 || msg[1] !== 200 || msg.readUInt32BE(4) !== this.sourceSsrc) return;
    msg.writeUInt32BE(this.ssrc, 4);
    msg.writeUInt32BE((msg.readUInt32BE(16) + this.tsDelta) >>> 0, 16);
  }

  /** The packetizer sent a packet (`at` = -1 for an RFC 4733 one); the next relayed packet remaps. */
  sent(seq: number, ts: number, at: number): void {
    this.mapped = false;
    this.seq = seq;
    if (at >= 0) {
      this.ts = ts;
      this.at = at;
    }
  }

  /** Everything the rewrite depends on, for a relay that continues this stream elsewhere (native-relay.ts). */
  exportState(): RtpOutState {
    return {
      ssrc: this.ssrc, seq: this.seq, ts: this.ts, at: this.at, switches: this.switches,
      mapped: this.mapped, sourceSsrc: this.sourceSsrc, seqDelta: this.seqDelta, tsDelta: this.tsDelta,
    };
  }

  /** Continues from a state {@link exportState} gave; the SSRC stays this stream's own. */
  importState(s: RtpOutState): void {
    this.seq = s.seq;
    this.ts = s.ts;
    this.at = s.at;
    this.switches = s.switches;
    this.mapped = s.mapped;
    this.sourceSsrc = s.sourceSsrc;
    this.seqDelta = s.seqDelta;
    this.tsDelta = s.tsDelta;
  }

  /** The packetizer takes over: the next relayed packet, whenever it comes, remaps. */
  unmap(): void {
    this.mapped = false;
  }
}
