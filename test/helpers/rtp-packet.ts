/**
 * Minimal RTP header read/write for the test helpers (RFC 3550 §5.1). Tests use it to build
 * and check packets independently of `src/media/`, so a bug there cannot hide itself.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           timestamp                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           synchronization source (SSRC) identifier            |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |            contributing source (CSRC) identifiers             |
 * |                             ....                              |
 */

export interface TestRtpHeader {
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
}

/** Writes a 12-byte header (no CSRC, no extension) followed by `payload` into a new Buffer. */
export function buildRtpPacket(h: TestRtpHeader, payload: Buffer): Buffer {
  const packet = Buffer.allocUnsafe(12 + payload.length);
  packet[0] = 0x80;
  packet[1] = (h.marker ? 0x80 : 0) | (h.payloadType & 0x7f);
  packet.writeUInt16BE(h.sequenceNumber & 0xffff, 2);
  packet.writeUInt32BE(h.timestamp >>> 0, 4);
  packet.writeUInt32BE(h.ssrc >>> 0, 8);
  payload.copy(packet, 12);
  return packet;
}

export interface ParsedRtp extends TestRtpHeader {
  /** View into the packet (no copy). */
  payload: Buffer;
}

/**
 * Parses an RTP packet, skipping CSRCs (§5.1), the header extension (§5.3.1) and padding
 * (§5.1 P bit). Returns null for anything that is not RTP version 2 or is truncated
 * (RTCP on a muxed port has PT 200..204 in the marker+PT byte: callers filter by PT).
 */
export function parseRtpPacket(packet: Buffer): ParsedRtp | null {
  if (packet.length < 12 || packet[0] >> 6 !== 2) return null;
  const cc = packet[0] & 0x0f;
  let offset = 12 + cc * 4;
  if (packet[0] & 0x10) {
    if (packet.length < offset + 4) return null;
    offset += 4 + packet.readUInt16BE(offset + 2) * 4;
  }
  let end = packet.length;
  if (packet[0] & 0x20) end -= packet[packet.length - 1];
  if (offset > end) return null;
  return {
    marker: (packet[1] & 0x80) !== 0,
    payloadType: packet[1] & 0x7f,
    sequenceNumber: packet.readUInt16BE(2),
    timestamp: packet.readUInt32BE(4),
    ssrc: packet.readUInt32BE(8),
    payload: packet.subarray(offset, end),
  };
}
