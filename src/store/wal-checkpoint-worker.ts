/**
 * The WAL checkpointer's thread (`wal-checkpointer.ts`): its own connection to the database
 * file, a PASSIVE checkpoint every `intervalMs`. PASSIVE copies what it can without waiting
 * for any lock, so the writers on other threads never wait for it; it syncs (fsync) the WAL and
 * the database file only when it copied frames, so an idle server costs a read lock per tick.
 */
import { parentPort, workerData } from 'node:worker_threads';
import SqliteDatabase from 'better-sqlite3';

export interface WalCheckpointWorkerData {
  path: string;
  intervalMs: number;
}

/** What one checkpoint reports (`PRAGMA wal_checkpoint` row), posted after each checkpoint that copied frames. */
export interface CheckpointReport {
  busy: number;
  log: number;
  checkpointed: number;
}

const { path, intervalMs } = workerData as WalCheckpointWorkerData;
const sqlite = new SqliteDatabase(path, { fileMustExist: true });
sqlite.pragma('wal_autocheckpoint = 0');
const checkpoint = sqlite.prepare('pragma wal_checkpoint(PASSIVE)');
let lastCopied = 0;
const timer = setInterval(() => {
  const row = checkpoint.get() as CheckpointReport;
  // `checkpointed` counts the frames of the WAL copied so far, this run or an earlier one.
  if (row.checkpointed !== lastCopied) parentPort!.postMessage(row);
  lastCopied = row.checkpointed;
}, intervalMs);
parentPort!.on('message', (m: 'close') => {
  if (m !== 'close') return;
  clearInterval(timer);
  sqlite.close();
  parentPort!.close();
});
