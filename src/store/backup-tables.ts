/**
 * The database side of backup and restore: which tables hold state, in which order they
 * can be refilled without breaking foreign keys, and engine-neutral read/replace helpers.
 * Rows travel as plain JSON objects (text, integers, null), which both SQLite and
 * PostgreSQL accept back unchanged because the schema keeps values portable (see schema.ts).
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB } from './schema.ts';
import type { Dialect } from './database.ts';
import type { Db, Tx } from './db.ts';

export interface BackupTable {
  name: keyof DB;
  /** Primary key column: keyset pagination order and the sequence to reset on PostgreSQL. */
  pk: string;
  /** True when `pk` is an auto-increment integer (a PostgreSQL serial). */
  serial: boolean;
}

/**
 * Tables saved by a backup, parents before children (the order rows are inserted on restore;
 * deletes run in reverse).
 */
export const BACKUP_TABLES = [
  { name: 'users', pk: 'id', serial: true },
  { name: 'api_keys', pk: 'id', serial: true },
  { name: 'system_config', pk: 'key', serial: false },
  { name: 'provisioning_profiles', pk: 'id', serial: true },
  { name: 'devices', pk: 'id', serial: true },
  { name: 'provisioning_tokens', pk: 'id', serial: true },
  { name: 'device_events', pk: 'id', serial: true },
  { name: 'dids', pk: 'id', serial: true },
  { name: 'routes', pk: 'id', serial: true },
  { name: 'blocklist', pk: 'id', serial: true },
  { name: 'trunks', pk: 'id', serial: true },
  { name: 'cdrs', pk: 'id', serial: true },
  { name: 'moh_files', pk: 'id', serial: true },
  { name: 'messages', pk: 'id', serial: true },
  { name: 'twilio_calls', pk: 'call_sid', serial: false },
  { name: 'voicemails', pk: 'id', serial: true },
  { name: 'zrtp_cache', pk: 'peer_zid', serial: false },
  { name: 'apps', pk: 'id', serial: true },
  { name: 'call_numbers', pk: 'id', serial: true },
] as const satisfies readonly BackupTable[];

/**
 * Tables deliberately left out, emptied by a restore (children first): SIP registrations are
 * live location state that devices rebuild within one REGISTER interval (RFC 3261 §10.2.4),
 * and a stale binding from backup time would misroute calls; login sessions are per-browser
 * credentials, not configuration, so a restore logs everyone out; the journal of calls in
 * progress describes this node's live calls, not the backup's (a restored row would become a
 * false "server_restart" CDR at the next start); the voicemail mail outbox holds mails of
 * the backup's past (resending them after a restore would mail old messages again).
 */
// hooks_outbox: deliveries of past calls' events, like the voicemail mail outbox.
export const EPHEMERAL_TABLES = ['registrations', 'sessions', 'active_calls', 'voicemail_mail_outbox', 'hooks_outbox'] as const satisfies readonly (keyof DB)[];

// Compile-time guard: a table added to schema.ts must be classified above.
type Unclassified = Exclude<keyof DB, (typeof BACKUP_TABLES)[number]['name'] | (typeof EPHEMERAL_TABLES)[number]>;
const allTablesClassified: [Unclassified] extends [never] ? true : Unclassified = true;
void allTablesClassified;

export type BackupTableName = (typeof BACKUP_TABLES)[number]['name'];
export type Row = Record<string, string | number | null>;

const BATCH_ROWS = 1000;

/**
 * Reads a table in primary-key order, `BATCH_ROWS` at a time (keyset pagination, so cost
 * stays linear). Run it inside one transaction for a consistent snapshot.
 */
export async function* readTable(db: Db, table: BackupTable): AsyncGenerator<Row[]> {
  const anyDb = db as unknown as Kysely<any>;
  let last: unknown = undefined;
  for (;;) {
    let q = anyDb.selectFrom(table.name).selectAll().orderBy(table.pk).limit(BATCH_ROWS);
    if (last !== undefined) q = q.where(table.pk, '>', last);
    const rows = (await q.execute()) as Row[];
    if (rows.length === 0) return;
    yield rows;
    if (rows.length < BATCH_ROWS) return;
    last = rows[rows.length - 1]![table.pk];
  }
}

/** Column names of every table, as the live database has them (restore validates against this). */
export async function tableColumns(db: Db): Promise<Map<string, Set<string>>> {
  const tables = await db.introspection.getTables();
  return new Map(tables.map((t) => [t.name, new Set(t.columns.map((c) => c.name))]));
}

/** Name of the newest applied migration (Kysely's bookkeeping table), or null on an empty database. */
export async function lastMigrationName(db: Db): Promise<string | null> {
  const r = await sql<{ name: string }>`select name from kysely_migration order by name desc limit 1`.execute(db);
  return r.rows[0]?.name ?? null;
}

/** Empties every backed-up and ephemeral table, children first. */
export async function deleteAllRows(tx: Tx): Promise<void> {
  const anyTx = tx as unknown as Transaction<any>;
  for (const t of EPHEMERAL_TABLES) await anyTx.deleteFrom(t).execute();
  for (let i = BACKUP_TABLES.length - 1; i >= 0; i--) await anyTx.deleteFrom(BACKUP_TABLES[i]!.name).execute();
}

// SQLite binds at most 32,766 variables per statement, PostgreSQL 65,535: stay well below.
const MAX_BIND_VARIABLES = 8000;

/**
 * Inserts rows into one table; consecutive rows with the same column set go in one
 * multi-row INSERT (Kysely would otherwise fill gaps with DEFAULT, which SQLite rejects).
 */
export async function insertRows(tx: Tx, table: keyof DB, rows: Row[]): Promise<void> {
  const anyTx = tx as unknown as Transaction<any>;
  let i = 0;
  while (i < rows.length) {
    const signature = Object.keys(rows[i]!).join('\u0000');
    const width = Math.max(1, signature.split('\u0000').length);
    const max = Math.max(1, Math.floor(MAX_BIND_VARIABLES / width));
    let j = i + 1;
    while (j < rows.length && j - i < max && Object.keys(rows[j]!).join('\u0000') === signature) j++;
    await anyTx.insertInto(table).values(rows.slice(i, j)).execute();
    i = j;
  }
}

/**
 * After inserting explicit ids, PostgreSQL serials still point at their old value: move
 * each to max(id) so the next insert does not collide. SQLite's AUTOINCREMENT already
 * tracks the largest id ever inserted, so it needs nothing.
 */
export async function resetSequences(tx: Tx, dialect: Dialect): Promise<void> {
  if (dialect !== 'postgres') return;
  for (const t of BACKUP_TABLES) {
    if (!t.serial) continue;
    await sql`select setval(pg_get_serial_sequence(${t.name}, ${t.pk}), coalesce((select max(${sql.ref(t.pk)}) from ${sql.table(t.name)}), 0) + 1, false)`.execute(tx);
  }
}
