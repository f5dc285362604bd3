/**
 * ZRTP packets as they share the RTP port (RFC 6189 §5): a 12-byte header that no RTP packet
 * can have (version bits 00, magic cookie), one ZRTP message, and a CRC-32C.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |0 0 0 1|Not Used (set to zero) |         Sequence Number       |
 * |                 Magic Cookie 'ZRTP' (0x5a525450)              |
 * |                        Source Identifier                      |
 * |           ZRTP Message (length depends on Message Type)       |
 * |                          CRC (1 word)                         |
 *
 * The CRC word holds CRC-32C least significant byte first (see `crc32c.ts`).
 */
import { crc32c } from './crc32c.ts';

export const ZRTP_MAGIC = 0x5a525450;
const HEADER = 12;

/**
 * Cheap test for the relay's hot path: first byte 0x10 and the cookie. RTP (version 2) starts
 * with 0x80-0xbf, STUN with 0x00/0x01, so one byte comparison rules out almost every packet.
 */
export function isZrtpPacket(buf: Uint8Array): boolean {
  return buf.length >= HEADER + 12 + 4 && buf[0] === 0x10 &&
    buf[4] === 0x5a && buf[5] === 0x52 && buf[6] === 0x54 && buf[7] === 0x50;
}

export function framePacket(message: Uint8Array, sequence: number, ssrc: number): Buffer {
  const out = Buffer.alloc(HEADER + message.length + 4);
  out[0] = 0x10;
  out.writeUInt16BE(sequence & 0xffff, 2);
  out.writeUInt32BE(ZRTP_MAGIC, 4);
  out.writeUInt32BE(ssrc >>> 0, 8);
  out.set(message, HEADER);
  out.writeUInt32LE(crc32c(out, 0, out.length - 4), out.length - 4);
  return out;
}

export interface ZrtpPacket {
  sequence: number;
  ssrc: number;
  /** The ZRTP message (preamble to its last word), a view into the packet. */
  message: Buffer;
}

export type UnframeResult = { ok: true; packet: ZrtpPacket } | { ok: false; reason: string };

/** Checks header and CRC; a packet that fails either is dropped (§5: "discarded"). */
export function unframePacket(buf: Buffer): UnframeResult {
  if (!isZrtpPacket(buf)) return { ok: false, reason: 'not a ZRTP packet' };
  if (buf.length % 4 !== 0) return { ok: false, reason: `length ${buf.length} is not a multiple of 4` };
  const expected = crc32c(buf, 0, buf.length - 4);
  const got = buf.readUInt32LE(buf.length - 4);
  if (expected !== got) return { ok: false, reason: `CRC 0x${got.toString(16)}, expected 0x${expected.toString(16)}` };
  return { ok: true, packet: { sequence: buf.readUInt16BE(2), ssrc: buf.readUInt32BE(8), message: buf.subarray(HEADER, buf.length - 4) } };
}
