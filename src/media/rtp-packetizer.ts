/**
 * Packets of one sink leg on the decode path, in the leg's one outgoing stream
 * ({@link RtpOutStream}): its SSRC, its sequence space, its timeline (RFC 3550 §5.1). On
 * `resume` it continues where the last packet of the stream left off, relayed or ours: sequence
 * + 1, timestamp advanced by the wall time elapsed, marker set; so relay -> player -> relay (hold)
 * and relay -> DTMF -> relay look like one stream with talkspurts to the endpoint. The header is
 * written into the caller's preallocated packet buffer; audio frames and RFC 4733 events share
 * the sequence and SSRC, the timestamp runs in the sink codec's RTP clock (G.722: 160 per 20 ms).
 */
import type { RtpOutStream } from './rtp-out-stream.ts';
import { writeRtpHeader } from './rtp-writer.ts';

export class RtpPacketizer {
  /** Sequence number of the next packet. */
  sequence: number;
  /** Timestamp of the next audio frame. */
  timestamp: number;
  /** The next packet starts a talkspurt (first packet, after DTX or a pause). */
  marker = true;
  packets = 0;

  /**
   * @param ticksPerFrame timestamp increment per 20 ms frame (clockRate / 50).
   * @param stream the leg's outgoing stream, shared with the relay path.
   * @param now monotonic ms (the time reference a relay taking over after us extrapolates from).
   */
  constructor(
    readonly ticksPerFrame: number,
    readonly stream: RtpOutStream,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.sequence = (stream.seq + 1) & 0xffff;
    this.timestamp = stream.ts;
  }

  get ssrc(): number {
    return this.stream.ssrc;
  }

  /** Takes the stream over: continues after its last packet, at the current time. */
  resume(): void {
    const s = this.stream;
    s.unmap();
    this.sequence = (s.seq + 1) & 0xffff;
    this.timestamp = s.timestampAt(this.now(), this.ticksPerFrame * 50);
    this.marker = true;
  }

  /**
   * Writes the header of the next audio packet into `dst` and advances the stream by one frame.
   * @returns the header length (payload offset).
   */
  audio(dst: Uint8Array, payloadType: number): number {
    const n = writeRtpHeader(dst, { marker: this.marker, payloadType, sequenceNumber: this.sequence, timestamp: this.timestamp, ssrc: this.stream.ssrc });
    this.stream.sent(this.sequence, this.timestamp, this.now());
    this.marker = false;
    this.sequence = (this.sequence + 1) & 0xffff;
    this.timestamp = (this.timestamp + this.ticksPerFrame) >>> 0;
    this.packets++;
    return n;
  }

  /** A frame that produced no packet (DTX, silence not sent): time goes on, next packet is marked. */
  skip(): void {
    this.timestamp = (this.timestamp + this.ticksPerFrame) >>> 0;
    this.marker = true;
  }

  /**
   * Writes the header of an RFC 4733 event packet: same SSRC and sequence space, timestamp =
   * the event's start (RFC 4733 §2.3.4), marker on its first packet (§2.3.5).
   */
  event(dst: Uint8Array, payloadType: number, timestamp: number, marker: boolean): number {
    const n = writeRtpHeader(dst, { marker, payloadType, sequenceNumber: this.sequence, timestamp, ssrc: this.stream.ssrc });
    this.stream.sent(this.sequence, timestamp, -1);
    this.sequence = (this.sequence + 1) & 0xffff;
    this.packets++;
    return n;
  }
}
