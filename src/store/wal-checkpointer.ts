/**
 * SQLite WAL checkpoints off the threads that answer requests. By default the connection whose
 * commit pushes the WAL past 1,000 pages runs the checkpoint itself, inside that commit: it
 * copies the WAL into the database file and syncs both (fsync, 5–10 ms on this machine's
 * disk), and better-sqlite3 being synchronous, the whole event loop waits. Under a REGISTER or
 * call storm that was a stall every second or two on the SIP thread. Here a worker thread with
 * its own connection checkpoints on a timer (`wal-checkpoint-worker.ts`), and the server's
 * connections raise their automatic threshold to a safety net (`SAFETY_NET_PAGES`) that only
 * trips if this thread stops keeping up.
 *
 * Durability is unchanged: commits reach the WAL as before (`synchronous = NORMAL`), and a
 * checkpoint syncs the WAL before it copies, whichever connection runs it.
 */
import { spawnWorker } from '../media/spawn-worker.ts';
import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { CheckpointReport, WalCheckpointWorkerData } from './wal-checkpoint-worker.ts';

/** WAL pages (4 KiB each) past which a connection of the server checkpoints by itself after all. */
export const SAFETY_NET_PAGES = 16_384;

/** How often the checkpointer runs. */
const INTERVAL_MS = 1_000;

export class WalCheckpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  private closed = false;

  constructor(path: string, logger?: Logger) {
    const data: WalCheckpointWorkerData = { path, intervalMs: INTERVAL_MS };
    this.worker = spawnWorker(new URL('./wal-checkpoint-worker.ts', import.meta.url), {
      workerData: data, name: 'strowger-wal-checkpoint', resourceLimits: { maxYoungGenerationSizeMb: 1 },
    });
    this.worker.unref();
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.on('message', (r: CheckpointReport) => {
      // busy: a reader held frames back; the next run copies them.
      if (r.busy !== 0 || r.checkpointed < r.log) logger?.debug({ ...r }, 'WAL checkpoint partial');
    });
    this.worker.on('error', (err) => {
      logger?.error({ err }, `WAL checkpointer stopped: connections checkpoint by themselves past ${SAFETY_NET_PAGES} pages`);
    });
  }

  /** Stops the thread; the last connection to close checkpoints what is left. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.worker.ref(); // the exit is what close() waits for
    this.worker.postMessage('close');
    // A thread stuck in a checkpoint (a slow disk) must not hold shutdown.
    const stuck = setTimeout(() => { void this.worker.terminate(); }, 2_000);
    stuck.unref();
    return this.exited.finally(() => clearTimeout(stuck));
  }
}
