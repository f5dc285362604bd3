/**
 * Ogg Opus writer (RFC 7845) for the recorder: takes Opus packets already encoded (20 ms, mono)
 * and writes a file any player accepts.
 *
 * Ogg page (RFC 3533 §6):
 * ```
 *  0      "OggS"            capture pattern
 *  4      version = 0
 *  5      header type       0x01 continued packet, 0x02 first page (BOS), 0x04 last page (EOS)
 *  6      granule position  int64 LE; for Opus: 48 kHz samples up to the last packet ending here
 * 14      serial number     u32 LE
 * 18      page sequence     u32 LE
 * 22      CRC32             u32 LE, poly 0x04C11DB7, init 0, unreflected, CRC field zeroed
 * 26      page segments     n
 * 27      segment table     n lacing values (a packet = 255, 255, ..., <255)
 * 27+n    data
 * ```
 * Stream (RFC 7845 §3): page 0 holds only OpusHead (BOS), page 1 only OpusTags, then audio
 * pages; a page's granule position is the number of 48 kHz samples decodable from the packets
 * completed so far, pre-skip included (§4), and the last page has EOS.
 *
 * Like the WAV writer, pages are assembled in one preallocated buffer and written with
 * `writeSync` once per page (default: a page per second of audio), so nothing is allocated per
 * packet and a crash loses at most the page being filled.
 */
import * as nodeFs from 'node:fs';
import { AudioFileError } from './errors.ts';

/** Ogg CRC32 table: polynomial 0x04C11DB7, MSB first (RFC 3533 §6 "CRC checksum"). */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let k = 0; k < 8; k++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    t[i] = r >>> 0;
  }
  return t;
})();

/** The Ogg page checksum of `data[offset .. offset+length)` (CRC field must be zero in it). */
export function oggCrc32(data: Uint8Array, offset = 0, length = data.length - offset): number {
  let crc = 0;
  for (let i = offset, end = offset + length; i < end; i++) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ data[i]) & 0xff]) >>> 0;
  return crc;
}

/**
 * Duration of an Opus packet in 48 kHz samples, from its TOC byte (RFC 6716 §3.1):
 * config (5 bits) gives the frame size, code (2 bits) the frame count (code 3: second byte).
 * @returns 0 for an empty or malformed packet.
 */
export function opusPacketSamples(packet: Uint8Array): number {
  if (packet.length < 1) return 0;
  const toc = packet[0];
  const config = toc >> 3;
  let frame: number; // 48 kHz samples per frame
  if (config < 12) frame = [480, 960, 1920, 2880][config & 3]; // SILK: 10, 20, 40, 60 ms
  else if (config < 16) frame = [480, 960][config & 1]; // hybrid: 10, 20 ms
  else frame = [120, 240, 480, 960][config & 3]; // CELT: 2.5, 5, 10, 20 ms
  const code = toc & 3;
  let count: number;
  if (code === 0) count = 1;
  else if (code !== 3) count = 2;
  else {
    if (packet.length < 2) return 0;
    count = packet[1] & 0x3f;
  }
  const total = frame * count;
  return total > 5760 ? 0 : total; // §3.2.5: at most 120 ms per packet
}

export type OggOpusWriterFs = Pick<typeof nodeFs, 'openSync' | 'writeSync' | 'closeSync'>;

export interface OggOpusWriterOptions {
  /** Samples at 48 kHz the decoder drops at the start (encoder lookahead; libopus: 312). */
  preSkip?: number;
  /** Rate of the audio before encoding, informational (OpusHead field). Default 48000. */
  inputSampleRate?: number;
  /** Channel count of the packets (1 or 2, mapping family 0). Default 1. */
  channels?: 1 | 2;
  /** Ogg logical stream serial; default random. */
  serial?: number;
  /** OpusTags vendor string. Default "strowger". */
  vendor?: string;
  /** `KEY=value` comments for OpusTags (RFC 7845 §5.2), e.g. `TITLE=call 42`. */
  comments?: readonly string[];
  /** Audio per page; what a crash may lose. Default 1000 ms. */
  pageMs?: number;
  fs?: OggOpusWriterFs;
}

const HEADER_TYPE_BOS = 0x02;
const HEADER_TYPE_EOS = 0x04;
const MAX_SEGMENTS = 255;
const MAX_PAGE = 27 + 255 + 255 * 255;

/**
 * Streaming Ogg Opus file writer.
 *
 * @example
 * const ogg = OggOpusWriter.open('/var/rec/call.opus', { preSkip: encoderLookahead });
 * ogg.writePacket(opusPayload); // every 20 ms
 * ogg.close();                  // last page with EOS
 */
export class OggOpusWriter {
  private readonly fs: OggOpusWriterFs;
  private fd: number;
  private readonly serial: number;
  private readonly pageSamples: number;
  private readonly page = Buffer.alloc(MAX_PAGE);
  /** Lacing values and data of the page being filled. */
  private readonly segments = new Uint8Array(MAX_SEGMENTS);
  private readonly data = Buffer.alloc(255 * 255);
  private segmentCount = 0;
  private dataLength = 0;
  private samplesInPage = 0;
  private sequence = 0;
  /**
   * Granule position: 48 kHz samples decodable from all packets written so far. The pre-skip
   * samples are among them (RFC 7845 §4: the decoder discards them), so playback length is
   * `granule - preSkip`.
   */
  private granule = 0;
  /** 48 kHz samples of all packets written (pre-skip included). */
  samples = 0;

  private constructor(fd: number, fs: OggOpusWriterFs, serial: number, pageMs: number) {
    this.fd = fd;
    this.fs = fs;
    this.serial = serial;
    this.pageSamples = pageMs * 48;
  }

  /**
   * Creates `path` and writes the OpusHead and OpusTags pages.
   * @throws AudioFileError `AUDIO_FILE_ERR_BAD_OPTION` for a bad pre-skip, channel count or page length.
   */
  static open(path: string, options: OggOpusWriterOptions = {}): OggOpusWriter {
    const preSkip = options.preSkip ?? 312;
    const channels = options.channels ?? 1;
    const pageMs = options.pageMs ?? 1000;
    if (!Number.isInteger(preSkip) || preSkip < 0 || preSkip > 0xffff) throw new AudioFileError('AUDIO_FILE_ERR_BAD_OPTION', `preSkip ${preSkip}`);
    if (channels !== 1 && channels !== 2) throw new AudioFileError('AUDIO_FILE_ERR_BAD_OPTION', `channels ${String(channels)}`);
    if (!(pageMs >= 20 && pageMs <= 10000)) throw new AudioFileError('AUDIO_FILE_ERR_BAD_OPTION', `pageMs ${pageMs} outside 20..10000`);
    const fs = options.fs ?? nodeFs;
    const serial = (options.serial ?? Math.floor(Math.random() * 0x100000000)) >>> 0;
    const w = new OggOpusWriter(fs.openSync(path, 'w'), fs, serial, pageMs);

    // OpusHead, RFC 7845 §5.1.
    const head = Buffer.alloc(19);
    head.write('OpusHead', 0, 'latin1');
    head[8] = 1; // version
    head[9] = channels;
    head.writeUInt16LE(preSkip, 10);
    head.writeUInt32LE(options.inputSampleRate ?? 48000, 12);
    head.writeInt16LE(0, 16); // output gain
    head[18] = 0; // channel mapping family 0: mono/stereo, no table
    w.addPacket(head);
    w.emitPage(HEADER_TYPE_BOS, 0);

    // OpusTags, RFC 7845 §5.2.
    const vendor = Buffer.from(options.vendor ?? 'strowger', 'utf8');
    const comments = (options.comments ?? []).map((c) => Buffer.from(c, 'utf8'));
    const tags = Buffer.alloc(8 + 4 + vendor.length + 4 + comments.reduce((n, c) => n + 4 + c.length, 0));
    let p = tags.write('OpusTags', 0, 'latin1');
    p = tags.writeUInt32LE(vendor.length, p);
    p += vendor.copy(tags, p);
    p = tags.writeUInt32LE(comments.length, p);
    for (const c of comments) {
      p = tags.writeUInt32LE(c.length, p);
      p += c.copy(tags, p);
    }
    if (tags.length > 255 * 255 - 1) throw new AudioFileError('AUDIO_FILE_ERR_BAD_OPTION', 'OpusTags larger than one page');
    w.addPacket(tags);
    w.emitPage(0, 0);
    return w;
  }

  /**
   * Appends one Opus packet. Its duration comes from the TOC byte unless `samples` (48 kHz) is
   * given. Empty packets (DTX gaps the caller did not fill) are skipped: write a real packet
   * (e.g. the encoder's DTX frame) to keep time.
   * @returns false when the packet was empty or malformed (nothing written).
   * @throws AudioFileError `AUDIO_FILE_ERR_CLOSED` after {@link close}.
   */
  writePacket(packet: Uint8Array, samples = opusPacketSamples(packet)): boolean {
    if (this.fd < 0) throw new AudioFileError('AUDIO_FILE_ERR_CLOSED');
    if (packet.length === 0 || samples <= 0 || packet.length > 255 * 255 - 1) return false;
    const needed = Math.floor(packet.length / 255) + 1;
    if (this.segmentCount + needed > MAX_SEGMENTS || this.samplesInPage >= this.pageSamples) this.emitPage(0, this.granule);
    this.addPacket(packet);
    this.granule += samples;
    this.samples += samples;
    this.samplesInPage += samples;
    return true;
  }

  /** Writes the last page with EOS and closes the file. Idempotent. */
  close(): void {
    if (this.fd < 0) return;
    try {
      // An EOS page may carry no packet (RFC 3533 allows 0 segments) when the stream is empty.
      this.emitPage(HEADER_TYPE_EOS, this.granule);
    } finally {
      this.fs.closeSync(this.fd);
      this.fd = -1;
    }
  }

  /** Lacing (RFC 3533 §5): 255-byte segments, then one shorter (possibly 0) segment. */
  private addPacket(packet: Uint8Array): void {
    let left = packet.length;
    while (left >= 255) {
      this.segments[this.segmentCount++] = 255;
      left -= 255;
    }
    this.segments[this.segmentCount++] = left;
    this.data.set(packet, this.dataLength);
    this.dataLength += packet.length;
  }

  private emitPage(headerType: number, granule: number): void {
    const pg = this.page;
    pg.write('OggS', 0, 'latin1');
    pg[4] = 0;
    pg[5] = headerType;
    pg.writeUInt32LE(granule % 0x100000000, 6);
    pg.writeUInt32LE(Math.floor(granule / 0x100000000), 10);
    pg.writeUInt32LE(this.serial, 14);
    pg.writeUInt32LE(this.sequence++, 18);
    pg.writeUInt32LE(0, 22);
    pg[26] = this.segmentCount;
    pg.set(this.segments.subarray(0, this.segmentCount), 27);
    const dataAt = 27 + this.segmentCount;
    this.data.copy(pg, dataAt, 0, this.dataLength);
    const length = dataAt + this.dataLength;
    pg.writeUInt32LE(oggCrc32(pg, 0, length), 22);
    this.fs.writeSync(this.fd, pg, 0, length);
    this.segmentCount = 0;
    this.dataLength = 0;
    this.samplesInPage = 0;
  }
}
