import { CompiledQuery, type Compilable, type Kysely } from 'kysely';
import type { Db } from './db.ts';

/**
 * Rows per multi-row statement: 22 parameters per row (the widest table written this way,
 * `cdrs`) × 500 stays below SQLite's 32,766 and PostgreSQL's 65,535 bind limits.
 */
export const ROWS_PER_STATEMENT = 500;

/**
 * Statement text per dialect, statement name and row count. Building and compiling a wide
 * multi-row query with Kysely costs more than the database running it (one frozen node per
 * value: ~1 ms for 32 CDRs, against ~0.1 ms for SQLite), and group commits repeat the same
 * few row counts. Keyed by the dialect's adapter, which a transaction shares with its
 * database, so the text is right for the engine that runs it.
 */
const texts = new WeakMap<object, Map<string, string>>();

/**
 * Runs the multi-row statement `build(db, rows)` (an INSERT, an upsert...), compiled by Kysely
 * the first time for this dialect, `name` and `rows.length`, then only re-bound. Every row
 * must list the same keys in the same order, each value bound as a parameter (how Kysely
 * numbers them, nulls included): the parameters are the rows' values, row by row, in key order.
 * At most {@link ROWS_PER_STATEMENT} rows.
 *
 * @example
 * await runMultiRow(tx, 'cdrs:insert', values, (db, rows) => db.insertInto('cdrs').values(rows));
 */
export async function runMultiRow<R extends object>(
  db: Db,
  name: string,
  rows: readonly R[],
  build: (db: Db, rows: readonly R[]) => Compilable,
): Promise<void> {
  if (rows.length === 0) return;
  if (rows.length > ROWS_PER_STATEMENT) throw new RangeError(`${name}: ${rows.length} rows in one statement (max ${ROWS_PER_STATEMENT})`);
  const adapter = db.getExecutor().adapter;
  let byKey = texts.get(adapter);
  if (byKey === undefined) texts.set(adapter, byKey = new Map());
  const key = `${name}\u0000${rows.length}`;
  const sql = byKey.get(key);
  if (sql === undefined) {
    const q = build(db, rows).compile();
    byKey.set(key, q.sql);
    await db.executeQuery(q);
    return;
  }
  const params: unknown[] = [];
  for (const r of rows) for (const k in r) params.push(r[k as keyof R]);
  await db.executeQuery(CompiledQuery.raw(sql, params));
}

/** {@link runMultiRow} over any number of rows, {@link ROWS_PER_STATEMENT} per statement. */
export async function runMultiRowChunked<R extends object>(
  db: Db,
  name: string,
  rows: readonly R[],
  build: (db: Db, rows: readonly R[]) => Compilable,
): Promise<void> {
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    await runMultiRow(db, name, rows.length <= ROWS_PER_STATEMENT ? rows : rows.slice(i, i + ROWS_PER_STATEMENT), build);
  }
}
