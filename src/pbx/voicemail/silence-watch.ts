/**
 * Trailing-silence detection on a WAV file being recorded (16-bit mono, 44-byte header, as
 * the media recorder writes it, flushing about once a second). Reading the growing file
 * keeps the media worker untouched: the call's audio is already going there.
 *
 * A 20 ms frame is "sound" when its mean absolute amplitude exceeds `threshold` (default
 * 200 ≈ -44 dBFS: above line noise and comfort silence, well below speech).
 */
import { open, type FileHandle } from 'node:fs/promises';

const HEADER = 44;
const POLL_MS = 250;

export interface SilenceWatchOptions {
  path: string;
  rate: number;
  /** Silence this long after the last sound (or from the start) calls `onSilence` once. */
  silenceMs: number;
  onSilence(): void;
  threshold?: number;
}

export class SilenceWatch {
  /** Bytes of audio data up to the end of the last frame with sound (0: none yet). */
  soundEnd = 0;
  private offset = 0;
  private silentMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private file: FileHandle | undefined;
  private fired = false;
  private chain: Promise<void> = Promise.resolve();
  private readonly frameBytes: number;

  constructor(private readonly o: SilenceWatchOptions) {
    this.frameBytes = (o.rate / 50) * 2;
  }

  start(): void {
    this.timer = setInterval(() => void this.poll().catch(() => {}), POLL_MS);
  }

  /** Reads what was written since the last look (one read at a time); run it once more after the recorder stopped for the final `soundEnd`. */
  poll(): Promise<void> {
    this.chain = this.chain.then(() => this.readNew(), () => this.readNew());
    return this.chain;
  }

  private async readNew(): Promise<void> {
    this.file ??= await open(this.o.path, 'r');
    const { size } = await this.file.stat();
    const available = size - HEADER - this.offset;
    const frames = Math.floor(available / this.frameBytes);
    if (frames <= 0) return;
    const buf = Buffer.alloc(frames * this.frameBytes);
    await this.file.read(buf, 0, buf.length, HEADER + this.offset);
    const threshold = this.o.threshold ?? 200;
    for (let f = 0; f < frames; f++) {
      let sum = 0;
      const base = f * this.frameBytes;
      for (let i = 0; i < this.frameBytes; i += 2) sum += Math.abs(buf.readInt16LE(base + i));
      if (sum / (this.frameBytes / 2) > threshold) {
        this.silentMs = 0;
        this.soundEnd = this.offset + base + this.frameBytes;
      } else {
        this.silentMs += 20;
      }
    }
    this.offset += frames * this.frameBytes;
    if (this.o.silenceMs > 0 && this.silentMs >= this.o.silenceMs && !this.fired) {
      this.fired = true;
      this.o.onSilence();
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.chain.catch(() => {});
    await this.file?.close().catch(() => {});
    this.file = undefined;
  }
}
