/**
 * Writes an RTP header (RFC 3550 §5.1; wire format drawn in `rtp-header.ts`) into a
 * caller-owned buffer, MarshalTo style: senders (player, mixer, tests) keep one packet buffer
 * per stream and rewrite sequence/timestamp in place instead of allocating per packet.
 */
import { RTP_FIXED_HEADER_LENGTH, RTP_VERSION } from './rtp-header.ts';
import type { RtpHeader } from './rtp-header.ts';

/** Fields a sender sets; CSRCs and the header extension are not written (none of ours use them). */
export type RtpHeaderFields = Pick<RtpHeader, 'marker' | 'payloadType' | 'sequenceNumber' | 'timestamp' | 'ssrc'>;

/**
 * Writes the 12-octet fixed header at `offset` (version 2, no padding, extension or CSRC).
 * @returns the offset just after the header, where the payload goes.
 * @throws RangeError when `dst` has fewer than 12 octets after `offset`.
 */
export function writeRtpHeader(dst: Uint8Array, h: RtpHeaderFields, offset = 0): number {
  if (dst.length - offset < RTP_FIXED_HEADER_LENGTH) {
    throw new RangeError(`RTP header needs ${RTP_FIXED_HEADER_LENGTH} octets, got ${dst.length - offset}`);
  }
  dst[offset] = RTP_VERSION << 6;
  dst[offset + 1] = (h.marker ? 0x80 : 0) | (h.payloadType & 0x7f);
  writeSequence(dst, h.sequenceNumber, offset);
  writeTimestamp(dst, h.timestamp, offset);
  dst[offset + 8] = h.ssrc >>> 24;
  dst[offset + 9] = h.ssrc >>> 16;
  dst[offset + 10] = h.ssrc >>> 8;
  dst[offset + 11] = h.ssrc;
  return offset + RTP_FIXED_HEADER_LENGTH;
}

/** Rewrites only the 16-bit sequence number of a header written at `offset`. */
export function writeSequence(dst: Uint8Array, sequenceNumber: number, offset = 0): void {
  dst[offset + 2] = sequenceNumber >>> 8;
  dst[offset + 3] = sequenceNumber;
}

/** Rewrites only the 32-bit timestamp of a header written at `offset`. */
export function writeTimestamp(dst: Uint8Array, timestamp: number, offset = 0): void {
  dst[offset + 4] = timestamp >>> 24;
  dst[offset + 5] = timestamp >>> 16;
  dst[offset + 6] = timestamp >>> 8;
  dst[offset + 7] = timestamp;
}
