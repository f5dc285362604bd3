/**
 * RTP fixed header (RFC 3550 §5.1), read into a caller-owned object so the relay's hot path
 * allocates nothing per packet. The payload is never copied: it is
 * `buf.subarray(headerLength, headerLength + out.payloadLength)`.
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           timestamp                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           synchronization source (SSRC) identifier            |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |            contributing source (CSRC) identifiers             |  CC × 4 octets
 * |                             ....                              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      defined by profile       |           length              |  if X (§5.3.1)
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        header extension                       |  length × 4 octets
 * |                             ....                              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                payload ...    | padding ...   | pad count     |  if P (§5.1)
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 */

/** Fixed part of the header: V/P/X/CC, M/PT, sequence, timestamp, SSRC (RFC 3550 §5.1). */
export const RTP_FIXED_HEADER_LENGTH = 12;
/** The only RTP version in use (RFC 3550 §5.1, "V: 2 bits"). */
export const RTP_VERSION = 2;

/**
 * Decoded header fields. Create one per socket/worker and pass it to every
 * {@link readRtpHeader} call; all fields are set in the constructor so the object keeps one
 * hidden class.
 */
export class RtpHeader {
  version = 0;
  padding = false;
  extension = false;
  csrcCount = 0;
  marker = false;
  payloadType = 0;
  /** 16-bit sequence number. */
  sequenceNumber = 0;
  /** 32-bit media timestamp, unsigned. */
  timestamp = 0;
  /** 32-bit synchronization source, unsigned. */
  ssrc = 0;
  /** CSRC list; only the first `csrcCount` entries are meaningful (reused, never reallocated). */
  readonly csrc = new Uint32Array(15);
  /** "defined by profile" field of the header extension, 0 when `extension` is false. */
  extensionProfile = 0;
  /** Offset of the extension data (after its 4-octet header) in the buffer, 0 when absent. */
  extensionOffset = 0;
  /** Length of the extension data in octets, 0 when absent. */
  extensionLength = 0;
  /** Octets of payload after the header, excluding padding. */
  payloadLength = 0;
  /** Octets of padding at the end, including the count octet itself; 0 when `padding` is false. */
  paddingLength = 0;
}

/**
 * Reads the RTP header of `buf` into `out`.
 *
 * @returns the header length (fixed part + CSRCs + extension), i.e. the payload offset, or
 *   -1 when `buf` is not a valid RTP packet: too short, version other than 2, CSRC list or
 *   extension running past the end, or a padding count of 0 or larger than the space after
 *   the header (RFC 3550 §5.1 "P", A.1 validity checks). `out` is partially written on -1.
 *
 * @example
 * const h = new RtpHeader();
 * const n = readRtpHeader(msg, h);
 * if (n >= 0) sink.writeRtp(h, msg.subarray(n, n + h.payloadLength));
 */
export function readRtpHeader(buf: Uint8Array, out: RtpHeader): number {
  const len = buf.length;
  if (len < RTP_FIXED_HEADER_LENGTH) return -1;
  const b0 = buf[0];
  const version = b0 >>> 6;
  if (version !== RTP_VERSION) return -1;
  const csrcCount = b0 & 0x0f;
  let offset = RTP_FIXED_HEADER_LENGTH + csrcCount * 4;
  if (offset > len) return -1;

  const b1 = buf[1];
  out.version = version;
  out.padding = (b0 & 0x20) !== 0;
  out.extension = (b0 & 0x10) !== 0;
  out.csrcCount = csrcCount;
  out.marker = (b1 & 0x80) !== 0;
  out.payloadType = b1 & 0x7f;
  out.sequenceNumber = (buf[2] << 8) | buf[3];
  // `>>> 0` keeps the 32-bit fields unsigned (a plain `<< 24` would go negative).
  out.timestamp = ((buf[4] << 24) | (buf[5] << 16) | (buf[6] << 8) | buf[7]) >>> 0;
  out.ssrc = ((buf[8] << 24) | (buf[9] << 16) | (buf[10] << 8) | buf[11]) >>> 0;
  for (let i = 0, p = RTP_FIXED_HEADER_LENGTH; i < csrcCount; i++, p += 4) {
    out.csrc[i] = ((buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3]) >>> 0;
  }

  if (out.extension) {
    // RFC 3550 §5.3.1: 16-bit profile-defined id, then the length in 32-bit words excluding
    // this 4-octet extension header.
    if (offset + 4 > len) return -1;
    out.extensionProfile = (buf[offset] << 8) | buf[offset + 1];
    const words = (buf[offset + 2] << 8) | buf[offset + 3];
    out.extensionOffset = offset + 4;
    out.extensionLength = words * 4;
    offset += 4 + out.extensionLength;
    if (offset > len) return -1;
  } else {
    out.extensionProfile = 0;
    out.extensionOffset = 0;
    out.extensionLength = 0;
  }

  let paddingLength = 0;
  if (out.padding) {
    // RFC 3550 §5.1: the last octet counts the padding octets, itself included, so it is at
    // least 1 and cannot eat into the header.
    paddingLength = buf[len - 1];
    if (paddingLength === 0 || offset + paddingLength > len) return -1;
  }
  out.paddingLength = paddingLength;
  out.payloadLength = len - offset - paddingLength;
  return offset;
}
