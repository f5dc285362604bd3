/**
 * Commits off the main thread. Under a REGISTER storm the main thread's synchronous SQLite
 * commits (B-tree updates, WAL frames written and checksummed, file locks) were a quarter of
 * its CPU per REGISTER (bench/README.md, "Wave 2 session 20"), on the one thread that parses,
 * authenticates and answers every SIP message. Here a worker thread with its own connection
 * runs each batch (`sqlite-writer-worker.ts`) and answers once it is committed, so a caller that
 * answers only after its rows are durable (the location service's group commit) keeps that
 * promise while the main thread goes on with the next datagram.
 *
 * A batch is a list of {@link WriteStep}s: data, so it crosses threads as one structured clone.
 * When the thread stops (an error, a terminate), batches in flight fail and {@link available}
 * turns false: callers then commit on their own connection again.
 */
import { spawnWorker } from '../media/spawn-worker.ts';
import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { SqliteWriterWorkerData, WriterReply, WriterRequest } from './sqlite-writer-worker.ts';
import type { WriteStep } from './write-steps.ts';

/** An error the writer thread reported for a batch (the transaction rolled back), or its end. */
export class SqliteWriterError extends Error {
  constructor(message: string, readonly code?: string) {
    super(message);
    this.name = 'SqliteWriterError';
  }
}

interface Pending {
  resolve(): void;
  reject(err: Error): void;
}

export class SqliteWriter {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Ids of the SQL texts the thread has been sent (each crosses once, then a number does). */
  private readonly textIds = new Map<string, number>();
  /** Closing or exited: no new batches. */
  private stopped = false;
  /** Batches the thread reported: committed, or rolled back (failed); those lost with the thread count as failed. */
  readonly counters = { committed: 0, failed: 0 };
  private drained: (() => void) | undefined;

  constructor(path: string, writeLock: SharedArrayBuffer, opts: { autocheckpointPages: number; busyTimeoutMs?: number; logger?: Logger }) {
    const data: SqliteWriterWorkerData = { path, writeLock, autocheckpointPages: opts.autocheckpointPages, busyTimeoutMs: opts.busyTimeoutMs ?? 5_000 };
    this.worker = spawnWorker(new URL('./sqlite-writer-worker.ts', import.meta.url), {
      workerData: data, name: 'strowger-sqlite-writer', resourceLimits: { maxYoungGenerationSizeMb: 4 },
    });
    this.worker.unref();
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.on('message', (r: WriterReply) => {
      const p = this.pending.get(r.id);
      if (p === undefined) return;
      this.pending.delete(r.id);
      if (r.error === undefined) {
        this.counters.committed++;
        p.resolve();
      } else {
        this.counters.failed++;
        p.reject(new SqliteWriterError(r.error.message, r.error.code));
      }
    });
    this.worker.on('error', (err) => {
      opts.logger?.error({ err }, 'SQLite writer thread failed');
    });
    this.worker.once('exit', (code) => {
      if (!this.stopped) opts.logger?.error({ code, batches: this.pending.size }, 'SQLite writer thread exited: commits go back to the main thread');
      this.stop(new SqliteWriterError('SQLite writer thread exited'));
    });
  }

  /** Batches posted and not answered yet. */
  get pendingBatches(): number {
    return this.pending.size;
  }

  /** False once the thread has stopped: commit on the caller's connection instead. */
  get available(): boolean {
    return !this.stopped;
  }

  /** Resolves once `steps` are committed, in one transaction, after every batch posted before. */
  transaction(steps: readonly WriteStep[]): Promise<void> {
    if (this.stopped) return Promise.reject(new SqliteWriterError('SQLite writer thread stopped'));
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Held while a batch is out, so the process does not exit under an unanswered REGISTER.
      if (this.pending.size === 1) this.worker.ref();
      this.worker.postMessage(this.encode(id, steps));
    }).finally(() => {
      if (this.pending.size > 0) return;
      if (this.drained !== undefined) this.drained();
      else if (!this.stopped) this.worker.unref();
    });
  }

  /** Lets the batches posted so far commit (new ones are refused), then stops the thread. */
  async close(): Promise<void> {
    if (this.stopped) return this.exited;
    this.stopped = true;
    this.worker.ref();
    const stuck = setTimeout(() => { void this.worker.terminate(); }, 5_000);
    stuck.unref();
    if (this.pending.size > 0) await new Promise<void>((resolve) => { this.drained = resolve; });
    this.worker.postMessage('close' satisfies WriterRequest);
    return this.exited.finally(() => clearTimeout(stuck));
  }

  /** Steps as flat data: [text id, params, or-else text id (-1: none), or-else params] per step, new texts alongside. */
  private encode(id: number, steps: readonly WriteStep[]): WriterRequest {
    const texts: Array<[number, string]> = [];
    const textId = (sql: string): number => {
      let n = this.textIds.get(sql);
      if (n === undefined) {
        this.textIds.set(sql, (n = this.textIds.size));
        texts.push([n, sql]);
      }
      return n;
    };
    const flat: unknown[] = [];
    for (const s of steps) flat.push(textId(s.sql), s.params, s.orElse === undefined ? -1 : textId(s.orElse.sql), s.orElse?.params);
    return { id, texts, steps: flat };
  }

  private stop(err: Error): void {
    this.stopped = true;
    this.counters.failed += this.pending.size;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.drained?.();
  }
}
