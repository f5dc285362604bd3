/**
 * One Kysely instance over SQLite (default, WAL) or PostgreSQL, chosen by URL.
 * Both run the same migrations; values are kept portable (ISO-8601 text timestamps,
 * 0/1 integers for booleans, JSON as text) so repositories need no dialect branches.
 */
import { Kysely, PostgresDialect, SqliteDialect, Migrator, sql, type Migration } from 'kysely';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DB } from './schema.ts';
import { migrations } from './migrations/index.ts';

export type Dialect = 'sqlite' | 'postgres';

export interface Store {
  db: Kysely<DB>;
  dialect: Dialect;
  /** SQLite file path (for backups); undefined on PostgreSQL. */
  sqlitePath: string | undefined;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** PostgreSQL only: schema to use (created if missing); lets tests isolate themselves. */
  schema?: string;
  poolSize?: number;
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
    const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: sqlite }) });
    return { db, dialect: 'sqlite', sqlitePath: path === ':memory:' ? undefined : path, close: () => db.destroy() };
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
