/**
 * Recorder endpoint: a frame sink writing what it hears to a 16-bit mono WAV file. Frames are
 * gathered in a preallocated one-second buffer and written when it fills, so a frame costs a
 * copy and no allocation; `stop()` flushes, patches the RIFF sizes and resolves once the file
 * is complete.
 */
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { SinkEndpoint } from './media-graph.ts';
import { wavHeader } from './audio-file/wav.ts';

export class WavRecorder implements SinkEndpoint {
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
