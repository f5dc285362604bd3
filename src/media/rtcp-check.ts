/**
 * RTCP recognition and validity checks. The relay does not decode RTCP; it only needs to know
 * that a datagram is RTCP (to count it and to latch on its sender SSRC) and, for rtcp-mux
 * legs, to tell it apart from RTP arriving on the same port.
 *
 * Common header of every RTCP packet (RFC 3550 §6.4.1, §6.1):
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|    RC   |   PT          |             length            |  length = 32-bit words - 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                  SSRC of packet sender                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 */

/** Sender Report (RFC 3550 §6.4.1). */
export const RTCP_SR = 200;
/** Receiver Report (RFC 3550 §6.4.2). */
export const RTCP_RR = 201;
/**
 * RFC 5761 §4: the second octet of an RTCP packet (its packet type) lies in 192..223, which is
 * exactly where an RTP packet with payload type 64..95 would put marker + PT. Those RTP payload
 * types must therefore not be used on a multiplexed port.
 */
export const RTCP_MUX_TYPE_MIN = 192;
export const RTCP_MUX_TYPE_MAX = 223;

/**
 * RFC 5761 §4 demultiplexing test for a datagram received on an rtcp-mux port.
 * True when the second octet is an RTCP packet type (192..223), false for RTP (or garbage).
 */
export function isRtcpMuxed(buf: Uint8Array): boolean {
  if (buf.length < 2) return false;
  const pt = buf[1];
  return pt >= RTCP_MUX_TYPE_MIN && pt <= RTCP_MUX_TYPE_MAX;
}

/**
 * Cheap hot-path check of the first RTCP header: version 2, packet type in the RFC 5761 range
 * and room for the sender SSRC.
 *
 * @returns the SSRC of the packet sender (unsigned), or -1 when the datagram is not RTCP.
 *   Deliberately does not walk the compound packet: SRTCP (RFC 3711 §3.4) appends an index and
 *   an authentication tag after the last packet, so a strict length walk would drop encrypted
 *   RTCP that the relay must forward untouched.
 */
export function rtcpSenderSsrc(buf: Uint8Array): number {
  if (buf.length < 8) return -1;
  if (buf[0] >>> 6 !== 2) return -1;
  const pt = buf[1];
  if (pt < RTCP_MUX_TYPE_MIN || pt > RTCP_MUX_TYPE_MAX) return -1;
  return ((buf[4] << 24) | (buf[5] << 16) | (buf[6] << 8) | buf[7]) >>> 0;
}

/**
 * Full validity check of a compound RTCP packet after RFC 3550 Appendix A.2: every packet has
 * version 2, the lengths add up exactly to the datagram, the first packet has no padding and
 * is an SR or RR. With `reducedSize` (RFC 5506 §3.4.2) the first packet may be of any type.
 *
 * @returns the number of RTCP packets in the compound, or -1 when invalid.
 */
export function checkRtcpCompound(buf: Uint8Array, reducedSize = false): number {
  const len = buf.length;
  if (len < 4 || len % 4 !== 0) return -1;
  const b0 = buf[0];
  if (b0 >>> 6 !== 2) return -1;
  // A.2: "padding bit (P) should be zero for the first packet of a compound RTCP packet
  // because padding should only be applied, if it is needed, to the last packet".
  if ((b0 & 0x20) !== 0) return -1;
  const firstType = buf[1];
  if (reducedSize) {
    if (firstType < RTCP_MUX_TYPE_MIN || firstType > RTCP_MUX_TYPE_MAX) return -1;
  } else if (firstType !== RTCP_SR && firstType !== RTCP_RR) {
    return -1;
  }
  let offset = 0;
  let count = 0;
  while (offset + 4 <= len) {
    if (buf[offset] >>> 6 !== 2) return -1;
    const words = (buf[offset + 2] << 8) | buf[offset + 3];
    offset += (words + 1) * 4;
    count++;
  }
  return offset === len ? count : -1;
}
