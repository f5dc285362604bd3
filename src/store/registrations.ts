import { CompiledQuery, type Kysely, type Transaction } from 'kysely';
import type { DB, RegistrationRow } from './schema.ts';
import { isoNow } from './time.ts';

type Db = Kysely<DB> | Transaction<DB>;

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

/**
 * Rows per multi-row statement: 18 parameters each stays far below SQLite's (32,766) and
 * PostgreSQL's (65,535) bind limits.
 */
const ROWS_PER_STATEMENT = 500;

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

/**
 * The changes of one REGISTER, or of a group commit of many, in one transaction: the 200 goes
 * out only after this commits. Upserts travel as one multi-row `INSERT ... ON CONFLICT DO
 * UPDATE ... excluded.*` per 500 rows (SQLite >= 3.24 and PostgreSQL alike): a refresh storm
 * costs one statement per batch instead of one per binding (measured 211 -> 27 us per binding
 * at batch 50). One statement may not touch a row twice (PostgreSQL refuses), so a repeated
 * (aor, key) keeps only its last row.
 */
export async function saveBindings(db: Kysely<DB>, upserts: readonly Binding[], removals: readonly Binding[]): Promise<void> {
  if (upserts.length === 0 && removals.length === 0) return;
  const rows = dedupeLast(upserts);
  // The common case, refreshes only, is one statement: atomic on its own, so no explicit
  // BEGIN/COMMIT round trips (half the cost of a one-binding group commit on SQLite).
  if (removals.length === 0 && rows.length <= ROWS_PER_STATEMENT) {
    await upsertChunk(db, db, rows);
    return;
  }
  await db.transaction().execute(async (tx) => {
    for (const b of removals) {
      await tx.deleteFrom('registrations').where('aor', '=', b.aor).where('binding_key', '=', b.key).execute();
    }
    for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) await upsertChunk(db, tx, rows.slice(i, i + ROWS_PER_STATEMENT));
  });
}

/** One multi-row upsert statement (`rows.length` <= ROWS_PER_STATEMENT). */
async function upsertChunk(db: Kysely<DB>, run: Db, rows: readonly Binding[]): Promise<void> {
  const chunk = rows.map(toRow);
  let sqlByRows = upsertSql.get(db);
  if (sqlByRows === undefined) upsertSql.set(db, sqlByRows = new Map());
  const cached = sqlByRows.get(chunk.length);
  if (cached !== undefined) {
    // Same statement text, fresh values: row by row, in `toRow`'s column order (how Kysely
    // numbers them; nulls are parameters too).
    const params: unknown[] = [];
    for (const r of chunk) for (const k in r) params.push(r[k as keyof typeof r]);
    await run.executeQuery(CompiledQuery.raw(cached, params));
    return;
  }
  const q = run.insertInto('registrations').values(chunk)
    .onConflict((oc) => oc.columns(['aor', 'binding_key']).doUpdateSet((eb) => {
      const set: Record<string, unknown> = {};
      for (const c of UPDATE_COLUMNS) set[c] = eb.ref(`excluded.${c}`);
      return set as Record<(typeof UPDATE_COLUMNS)[number], never>;
    }))
    .compile();
  sqlByRows.set(chunk.length, q.sql);
  await run.executeQuery(q);
}

/**
 * Upsert statement text per database and row count: building and compiling the query with
 * Kysely cost more than SQLite running it (profile of a REGISTER storm), and a fleet's
 * group commits repeat the same few row counts.
 */
const upsertSql = new WeakMap<Kysely<DB>, Map<number, string>>();

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
