import type { Kysely, Transaction } from 'kysely';
import type { Db, Tx } from './db.ts';

/**
 * Runs `fn` in a transaction: a new one on a `Kysely`, the caller's own when `db` already is
 * a `Transaction` (Kysely has no nested transactions), so a repository function that must be
 * atomic can still be composed into a larger unit of work.
 */
export function inTransaction<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db as Tx) : db.transaction().execute(fn);
}
