/**
 * An `ffmpeg` that reads an RTP stream described by an SDP file and pushes it as AAC in FLV to
 * an RTMP URL, kept running: when it exits it is started again after a back-off (base, ×2 each
 * time, at most 30 s); after `maxRetries` restarts in a row without 30 s of running, it gives
 * up with the reason (its last error line). Running 30 s resets the count.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface FfmpegRtmpOptions {
  sdpPath: string;
  rtmpDst: string;
  maxRetries: number;
  retryBaseMs: number;
  /** Called once when it gives up. */
  onGiveUp(reason: string): void;
  ffmpegPath?: string;
}

const STABLE_MS = 30_000;
const MAX_BACKOFF_MS = 30_000;

export class FfmpegRtmp {
  private child: ChildProcess | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private startedAt = 0;
  private lastError = '';
  /** Restarts since it last ran stably. */
  retries = 0;
  /** Times ffmpeg was started in all. */
  runs = 0;

  constructor(private readonly o: FfmpegRtmpOptions) {}

  get running(): boolean {
    return this.child !== null;
  }

  start(): void {
    if (this.stopped) return;
    this.runs++;
    this.startedAt = Date.now();
    const child = spawn(this.o.ffmpegPath ?? 'ffmpeg', [
      '-hide_banner', '-loglevel', 'error', '-nostdin',
      '-protocol_whitelist', 'file,udp,rtp', '-i', this.o.sdpPath,
      '-vn', '-c:a', 'aac', '-b:a', '64k', '-ar', '44100', '-f', 'flv', this.o.rtmpDst,
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = chunk.trim().split('\n').filter(Boolean);
      if (lines.length > 0) this.lastError = lines[lines.length - 1]!.slice(0, 300);
    });
    child.once('error', (err) => { this.lastError = err.message; });
    child.once('close', (code, signal) => {
      this.child = null;
      if (this.stopped) return;
      if (Date.now() - this.startedAt >= STABLE_MS) this.retries = 0;
      const reason = `ffmpeg exited (${signal ?? `code ${code}`})${this.lastError ? `: ${this.lastError}` : ''}`;
      if (this.retries >= this.o.maxRetries) {
        this.stopped = true;
        this.o.onGiveUp(`${reason}; gave up after ${this.retries} retries`);
        return;
      }
      this.retries++;
      const delay = Math.min(this.o.retryBaseMs * 2 ** (this.retries - 1), MAX_BACKOFF_MS);
      this.timer = setTimeout(() => this.start(), delay);
      this.timer.unref();
    });
  }

  /** Stops ffmpeg (SIGTERM, then SIGKILL after 3 s) and resolves once it is gone. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    const child = this.child;
    if (child === null) return;
    const gone = new Promise<void>((resolve) => child.once('close', () => resolve()));
    child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(kill);
  }

  get lastErrorLine(): string {
    return this.lastError;
  }
}
