import type { Kysely } from 'kysely';
import type { RegistrationRow } from './schema.ts';
import { isoNow } from './time.ts';
import { ROWS_PER_STATEMENT, runMultiRow } from './multi-row.ts';
import { commitSteps, sqliteInsertText } from './database.ts';
import type { WriteStep } from './write-steps.ts';
import type { Db } from './db.ts';

/** One contact bound to an address-of-record (RFC 3261 §10), as the location service holds it. */
export interface Binding {
  aor: string;
  deviceId: number;
  /** instance (+ reg-id) when the device sent them, else the contact URI. */
  key: string;
  contactUri: string;
  /** The Contact as the device sent it (name-addr), re-sent in the 200 with `expires`. */
  contact: string;
  q: number;
  expiresAt: number;
  instanceId: string | null;
  regId: number | null;
  callId: string;
  cseq: number;
  transport: string;
  sourceIp: string;
  sourcePort: number;
  localPort: number | null;
  /** Stream flow the REGISTER came on: requests to this contact reuse it (RFC 5626 §5.3). */
  connectionId: number | null;
  userAgent: string | null;
  createdAt: number;
  updatedAt: number;
}

export function rowToBinding(r: RegistrationRow): Binding {
  return {
    aor: r.aor, deviceId: r.device_id, key: r.binding_key, contactUri: r.contact_uri, contact: r.contact,
    q: Number(r.q), expiresAt: Date.parse(r.expires_at), instanceId: r.instance_id,
    regId: r.reg_id === null ? null : Number(r.reg_id), callId: r.call_id, cseq: Number(r.cseq),
    transport: r.transport, sourceIp: r.source_ip, sourcePort: r.source_port, localPort: r.local_port,
    // A flow does not survive a restart; requests then go to the source address.
    connectionId: null, userAgent: r.user_agent,
    createdAt: Date.parse(r.created_at), updatedAt: Date.parse(r.updated_at),
  };
}

export async function loadLiveRegistrations(db: Db, now = Date.now()): Promise<Binding[]> {
  const rows = await db.selectFrom('registrations').selectAll().where('expires_at', '>', isoNow(now)).execute();
  return rows.map(rowToBinding);
}

/** Every column but the conflict key and `created_at` takes the new row's value on conflict. */
const UPDATE_COLUMNS = [
  'device_id', 'contact_uri', 'contact', 'q', 'expires_at', 'instance_id', 'reg_id', 'call_id', 'cseq',
  'transport', 'source_ip', 'source_port', 'local_port', 'user_agent', 'updated_at',
] as const;

function toRow(b: Binding) {
  return {
    device_id: b.deviceId, aor: b.aor, binding_key: b.key, contact_uri: b.contactUri, contact: b.contact,
    q: b.q, expires_at: isoNow(b.expiresAt), instance_id: b.instanceId, reg_id: b.regId,
    call_id: b.callId, cseq: b.cseq, transport: b.transport, source_ip: b.sourceIp, source_port: b.sourcePort,
    local_port: b.localPort, user_agent: b.userAgent, created_at: isoNow(b.createdAt), updated_at: isoNow(b.updatedAt),
  };
}

const SQLITE_DELETE = 'delete from registrations where aor = ? and binding_key = ?';
/** A refresh: what {@link isRefreshOf} allows to differ. */
const SQLITE_REFRESH = 'update registrations set expires_at = ?, cseq = ?, updated_at = ? where aor = ? and binding_key = ?';

/**
 * `next` differs from the stored `prev` only in what a REGISTER refresh changes (expiry, CSeq,
 * update time), so three columns are all the row needs: on SQLite that update costs ~5 µs against
 * ~7.4 µs for the full upsert (`bench/README.md`, "sip"), on every refresh of every phone.
 */
export function isRefreshOf(prev: Binding, next: Binding): boolean {
  return prev.aor === next.aor && prev.key === next.key && prev.deviceId === next.deviceId && prev.contactUri === next.contactUri &&
    prev.contact === next.contact && prev.q === next.q && prev.instanceId === next.instanceId && prev.regId === next.regId &&
    prev.callId === next.callId && prev.transport === next.transport && prev.sourceIp === next.sourceIp &&
    prev.sourcePort === next.sourcePort && prev.localPort === next.localPort && prev.userAgent === next.userAgent &&
    prev.createdAt === next.createdAt;
}
/** SQLite's one-row upsert, columns in `toRow`'s key order (the order its values bind in). */
let upsertText: string | undefined;

/**
 * The changes of one REGISTER, or of a group commit of many, in one transaction: the 200 goes
 * out only after this commits. On SQLite that is one transaction of one-row prepared statements
 * (`commitSteps`: on the store's writer thread, else synchronous; no Kysely round trips; one-row
 * beats multi-row there). Otherwise (PostgreSQL, or a Kysely transaction open) upserts travel as
 * one multi-row `INSERT ... ON CONFLICT DO UPDATE ... excluded.*` per 500 rows (SQLite >= 3.24
 * and PostgreSQL alike): a refresh storm costs one statement per batch instead of one per binding
 * (measured 211 -> 27 us per binding at batch 50). One statement may not touch a row twice
 * (PostgreSQL refuses), so a repeated (aor, key) keeps only its last row.
 *
 * `stored(b)` answers the binding the database holds for `b`'s (aor, key), when the caller
 * knows it: a mere refresh of it ({@link isRefreshOf}) then updates three columns on SQLite
 * (and falls back to the upsert when the row is gone).
 */
export async function saveBindings(db: Db, upserts: readonly Binding[], removals: readonly Binding[], stored?: (b: Binding) => Binding | undefined): Promise<void> {
  if (upserts.length === 0 && removals.length === 0) return;
  const rows = dedupeLast(upserts);
  if (await commitSteps(db, () => sqliteSteps(rows, removals, stored))) return;
  // The common case, refreshes only, is one statement: atomic on its own, so no explicit
  // BEGIN/COMMIT round trips (half the cost of a one-binding group commit on SQLite).
  if (removals.length === 0 && rows.length <= ROWS_PER_STATEMENT) {
    await upsertChunk(db, rows);
    return;
  }
  await db.transaction().execute(async (tx) => {
    for (const b of removals) {
      await tx.deleteFrom('registrations').where('aor', '=', b.aor).where('binding_key', '=', b.key).execute();
    }
    for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) await upsertChunk(tx, rows.slice(i, i + ROWS_PER_STATEMENT));
  });
}

/** SQLite's statements for {@link saveBindings}: removals, then a refresh's three columns or the upsert. */
function sqliteSteps(rows: readonly Binding[], removals: readonly Binding[], stored?: (b: Binding) => Binding | undefined): WriteStep[] {
  const steps: WriteStep[] = [];
  for (const b of removals) steps.push({ sql: SQLITE_DELETE, params: [b.aor, b.key] });
  for (const b of rows) {
    const r = toRow(b);
    const upsert: WriteStep = { sql: upsertText ??= sqliteInsertText('registrations', Object.keys(r), { keys: ['aor', 'binding_key'], update: UPDATE_COLUMNS }), params: Object.values(r) };
    const prev = stored?.(b);
    // The refresh takes its values from the upsert's row: each time is formatted once.
    steps.push(prev !== undefined && isRefreshOf(prev, b)
      ? { sql: SQLITE_REFRESH, params: [r.expires_at, r.cseq, r.updated_at, r.aor, r.binding_key], orElse: upsert }
      : upsert);
  }
  return steps;
}

/** One multi-row upsert statement (`rows.length` <= ROWS_PER_STATEMENT). */
function upsertChunk(run: Db, rows: readonly Binding[]): Promise<void> {
  return runMultiRow(run, 'registrations:upsert', rows.map(toRow), (db, chunk) => db.insertInto('registrations').values(chunk)
    .onConflict((oc) => oc.columns(['aor', 'binding_key']).doUpdateSet((eb) => {
      const set: Record<string, unknown> = {};
      for (const c of UPDATE_COLUMNS) set[c] = eb.ref(`excluded.${c}`);
      return set as Record<(typeof UPDATE_COLUMNS)[number], never>;
    })));
}

function dedupeLast(upserts: readonly Binding[]): readonly Binding[] {
  if (upserts.length < 2) return upserts;
  const byKey = new Map<string, Binding>();
  for (const b of upserts) {
    const k = `${b.aor}\u0000${b.key}`;
    byKey.delete(k); // keep the order of the last write
    byKey.set(k, b);
  }
  return byKey.size === upserts.length ? upserts : [...byKey.values()];
}

export async function deleteExpiredRegistrations(db: Db, now = Date.now()): Promise<number> {
  const r = await db.deleteFrom('registrations').where('expires_at', '<=', isoNow(now)).executeTakeFirst();
  return Number(r.numDeletedRows);
}

export async function deleteDeviceRegistrations(db: Db, deviceId: number): Promise<void> {
  await db.deleteFrom('registrations').where('device_id', '=', deviceId).execute();
}
