/**
 * Recorder endpoints: frame sinks writing what they hear to a file.
 * - {@link WavRecorder}: 16-bit mono WAV. Frames are gathered in a preallocated one-second
 *   buffer and written when it fills, so a frame costs a copy and no allocation; `stop()`
 *   flushes, patches the RIFF sizes and resolves once the file is complete.
 * - {@link OggOpusRecorder}: mono Opus in Ogg (RFC 7845), ~6x smaller than 8 kHz WAV.
 * {@link openRecorder} picks one by format.
 */
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { OggOpusWriter } from './audio-file/ogg-opus.ts';
import { OpusEncoder } from './codec/opus.ts';
import type { SinkEndpoint } from './media-graph.ts';
import { wavHeader } from './audio-file/wav.ts';

/** A recorder as the worker holds it: a sink whose file is complete once `stop()` resolves. */
export interface Recorder extends SinkEndpoint {
  readonly rate: number;
  stop(): Promise<void>;
}

export type RecorderFormat = 'wav' | 'ogg-opus';

/**
 * Creates the recorder of `format` writing to `path` at PCM `rate` (Ogg-Opus: 8000, 12000,
 * 16000, 24000 or 48000, encoded natively at that rate). `onError` is called once with the
 * reason if a write fails later (the recorder then drops further audio; the call goes on).
 * @throws the file system's error when `path` cannot be created.
 */
export async function openRecorder(format: RecorderFormat, path: string, rate: number, onError: (reason: string) => void): Promise<Recorder> {
  return format === 'ogg-opus' ? OggOpusRecorder.create(path, rate, onError) : WavRecorder.create(path, rate, onError);
}

export class WavRecorder implements Recorder {
  /** Bytes of audio written so far (excluding the header). */
  dataBytes = 0;
  private readonly chunk: Buffer;
  private fill = 0;
  /** Writes run one after another in this chain. */
  private writing: Promise<unknown>;
  private failed: Error | null = null;
  private closed = false;

  private constructor(private readonly file: FileHandle, readonly rate: number, private readonly onError: (reason: string) => void) {
    this.chunk = Buffer.alloc(rate * 2);
    this.writing = file.write(wavHeader(rate, 0), 0, 44, 0);
  }

  static async create(path: string, rate: number, onError: (reason: string) => void): Promise<WavRecorder> {
    return new WavRecorder(await open(path, 'w'), rate, onError);
  }

  writeFrame(pcm: Int16Array): void {
    if (this.closed) return;
    const chunk = this.chunk;
    for (let i = 0; i < pcm.length; i++) {
      chunk.writeInt16LE(pcm[i], this.fill);
      this.fill += 2;
      if (this.fill === chunk.length) this.flush();
    }
  }

  private flush(): void {
    if (this.fill === 0) return;
    const data = Buffer.from(this.chunk.subarray(0, this.fill)); // once per second
    const position = 44 + this.dataBytes;
    this.dataBytes += this.fill;
    this.fill = 0;
    this.writing = this.writing.then(() => this.file.write(data, 0, data.length, position)).catch((err: Error) => {
      if (this.failed === null) {
        this.failed = err;
        this.onError(`recorder: ${err.message}`);
      }
    });
  }

  /** Flushes, writes the final sizes into the header and closes the file. */
  async stop(): Promise<void> {
    if (this.closed) return this.writing.then(() => undefined);
    this.flush();
    this.closed = true;
    this.writing = this.writing
      .then(() => this.file.write(wavHeader(this.rate, this.dataBytes), 0, 44, 0))
      .finally(() => this.file.close());
    await this.writing;
  }

  close(): void {
    void this.stop().catch(() => {});
  }
}

/** 20 ms in the 48 kHz units of Ogg Opus granule positions (RFC 7845 §4). */
const FRAME_48K = 960;
/**
 * Samples (48 kHz) the decoder drops at the start: libopus' encoder lookahead, 2.5 ms + the
 * 4 ms delay compensation of the VOIP/audio applications, the same at every rate (RFC 7845
 * §4.2: pre-skip is in 48 kHz samples whatever the input rate).
 */
const OPUS_PRE_SKIP = 312;

/**
 * Opus in Ogg: every 20 ms frame is encoded (the Opus encoder of the graph's legs, mono, VOIP,
 * at the recorder's rate, no DTX so the file keeps real time) and handed to
 * {@link OggOpusWriter}, which writes a page per second with one `writeSync` (a crash loses at
 * most the last second). The packet buffer and its views are allocated once; a frame allocates
 * nothing.
 */
export class OggOpusRecorder implements Recorder {
  /** Opus packets written. */
  packets = 0;
  private readonly encoder: OpusEncoder;
  private readonly packet = Buffer.alloc(1500);
  /** Views of `packet` by length, made on first use (VBR packets take a few dozen lengths). */
  private readonly views: (Buffer | undefined)[] = [];
  private failed = false;
  private closed = false;

  private constructor(private readonly writer: OggOpusWriter, readonly rate: number, private readonly onError: (reason: string) => void) {
    this.encoder = new OpusEncoder({ sampleRate: rate });
  }

  static async create(path: string, rate: number, onError: (reason: string) => void): Promise<OggOpusRecorder> {
    // Validates the rate before creating the file.
    new OpusEncoder({ sampleRate: rate }).close();
    const writer = OggOpusWriter.open(path, { preSkip: OPUS_PRE_SKIP, inputSampleRate: rate, channels: 1, comments: ['ENCODER=strowger recorder'] });
    return new OggOpusRecorder(writer, rate, onError);
  }

  writeFrame(pcm: Int16Array): void {
    if (this.closed || this.failed) return;
    const n = this.encoder.encode(pcm, this.packet);
    if (n <= 0) return;
    let view = this.views[n];
    if (view === undefined) view = this.views[n] = this.packet.subarray(0, n);
    try {
      this.writer.writePacket(view, FRAME_48K);
      this.packets++;
    } catch (err) {
      this.fail(err as Error);
    }
  }

  /** Writes the last page (EOS) and closes the file. */
  async stop(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.encoder.close();
    try {
      this.writer.close();
    } catch (err) {
      this.fail(err as Error);
      throw err;
    }
  }

  close(): void {
    void this.stop().catch(() => {});
  }

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.onError(`recorder: ${err.message}`);
  }
}
