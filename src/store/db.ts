/**
 * The one type of a database handle. Repositories take it first; a `Transaction<DB>` is one
 * too (it extends `Kysely<DB>`), so a repository composes into a caller's unit of work. A
 * function that must be atomic on its own wraps itself in `inTransaction`; one that must run
 * inside the caller's transaction takes `Tx`.
 */
import type { Kysely, Transaction } from 'kysely';
import type { DB } from './schema.ts';

export type Db = Kysely<DB>;
export type Tx = Transaction<DB>;
