/**
 * One Kysely instance over SQLite (default, WAL) or PostgreSQL, chosen by URL.
 * Both run the same migrations; values are kept portable (ISO-8601 text timestamps,
 * 0/1 integers for booleans, JSON as text) so repositories need no dialect branches.
 */
import { Kysely, PostgresDialect, SqliteDialect, Migrator, sql, type Migration } from 'kysely';
import SqliteDatabase from 'better-sqlite3';
import { ThreadWriteLock } from './thread-write-lock.ts';
import { SAFETY_NET_PAGES, WalCheckpointer } from './wal-checkpointer.ts';
import { SqliteWriter } from './sqlite-writer.ts';
import { runSteps, type WriteStep } from './write-steps.ts';
import type { Logger } from 'pino';
import pg from 'pg';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DB } from './schema.ts';
import { migrations } from './migrations/index.ts';
import type { Db } from './db.ts';

export type Dialect = 'sqlite' | 'postgres';

export interface Store {
  db: Db;
  dialect: Dialect;
  /** SQLite file path (for backups); undefined on PostgreSQL. */
  sqlitePath: string | undefined;
  /**
   * SQLite only: read results kept until the database next changes (see `ReadCache`).
   * Undefined on PostgreSQL, where other nodes of a cluster write without this one noticing.
   */
  readCache?: ReadCache;
  /** SQLite only: the lock its synchronous transactions take (`thread-write-lock.ts`), for stores other threads open on the file. */
  writeLock?: SharedArrayBuffer;
  close(): Promise<void>;
}

/**
 * Remembers what reads returned until the database changes. A new generation starts, and
 * every entry is forgotten, when any row is inserted, updated or deleted on our connection:
 * SQLite `total_changes()` counts statements as they complete, so a write inside a
 * transaction counts at once and a rollback never goes back to an old generation. Whoever
 * writes through this store, from whichever module, the next read sees it; no invalidation
 * event is needed. Commits by another connection (`PRAGMA data_version`) and schema changes
 * (`PRAGMA schema_version`) also start a generation; those two cost a WAL read lock (~4 µs
 * each against ~0.1 µs), so they are checked once per `externalCheckMs` (another process
 * writing the file is an operator's tool, not the server's own path).
 *
 * Contract for `read`: its value depends on rows only (not on the clock), and it queries
 * through Kysely, which waits for an open transaction to end, so it never sees uncommitted
 * rows. The generation is taken before `read` starts: a write racing with it can only make
 * the entry one generation too old (a later miss), never serve old rows as current.
 * Concurrent misses of one key share one read; a failed read is not kept.
 *
 * @example
 * const load = (id: number) => findUserById(db, id);
 * const row = await (store.readCache ? store.readCache.get(`users:${id}`, load, id) : load(id));
 */
export interface ReadCache {
  /**
   * The value of `read(arg)` for `key` in the current generation (one call per generation).
   * `read` takes its input as `arg` so hot callers pass a function made once, not a closure
   * per request.
   */
  get<T, A>(key: string, read: (arg: A) => Promise<T>, arg: A): Promise<T>;
  /**
   * The value of `key` in the current generation when its read has completed, else undefined
   * (then use `get`): lets a hot path that hits answer in the same tick, without awaiting a
   * settled promise per layer.
   */
  peek<T>(key: string): T | undefined;
}

export interface ReadCacheOptions {
  /** How often commits by other connections and schema changes are looked for. Default 250 ms. */
  externalCheckMs?: number;
  /** Entries kept per generation at most; past this the cache starts over. Default 1000. */
  maxEntries?: number;
  /** Bytes of Buffer and string values kept at most (e.g. serialized pages); past this the cache starts over. Default 32 MiB. */
  maxBytes?: number;
  now?: () => number;
}

/** The SQLite read cache over a better-sqlite3 connection (the one Kysely uses). */
export function sqliteReadCache(sqlite: SqliteDatabase.Database, opts: ReadCacheOptions = {}): ReadCache {
  const externalCheckMs = opts.externalCheckMs ?? 250;
  const maxEntries = opts.maxEntries ?? 1000;
  const maxBytes = opts.maxBytes ?? 32 * 1024 * 1024;
  const now = opts.now ?? Date.now;
  const changes = sqlite.prepare('select total_changes()').pluck();
  const dataVersion = sqlite.prepare('pragma data_version').pluck();
  const schemaVersion = sqlite.prepare('pragma schema_version').pluck();
  let seenChanges = -1;
  let seenData = -1;
  let seenSchema = -1;
  let checkedAt = -Infinity;
  const entries = new Map<string, Promise<unknown>>();
  /** The settled values of `entries` (same generation). */
  const values = new Map<string, unknown>();
  let bytes = 0;
  const forgetAll = () => {
    entries.clear();
    values.clear();
    bytes = 0;
  };
  /** Starts a new generation when the database changed since the last look. */
  const refresh = () => {
    const c = changes.get() as number;
    let changed = c !== seenChanges;
    const t = now();
    if (changed || t - checkedAt >= externalCheckMs) {
      const d = dataVersion.get() as number;
      const s = schemaVersion.get() as number;
      changed ||= d !== seenData || s !== seenSchema;
      seenData = d;
      seenSchema = s;
      checkedAt = t;
    }
    if (changed) {
      forgetAll();
      seenChanges = c;
    }
  };
  return {
    peek<T>(key: string): T | undefined {
      refresh();
      return values.get(key) as T | undefined;
    },
    get<T, A>(key: string, read: (arg: A) => Promise<T>, arg: A): Promise<T> {
      refresh();
      const hit = entries.get(key) as Promise<T> | undefined;
      if (hit !== undefined) return hit;
      if (entries.size >= maxEntries) forgetAll();
      const p = read(arg);
      entries.set(key, p);
      p.then((v) => {
        if (entries.get(key) !== p) return;
        values.set(key, v);
        bytes += Buffer.isBuffer(v) ? v.length : typeof v === 'string' ? 2 * v.length : 0;
        if (bytes > maxBytes) forgetAll();
      }, () => {
        if (entries.get(key) === p) entries.delete(key);
      });
      return p;
    },
  };
}

export interface OpenOptions {
  /** PostgreSQL only: schema to use (created if missing); lets tests isolate themselves. */
  schema?: string;
  poolSize?: number;
  /** SQLite only: the {@link Store.writeLock} of the store another thread of this process opened on the same file. */
  writeLock?: SharedArrayBuffer;
  /**
   * SQLite file only: who checkpoints the WAL. `commit` (SQLite's default): the connection whose
   * commit fills it past 1,000 pages, inside that commit. `thread`: a checkpointer thread this
   * store starts and stops (`wal-checkpointer.ts`), the server's choice. `other-thread`: another
   * store of this process runs that thread (a shard's store beside the main thread's).
   */
  walCheckpoint?: 'commit' | 'thread' | 'other-thread';
  /**
   * SQLite file only: {@link commitSteps} commits on a writer thread of this store
   * (`sqlite-writer.ts`) instead of on the caller's thread. The server's choice
   * (STROWGER_SQLITE_WRITER_THREAD); off for a shard's store, which is off the main thread already.
   */
  writerThread?: boolean;
  logger?: Logger;
}

/** Distinct SQL texts whose statements are kept; past this the oldest is dropped. */
const STATEMENT_CACHE_SIZE = 500;

/**
 * The connection as Kysely's SQLite driver sees it, preparing each distinct SQL text once:
 * the driver prepares every query it runs, and compiling the same statement again costs
 * more than running it on small tables. A statement is never in use twice at once: the
 * driver runs `all`/`run` synchronously and holds the connection while it iterates, and
 * SQLite re-prepares a kept statement by itself after a schema change.
 */
function preparedOnce(sqlite: SqliteDatabase.Database): { close(): void; prepare(text: string): SqliteDatabase.Statement } {
  const statements = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(text: string) {
      let stmt = statements.get(text);
      if (stmt === undefined) {
        stmt = sqlite.prepare(text);
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value!);
        statements.set(text, stmt);
      }
      return stmt;
    },
  };
}

/**
 * Synchronous statements on a SQLite store's own connection, for write paths too hot for
 * Kysely's asynchronous round trips (the call engine's group commit: ~30 µs per call here
 * against ~85 µs through Kysely, most of it per-statement promise and driver overhead).
 */
export interface SqliteSync {
  /**
   * Runs `fn` in one transaction without yielding, so no Kysely query can interleave; `fn`
   * runs statements with `run(sql, params)` (prepared once per text, shared with Kysely's),
   * which answers the number of rows the statement changed.
   * Returns false and does nothing while a Kysely transaction is open on the connection
   * (it awaits between its statements): the caller then goes through Kysely, which queues.
   * A throw from `fn` rolls back and propagates.
   */
  transaction(fn: (run: (sql: string, params: readonly unknown[]) => number) => void): boolean;
}

/**
 * Text of a one-row SQLite `INSERT` for {@link SqliteSync}: `columns` bind in that order, and
 * on a conflict over `conflict.keys` the row is skipped (`update` omitted) or those columns take
 * the new row's values.
 *
 * @example sqliteInsertText('cdrs', Object.keys(row), { keys: ['call_id'] })
 */
export function sqliteInsertText(table: string, columns: readonly string[], conflict: { keys: readonly string[]; update?: readonly string[] }): string {
  const action = conflict.update === undefined || conflict.update.length === 0
    ? 'do nothing'
    : `do update set ${conflict.update.map((c) => `${c} = excluded.${c}`).join(', ')}`;
  return `insert into ${table} (${columns.join(', ')}) values (${columns.map(() => '?').join(', ')}) on conflict (${conflict.keys.join(', ')}) ${action}`;
}

const syncByDb = new WeakMap<Db, SqliteSync>();
const writerByDb = new WeakMap<Db, SqliteWriter>();

/** The synchronous side of `db` when it is a SQLite store's (not a transaction, not PostgreSQL). */
export function sqliteSync(db: Db): SqliteSync | undefined {
  return syncByDb.get(db);
}

/** The writer thread of `db`'s store, when it was opened with one (`OpenOptions.writerThread`). */
export function sqliteWriter(db: Db): SqliteWriter | undefined {
  return writerByDb.get(db);
}

/**
 * Commits the statements `steps()` builds (called on SQLite only) in one transaction of `db`'s
 * file: on the store's writer thread when it has one running, else synchronously on its own
 * connection. Answers false, having done nothing, when neither can (PostgreSQL; a Kysely
 * transaction open on the connection): the caller then writes through Kysely. Rejects when the
 * transaction rolled back.
 *
 * The writer's commits come from another connection, so the store's `readCache` notices them by
 * `PRAGMA data_version` (within `externalCheckMs`), not at once: nothing it caches reads the
 * tables written this way (registrations, CDRs, the call journal).
 */
export async function commitSteps(db: Db, steps: () => readonly WriteStep[]): Promise<boolean> {
  const writer = writerByDb.get(db);
  if (writer?.available === true) {
    await writer.transaction(steps());
    return true;
  }
  return syncByDb.get(db)?.transaction((run) => runSteps(run, steps())) ?? false;
}

function createSqliteSync(sqlite: SqliteDatabase.Database, prepare: (text: string) => SqliteDatabase.Statement, lock: ThreadWriteLock): SqliteSync {
  const run = (text: string, params: readonly unknown[]): number => prepare(text).run(params as unknown[]).changes;
  const begin = sqlite.prepare('begin');
  const commit = sqlite.prepare('commit');
  const rollback = sqlite.prepare('rollback');
  return {
    transaction(fn) {
      if (sqlite.inTransaction) return false;
      return lock.run(() => {
        begin.run();
        try {
          fn(run);
          commit.run();
        } catch (err) {
          if (sqlite.inTransaction) rollback.run();
          throw err;
        }
        return true;
      });
    },
  };
}

export function parseSqlitePath(url: string): string {
  return url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
}

export function openStore(url: string, opts: OpenOptions = {}): Store {
  if (url.startsWith('sqlite:')) {
    const path = parseSqlitePath(url);
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const sqlite = new SqliteDatabase(path);
    sqlite.pragma('journal_mode = WAL');
    // NORMAL is durable against process crashes in WAL mode (only an OS crash can lose the last commits).
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    const walCheckpoint = path === ':memory:' ? 'commit' : opts.walCheckpoint ?? 'commit';
    if (walCheckpoint !== 'commit') sqlite.pragma(`wal_autocheckpoint = ${SAFETY_NET_PAGES}`);
    const checkpointer = walCheckpoint === 'thread' ? new WalCheckpointer(path, opts.logger) : undefined;
    const connection = preparedOnce(sqlite);
    const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: connection }) });
    const writeLock = new ThreadWriteLock(opts.writeLock);
    syncByDb.set(db, createSqliteSync(sqlite, (text) => connection.prepare(text), writeLock));
    const writer = opts.writerThread === true && path !== ':memory:'
      ? new SqliteWriter(path, writeLock.buffer, { autocheckpointPages: walCheckpoint === 'commit' ? 1000 : SAFETY_NET_PAGES, logger: opts.logger })
      : undefined;
    if (writer !== undefined) writerByDb.set(db, writer);
    return {
      db, dialect: 'sqlite', sqlitePath: path === ':memory:' ? undefined : path, readCache: sqliteReadCache(sqlite), writeLock: writeLock.buffer,
      close: async () => { await writer?.close(); await checkpointer?.close(); await db.destroy(); },
    };
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolSize ?? 10,
    ...(opts.schema ? { options: `-c search_path=${opts.schema}` } : {}),
  });
  // A broken idle connection must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return { db, dialect: 'postgres', sqlitePath: undefined, close: () => db.destroy() };
}

/** Resolves when the database answers a trivial query; rejects otherwise (readiness checks). */
export async function pingDatabase(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}

export async function migrateToLatest(store: Store): Promise<void> {
  // Kysely looks for its bookkeeping tables in every PostgreSQL schema unless told which:
  // a second schema in the same database (another node's, a test's) would be skipped.
  const migrationTableSchema = store.dialect === 'postgres'
    ? (await sql<{ s: string }>`select current_schema() as s`.execute(store.db)).rows[0]?.s
    : undefined;
  const migrator = new Migrator({
    db: store.db,
    provider: { getMigrations: async () => migrations as Record<string, Migration> },
    migrationTableSchema,
  });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`database migration failed${failed ? ` at ${failed.migrationName}` : ''}`, { cause: error });
  }
}
