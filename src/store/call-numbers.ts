/**
 * Phone numbers of call-gateway apps (seed 002): which app a number belongs to, who may
 * deliver its incoming calls (subnets, digest), where its hooks go, and the SIP settings of
 * its outgoing calls. Passwords are sealed at rest. Rows with `synced` = 1 belong to
 * STROWGER_NUMBERS_SYNC_URL and are replaced as a set (`replaceSyncedNumbers`).
 */
import type { Db } from './db.ts';
import type { SecretBox } from './secret-box.ts';
import type { CallNumberRow } from './schema-call-gateway.ts';
import { inTransaction } from './in-transaction.ts';
import { isoNow } from './time.ts';
import { LazyValue } from './lazy-value.ts';

export const HOOK_CONTENT_TYPES = ['Json', 'Protobuf'] as const;
export type HookContentType = (typeof HOOK_CONTENT_TYPES)[number];

export interface Credentials { username: string; password: string }

/** A number as services use it (passwords opened). */
export interface CallNumber {
  id: number;
  number: string;
  app_id: string;
  subnets: string[];
  auth: Credentials | null;
  hook: string | null;
  hook_content_type: HookContentType;
  sip_server: string | null;
  sip_proxy: string | null;
  sip_auth: Credentials | null;
  synced: boolean;
  created_at: string;
  updated_at: string;
}

export type CallNumberFields = Omit<CallNumber, 'id' | 'synced' | 'created_at' | 'updated_at'>;

export function toCallNumber(box: SecretBox, r: CallNumberRow): CallNumber {
  const creds = (u: string | null, p: string | null) => (u !== null && p !== null ? { username: u, password: box.open(p) } : null);
  return {
    id: r.id, number: r.number, app_id: r.app_id, subnets: JSON.parse(r.subnets) as string[],
    auth: creds(r.auth_username, r.auth_password_enc), hook: r.hook, hook_content_type: r.hook_content_type as HookContentType,
    sip_server: r.sip_server, sip_proxy: r.sip_proxy, sip_auth: creds(r.sip_username, r.sip_password_enc),
    synced: r.synced === 1, created_at: r.created_at, updated_at: r.updated_at,
  };
}

function columns(box: SecretBox, f: Partial<CallNumberFields>) {
  return {
    ...(f.number !== undefined ? { number: f.number } : {}),
    ...(f.app_id !== undefined ? { app_id: f.app_id } : {}),
    ...(f.subnets !== undefined ? { subnets: JSON.stringify(f.subnets) } : {}),
    ...(f.auth !== undefined ? { auth_username: f.auth?.username ?? null, auth_password_enc: f.auth ? box.seal(f.auth.password) : null } : {}),
    ...(f.hook !== undefined ? { hook: f.hook } : {}),
    ...(f.hook_content_type !== undefined ? { hook_content_type: f.hook_content_type } : {}),
    ...(f.sip_server !== undefined ? { sip_server: f.sip_server } : {}),
    ...(f.sip_proxy !== undefined ? { sip_proxy: f.sip_proxy } : {}),
    ...(f.sip_auth !== undefined ? { sip_username: f.sip_auth?.username ?? null, sip_password_enc: f.sip_auth ? box.seal(f.sip_auth.password) : null } : {}),
  };
}

const isUnique = (err: unknown) => /unique|duplicate/i.test((err as Error).message);

/** undefined when the number exists already. */
export async function insertCallNumber(db: Db, box: SecretBox, f: CallNumberFields, synced = false): Promise<CallNumber | undefined> {
  const now = isoNow();
  try {
    const row = await db.insertInto('call_numbers').values({
      ...columns(box, f), number: f.number, app_id: f.app_id, subnets: JSON.stringify(f.subnets), hook_content_type: f.hook_content_type,
      synced: synced ? 1 : 0, created_at: now, updated_at: now,
    }).returningAll().executeTakeFirstOrThrow();
    return toCallNumber(box, row);
  } catch (err) {
    if (isUnique(err)) return undefined;
    throw err;
  } finally {
    numbersChanged(db);
  }
}

export async function listCallNumbers(db: Db, box: SecretBox, limit: number, offset: number, appId?: string): Promise<{ rows: CallNumber[]; total: number }> {
  let q = db.selectFrom('call_numbers');
  if (appId !== undefined) q = q.where('app_id', '=', appId);
  const rows = await q.selectAll().orderBy('id').limit(limit).offset(offset).execute();
  const t = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  return { rows: rows.map((r) => toCallNumber(box, r)), total: Number(t?.n ?? 0) };
}

export async function findCallNumberById(db: Db, box: SecretBox, id: number): Promise<CallNumber | undefined> {
  const r = await db.selectFrom('call_numbers').selectAll().where('id', '=', id).executeTakeFirst();
  return r && toCallNumber(box, r);
}

/**
 * The numbers routed to apps, per database. Every INVITE asks whether its number is one, and
 * nearly all are not (PBX calls): the set answers that without a query. Writes through this
 * module drop it; rows written elsewhere (another process, a restore) are seen within
 * NUMBER_SET_TTL_MS. A stale number in the set only costs the query it saves.
 */
const NUMBER_SET_TTL_MS = 2_000;
const numberSets = new WeakMap<Db, LazyValue<Set<string>>>();

function knownNumbers(db: Db): Promise<Set<string>> {
  let set = numberSets.get(db);
  if (set === undefined) {
    set = new LazyValue(async () => new Set((await db.selectFrom('call_numbers').select('number').execute()).map((r) => r.number)), NUMBER_SET_TTL_MS);
    numberSets.set(db, set);
  }
  return set.get();
}

/** Called after every write to call_numbers (a set read before the write may miss it). */
function numbersChanged(db: Db): void {
  numberSets.get(db)?.invalidate();
}

export async function findCallNumber(db: Db, box: SecretBox, number: string): Promise<CallNumber | undefined> {
  if (!(await knownNumbers(db)).has(number)) return undefined;
  const r = await db.selectFrom('call_numbers').selectAll().where('number', '=', number).executeTakeFirst();
  return r && toCallNumber(box, r);
}

/** 'conflict' when `number` is taken by another row. */
export async function updateCallNumber(db: Db, box: SecretBox, id: number, f: Partial<CallNumberFields>): Promise<CallNumber | undefined | 'conflict'> {
  try {
    const r = await db.updateTable('call_numbers').set({ ...columns(box, f), updated_at: isoNow() }).where('id', '=', id).returningAll().executeTakeFirst();
    return r && toCallNumber(box, r);
  } catch (err) {
    if (isUnique(err)) return 'conflict';
    throw err;
  } finally {
    numbersChanged(db);
  }
}

export async function deleteCallNumber(db: Db, id: number): Promise<boolean> {
  const r = await db.deleteFrom('call_numbers').where('id', '=', id).executeTakeFirst();
  numbersChanged(db);
  return Number(r.numDeletedRows) > 0;
}

/**
 * Replaces every synced number with `list` in one transaction (admin rows with the same
 * number win and are left alone). Returns the numbers added, removed and kept.
 */
export async function replaceSyncedNumbers(db: Db, box: SecretBox, list: readonly CallNumberFields[]): Promise<{ added: string[]; removed: string[]; kept: string[] }> {
  try {
    return await replaceSynced(db, box, list);
  } finally {
    numbersChanged(db);
  }
}

function replaceSynced(db: Db, box: SecretBox, list: readonly CallNumberFields[]): Promise<{ added: string[]; removed: string[]; kept: string[] }> {
  return inTransaction(db, async (tx) => {
    const before = await tx.selectFrom('call_numbers').select(['number', 'synced']).execute();
    const synced = new Set(before.filter((r) => r.synced === 1).map((r) => r.number));
    const manual = new Set(before.filter((r) => r.synced === 0).map((r) => r.number));
    await tx.deleteFrom('call_numbers').where('synced', '=', 1).execute();
    const wanted = list.filter((f) => !manual.has(f.number));
    const now = isoNow();
    for (const f of wanted) {
      await tx.insertInto('call_numbers').values({
        ...columns(box, f), number: f.number, app_id: f.app_id, subnets: JSON.stringify(f.subnets), hook_content_type: f.hook_content_type,
        synced: 1, created_at: now, updated_at: now,
      }).execute();
    }
    const now2 = new Set(wanted.map((f) => f.number));
    return {
      added: [...now2].filter((n) => !synced.has(n)), removed: [...synced].filter((n) => !now2.has(n)), kept: [...now2].filter((n) => synced.has(n)),
    };
  });
}
