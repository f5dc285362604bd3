/**
 * Blocked callers: exact E.164 numbers or number patterns (grammar in
 * `src/pbx/phone-number.ts`). Exact entries are found through the unique index; only the
 * wildcard entries are scanned.
 */
import type { BlocklistRow } from './schema.ts';
import { isoNow } from './time.ts';
import type { Db } from './db.ts';

export interface BlocklistEntry {
  id: number;
  phone_number: string;
  reason: string | null;
  created_at: string;
}

export function toBlocklistEntry(row: BlocklistRow): BlocklistEntry {
  return { id: row.id, phone_number: row.phone_number, reason: row.reason, created_at: row.created_at };
}

/** Inserts an entry; undefined when the same number or pattern is listed already. */
export async function insertBlocklistEntry(db: Db, e: { phoneNumber: string; reason: string | null }): Promise<BlocklistRow | undefined> {
  return db.insertInto('blocklist')
    .values({ phone_number: e.phoneNumber, reason: e.reason, created_at: isoNow() })
    .onConflict((oc) => oc.column('phone_number').doNothing())
    .returningAll()
    .executeTakeFirst();
}

export async function listBlocklist(db: Db, limit: number, offset: number): Promise<{ rows: BlocklistRow[]; total: number }> {
  const [rows, count] = await Promise.all([
    db.selectFrom('blocklist').selectAll().orderBy('id').limit(limit).offset(offset).execute(),
    db.selectFrom('blocklist').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.n) };
}

export async function deleteBlocklistEntry(db: Db, id: number): Promise<boolean> {
  const r = await db.deleteFrom('blocklist').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/**
 * The entries that could match `caller`: its exact entry if any, plus every wildcard entry
 * (those containing `*` or `X`). The caller of this decides with `matchNumberPattern`.
 */
export async function blocklistCandidates(db: Db, caller: string): Promise<string[]> {
  const rows = await db.selectFrom('blocklist').select('phone_number')
    .where((eb) => eb.or([
      eb('phone_number', '=', caller),
      eb('phone_number', 'like', '%*%'),
      eb('phone_number', 'like', '%X%'),
    ]))
    .execute();
  return rows.map((r) => r.phone_number);
}

/** Every listed number and pattern, for matchers that keep the list in memory. */
export async function listBlockedNumbers(db: Db): Promise<string[]> {
  const rows = await db.selectFrom('blocklist').select('phone_number').execute();
  return rows.map((r) => r.phone_number);
}
