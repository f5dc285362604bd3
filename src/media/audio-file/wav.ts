/**
 * WAV files: a reader for the player (MOH, prompts) and a streaming writer for the recorder.
 *
 * ```
 * offset  size  field
 *  0      4     "RIFF"
 *  4      4     RIFF size = file length - 8 (little-endian, like every number here)
 *  8      4     "WAVE"
 * 12      ...   chunks: id (4) + size (4) + data, padded to an even length
 *               "fmt ": format tag (2), channels (2), sample rate (4), byte rate (4),
 *                       block align (2), bits per sample (2) [, cbSize (2), extension]
 *               "data": the samples, interleaved
 * ```
 * (Microsoft "Multimedia Programming Interface and Data Specifications 1.0", RIFF/WAVE; format
 * tags 1 = PCM, 6 = A-law, 7 = µ-law, 0xFFFE = WAVE_FORMAT_EXTENSIBLE carrying a sub-format GUID.)
 */
import * as nodeFs from 'node:fs';
import { endianness } from 'node:os';
import { AudioFileError } from './errors.ts';

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_ALAW = 6;
const WAVE_FORMAT_MULAW = 7;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/** What the file held before it became mono 16-bit PCM. */
export type WavEncoding = 'pcm16' | 'alaw' | 'mulaw';

/** A decoded WAV file: mono 16-bit PCM at the file's own rate (resampling is the graph's job). */
export interface WavAudio {
  sampleRate: number;
  /** Channels in the file; more than one were averaged into `samples`. */
  channels: number;
  encoding: WavEncoding;
  /** Mono samples. */
  samples: Int16Array;
  durationMs: number;
}

/** ITU-T G.711 µ-law → linear (the 14-bit value scaled to 16 bits). */
function mulawToLinear(u: number): number {
  u = ~u & 0xff;
  const exp = (u >> 4) & 7;
  const mag = ((((u & 0x0f) << 3) + 0x84) << exp) - 0x84;
  return u & 0x80 ? -mag : mag;
}

/** ITU-T G.711 A-law → linear (the 13-bit value scaled to 16 bits). */
function alawToLinear(a: number): number {
  a ^= 0x55;
  const exp = (a >> 4) & 7;
  let t = ((a & 0x0f) << 4) + 8;
  if (exp !== 0) t = (t + 0x100) << (exp - 1);
  return a & 0x80 ? t : -t;
}

const MULAW_TABLE = Int16Array.from({ length: 256 }, (_, i) => mulawToLinear(i));
const ALAW_TABLE = Int16Array.from({ length: 256 }, (_, i) => alawToLinear(i));

/**
 * Parses a WAV file held in memory into mono 16-bit PCM.
 *
 * Accepted: PCM 16-bit (also as WAVE_FORMAT_EXTENSIBLE), µ-law and A-law 8-bit; any channel
 * count (averaged to mono) and any sample rate. A data size of 0xFFFFFFFF (written by tools that
 * stream to a pipe) means "to the end of the file".
 *
 * @throws AudioFileError `AUDIO_FILE_ERR_NOT_RIFF` (no RIFF/WAVE header), `_TRUNCATED` (a chunk
 *   or the data runs past the end: numbers in the message), `_MALFORMED` (no fmt chunk, data
 *   before fmt, zero channels or rate), `_UNSUPPORTED` (other format tags or bit depths),
 *   `_NO_AUDIO` (no data chunk, or an empty one).
 */
export function readWav(buf: Uint8Array): WavAudio {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  if (b.length < 12 || b.toString('latin1', 0, 4) !== 'RIFF' || b.toString('latin1', 8, 12) !== 'WAVE') {
    throw new AudioFileError('AUDIO_FILE_ERR_NOT_RIFF', b.length < 12 ? `${b.length} bytes` : `starts with "${b.toString('latin1', 0, 4)}"`);
  }
  let fmt: { tag: number; channels: number; rate: number; bits: number; align: number } | null = null;
  let pos = 12;
  while (pos + 8 <= b.length) {
    const id = b.toString('latin1', pos, pos + 4);
    let size = b.readUInt32LE(pos + 4);
    const body = pos + 8;
    if (id === 'fmt ') {
      if (size < 16) throw new AudioFileError('AUDIO_FILE_ERR_MALFORMED', `fmt chunk of ${size} bytes, need 16`);
      if (body + size > b.length) throw new AudioFileError('AUDIO_FILE_ERR_TRUNCATED', `fmt chunk needs ${size} bytes, ${b.length - body} left`);
      let tag = b.readUInt16LE(body);
      if (tag === WAVE_FORMAT_EXTENSIBLE && size >= 40) tag = b.readUInt16LE(body + 24); // SubFormat GUID's first two bytes
      fmt = { tag, channels: b.readUInt16LE(body + 2), rate: b.readUInt32LE(body + 4), align: b.readUInt16LE(body + 12), bits: b.readUInt16LE(body + 14) };
    } else if (id === 'data') {
      if (fmt === null) throw new AudioFileError('AUDIO_FILE_ERR_MALFORMED', 'data chunk before fmt chunk');
      if (size === 0xffffffff) size = b.length - body;
      if (body + size > b.length) {
        throw new AudioFileError('AUDIO_FILE_ERR_TRUNCATED', `data chunk declares ${size} bytes, ${b.length - body} present`);
      }
      return decode(b.subarray(body, body + size), fmt);
    }
    pos = body + size + (size & 1);
  }
  if (fmt === null) throw new AudioFileError('AUDIO_FILE_ERR_MALFORMED', 'no fmt chunk');
  throw new AudioFileError('AUDIO_FILE_ERR_NO_AUDIO', 'no data chunk');
}

/** Reads and parses a WAV file (sync: files are loaded once, when a player is created). */
export function readWavFile(path: string): WavAudio {
  return readWav(nodeFs.readFileSync(path));
}

function decode(data: Buffer, fmt: { tag: number; channels: number; rate: number; bits: number }): WavAudio {
  const { tag, channels, rate, bits } = fmt;
  if (channels === 0 || rate === 0) throw new AudioFileError('AUDIO_FILE_ERR_MALFORMED', `${channels} channels at ${rate} Hz`);
  let encoding: WavEncoding;
  let bytes: number;
  if (tag === WAVE_FORMAT_PCM && bits === 16) {
    encoding = 'pcm16';
    bytes = 2;
  } else if ((tag === WAVE_FORMAT_MULAW || tag === WAVE_FORMAT_ALAW) && bits === 8) {
    encoding = tag === WAVE_FORMAT_MULAW ? 'mulaw' : 'alaw';
    bytes = 1;
  } else {
    const name = tag === WAVE_FORMAT_PCM ? `PCM ${bits}-bit` : tag === 3 ? `IEEE float ${bits}-bit` : `format tag ${tag} (${bits}-bit)`;
    throw new AudioFileError('AUDIO_FILE_ERR_UNSUPPORTED', `${name}; accepted: PCM 16-bit, µ-law, A-law`);
  }
  const frameBytes = bytes * channels;
  const frames = Math.floor(data.length / frameBytes);
  if (frames === 0) throw new AudioFileError('AUDIO_FILE_ERR_NO_AUDIO', 'empty data chunk');
  const samples = new Int16Array(frames);
  const table = encoding === 'mulaw' ? MULAW_TABLE : ALAW_TABLE;
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    const at = f * frameBytes;
    for (let c = 0; c < channels; c++) {
      sum += bytes === 2 ? data.readInt16LE(at + 2 * c) : table[data[at + c]];
    }
    samples[f] = channels === 1 ? sum : Math.round(sum / channels);
  }
  return { sampleRate: rate, channels, encoding, samples, durationMs: (frames * 1000) / rate };
}

/** The file-system calls the writer uses; injected so tests can simulate a crash or a full disk. */
export type WavWriterFs = Pick<typeof nodeFs, 'openSync' | 'writeSync' | 'closeSync'>;

export interface WavWriterOptions {
  /** Sample rate of the frames written (8000, 16000, 48000...). */
  sampleRate: number;
  /**
   * Audio buffered in memory before it is written and the header sizes are patched; what a
   * crash can lose at most. Default 1000 ms.
   */
  flushMs?: number;
  fs?: WavWriterFs;
}

/** RIFF sizes are 32-bit: the data may not exceed 4 GiB minus the header. */
const MAX_DATA_BYTES = 0xffffffff - 36;
const HEADER_BYTES = 44;

/**
 * Streaming writer of 16-bit mono PCM WAV, for the recorder in a media worker.
 *
 * **Sync calls on a file descriptor, batched**: frames are copied into one preallocated buffer
 * (no allocation per frame: the caller's frame is reused by the next tick, so an async write
 * would need a copy per frame), and once per `flushMs` the buffer goes to the file with
 * `writeSync`, followed by two 4-byte `writeSync`s at offsets 4 and 40 that patch the RIFF and
 * data sizes. One data write per second is a page-cache copy of 16-96 KB (tens of µs), cheaper
 * than a libuv threadpool round trip, and the threadpool is shared with crypto, DNS and zlib.
 * The header always matches the flushed data, so a crash leaves a playable file that misses at
 * most the last `flushMs`.
 *
 * @example
 * const rec = WavWriter.open('/var/rec/call.wav', { sampleRate: 8000 });
 * rec.write(frame); // every 20 ms
 * rec.close();      // flushes and patches the sizes
 */
export class WavWriter {
  readonly sampleRate: number;
  private readonly fs: WavWriterFs;
  private fd: number;
  private readonly buf: Uint8Array;
  private readonly buf16: Int16Array;
  /** Samples waiting in `buf`. */
  private pending = 0;
  /** Data bytes already in the file. */
  private flushed = 0;
  private readonly patch = Buffer.alloc(4);

  private constructor(fd: number, sampleRate: number, flushSamples: number, fs: WavWriterFs) {
    this.fd = fd;
    this.sampleRate = sampleRate;
    this.fs = fs;
    const ab = new ArrayBuffer(flushSamples * 2);
    this.buf = new Uint8Array(ab);
    this.buf16 = new Int16Array(ab);
  }

  /**
   * Creates (or truncates) `path` and writes a header with zero sizes.
   * @throws AudioFileError `AUDIO_FILE_ERR_BAD_OPTION` for a bad rate or flush interval; fs errors as thrown by `openSync`.
   */
  static open(path: string, options: WavWriterOptions): WavWriter {
    const { sampleRate } = options;
    if (!Number.isInteger(sampleRate) || sampleRate < 1000 || sampleRate > 384000) {
      throw new AudioFileError('AUDIO_FILE_ERR_BAD_OPTION', `sampleRate ${sampleRate}`);
    }
    if (endianness() !== 'LE') throw new AudioFileError('AUDIO_FILE_ERR_BAD_OPTION', 'big-endian hosts are not supported');
    const flushMs = options.flushMs ?? 1000;
    if (!(flushMs >= 20 && flushMs <= 60000)) throw new AudioFileError('AUDIO_FILE_ERR_BAD_OPTION', `flushMs ${flushMs} outside 20..60000`);
    const fs = options.fs ?? nodeFs;
    const fd = fs.openSync(path, 'w');
    const w = new WavWriter(fd, sampleRate, Math.ceil((flushMs * sampleRate) / 1000), fs);
    fs.writeSync(fd, wavHeader(sampleRate, 0), 0, HEADER_BYTES, 0);
    return w;
  }

  /** Samples in the file plus those buffered. */
  get samplesWritten(): number {
    return this.flushed / 2 + this.pending;
  }

  get durationMs(): number {
    return (this.samplesWritten * 1000) / this.sampleRate;
  }

  /**
   * Appends `length` samples of `pcm` from `offset`. Nothing is allocated.
   * @returns samples accepted: fewer than `length` only when the 4 GiB WAV limit is reached.
   * @throws AudioFileError `AUDIO_FILE_ERR_CLOSED` after {@link close}.
   */
  write(pcm: Int16Array, offset = 0, length = pcm.length - offset): number {
    if (this.fd < 0) throw new AudioFileError('AUDIO_FILE_ERR_CLOSED');
    const room = Math.floor((MAX_DATA_BYTES - this.flushed) / 2) - this.pending;
    const n = Math.min(length, Math.max(0, room));
    const cap = this.buf16.length;
    let done = 0;
    while (done < n) {
      const k = Math.min(n - done, cap - this.pending);
      const dst = this.buf16;
      const base = this.pending;
      for (let i = 0; i < k; i++) dst[base + i] = pcm[offset + done + i];
      this.pending += k;
      done += k;
      if (this.pending === cap) this.flush();
    }
    return n;
  }

  /** Writes buffered samples and patches the RIFF and data sizes (file playable up to here). */
  flush(): void {
    if (this.fd < 0) return;
    if (this.pending > 0) {
      const bytes = this.pending * 2;
      this.fs.writeSync(this.fd, this.buf, 0, bytes, HEADER_BYTES + this.flushed);
      this.flushed += bytes;
      this.pending = 0;
    }
    this.patch.writeUInt32LE(36 + this.flushed, 0);
    this.fs.writeSync(this.fd, this.patch, 0, 4, 4);
    this.patch.writeUInt32LE(this.flushed, 0);
    this.fs.writeSync(this.fd, this.patch, 0, 4, 40);
  }

  /** Flushes, patches the sizes and closes the file. Idempotent. */
  close(): void {
    if (this.fd < 0) return;
    try {
      this.flush();
    } finally {
      this.fs.closeSync(this.fd);
      this.fd = -1;
    }
  }
}

/** The 44-byte canonical header of 16-bit mono PCM with `dataBytes` of samples. */
export function wavHeader(sampleRate: number, dataBytes: number): Buffer {
  const h = Buffer.alloc(HEADER_BYTES);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(WAVE_FORMAT_PCM, 20);
  h.writeUInt16LE(1, 22); // channels
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * 2, 28); // byte rate
  h.writeUInt16LE(2, 32); // block align
  h.writeUInt16LE(16, 34); // bits per sample
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}
