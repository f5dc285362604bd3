/**
 * Outgoing RTP stream of one sink leg on the decode path: its own SSRC, sequence and timestamp
 * (RFC 3550 §5.1), independent of what the leg's sources use. The header is written into one
 * preallocated packet buffer per stream; audio frames and RFC 4733 events share the sequence
 * and SSRC, the timestamp runs in the sink codec's RTP clock (G.722: 160 per 20 ms at 8000).
 */
import { writeRtpHeader } from './rtp-writer.ts';

export class RtpPacketizer {
  readonly ssrc: number;
  sequence: number;
  /** Timestamp of the next audio frame. */
  timestamp: number;
  /** The next packet starts a talkspurt (first packet, after DTX or a pause). */
  marker = true;
  packets = 0;

  /**
   * @param ticksPerFrame timestamp increment per 20 ms frame (clockRate / 50).
   * @param random source of the initial SSRC/sequence/timestamp (RFC 3550 §5.1: random starts).
   */
  constructor(readonly ticksPerFrame: number, random: () => number = Math.random) {
    this.ssrc = Math.floor(random() * 0x100000000) >>> 0;
    this.sequence = Math.floor(random() * 0x10000) & 0xffff;
    this.timestamp = Math.floor(random() * 0x100000000) >>> 0;
  }

  /**
   * Writes the header of the next audio packet into `dst` and advances the stream by one frame.
   * @returns the header length (payload offset).
   */
  audio(dst: Uint8Array, payloadType: number): number {
    const n = writeRtpHeader(dst, { marker: this.marker, payloadType, sequenceNumber: this.sequence, timestamp: this.timestamp, ssrc: this.ssrc });
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
    const n = writeRtpHeader(dst, { marker, payloadType, sequenceNumber: this.sequence, timestamp, ssrc: this.ssrc });
    this.sequence = (this.sequence + 1) & 0xffff;
    this.packets++;
    return n;
  }
}
