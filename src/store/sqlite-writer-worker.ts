/**
 * The SQLite writer's thread (`sqlite-writer.ts`): its own connection to the database file,
 * one transaction per posted batch, answered once it is committed.
 *
 * Writers of the other threads take the process's `ThreadWriteLock` around their synchronous
 * transactions, so this thread does too. Kysely's statements on the main thread do not (they
 * may hold SQLite's write lock across an `await`), so this thread never waits for SQLite's lock
 * while holding ours: `BEGIN IMMEDIATE` with no busy timeout, and on SQLITE_BUSY it lets go,
 * sleeps a millisecond and tries again. Waiting inside SQLite's busy handler with our lock held
 * would stall a main-thread writer that needs our lock until the busy timeout.
 */
import { parentPort, workerData } from 'node:worker_threads';
import SqliteDatabase from 'better-sqlite3';
import { ThreadWriteLock } from './thread-write-lock.ts';
import { runSteps, type WriteStep } from './write-steps.ts';

export interface SqliteWriterWorkerData {
  path: string;
  writeLock: SharedArrayBuffer;
  /** `wal_autocheckpoint` of this connection (a checkpointer thread normally keeps the WAL short). */
  autocheckpointPages: number;
  /** How long a batch may wait for SQLite's write lock before it fails. */
  busyTimeoutMs: number;
}

/**
 * A batch: `steps` holds four entries per statement (text id, params, or-else text id or -1,
 * or-else params); `texts` names the ids first used by this batch (a text crosses once).
 */
export type WriterRequest = { id: number; texts: Array<[number, string]>; steps: unknown[] } | 'close';
export interface WriterReply {
  id: number;
  /** Set when the transaction rolled back. */
  error?: { message: string; code?: string };
}

const { path, writeLock, autocheckpointPages, busyTimeoutMs } = workerData as SqliteWriterWorkerData;
const sqlite = new SqliteDatabase(path, { fileMustExist: true, timeout: 0 });
sqlite.pragma('synchronous = NORMAL');
sqlite.pragma('foreign_keys = ON');
sqlite.pragma(`wal_autocheckpoint = ${autocheckpointPages}`);
const lock = new ThreadWriteLock(writeLock);
const begin = sqlite.prepare('begin immediate');
const commit = sqlite.prepare('commit');
const rollback = sqlite.prepare('rollback');
/** SQL texts by id. Each is one string for the thread's life, so the statement map hashes it once. */
const texts: string[] = [];
const statements = new Map<string, SqliteDatabase.Statement>();
const run = (text: string, params: readonly unknown[]): number => {
  let stmt = statements.get(text);
  if (stmt === undefined) statements.set(text, (stmt = sqlite.prepare(text)));
  return stmt.run(params as unknown[]).changes;
};

function decode(flat: unknown[]): WriteStep[] {
  const steps: WriteStep[] = [];
  for (let i = 0; i < flat.length; i += 4) {
    const orElse = flat[i + 2] as number;
    steps.push({
      sql: texts[flat[i] as number]!, params: flat[i + 1] as unknown[],
      ...(orElse === -1 ? {} : { orElse: { sql: texts[orElse]!, params: flat[i + 3] as unknown[] } }),
    });
  }
  return steps;
}
const nap = new Int32Array(new SharedArrayBuffer(4));

/** True once committed; false when another connection held the write lock (nothing done). */
function attempt(steps: readonly WriteStep[]): boolean {
  return lock.run(() => {
    try {
      begin.run();
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_BUSY') return false;
      throw err;
    }
    try {
      runSteps(run, steps);
      commit.run();
    } catch (err) {
      if (sqlite.inTransaction) rollback.run();
      throw err;
    }
    return true;
  });
}

function write(steps: readonly WriteStep[]): void {
  const deadline = Date.now() + busyTimeoutMs;
  while (!attempt(steps)) {
    if (Date.now() > deadline) throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    Atomics.wait(nap, 0, 0, 1);
  }
}

parentPort!.on('message', (m: WriterRequest) => {
  if (m === 'close') {
    sqlite.close();
    parentPort!.close();
    return;
  }
  let reply: WriterReply;
  try {
    for (const [id, text] of m.texts) texts[id] = text;
    write(decode(m.steps));
    reply = { id: m.id };
  } catch (err) {
    const e = err as { message?: string; code?: string };
    reply = { id: m.id, error: { message: String(e.message ?? err), ...(typeof e.code === 'string' ? { code: e.code } : {}) } };
  }
  parentPort!.postMessage(reply);
});
