/**
 * SIP trunks: the carriers calls go out through (as a digest client, RFC 3261 §22.2) and
 * come in from (recognised by source address, see trunk-match.ts). The password is sealed
 * with the server's secret box, never hashed: answering a carrier's challenge needs it in clear.
 * At most one trunk is the default (the outbound route when no rule names a trunk).
 */
import type { Updateable } from 'kysely';
import type { TrunkRow, TrunksTable } from './schema.ts';
import type { SecretBox } from './secret-box.ts';
import { inTransaction } from './in-transaction.ts';
import { isoNow } from './time.ts';
import { toSrtpPolicy, type SrtpPolicy } from './devices.ts';
import type { Db, Tx } from './db.ts';

export { matchInboundTrunk, parseCidr, formatCidr } from './trunk-match.ts';

export const TRUNK_TRANSPORTS = ['udp', 'tcp', 'tls'] as const;
export type TrunkTransport = (typeof TRUNK_TRANSPORTS)[number];

/** Stored for "no transport given" (RFC 3263 NAPTR decides); the domain type says null. */
const AUTO_TRANSPORT = 'auto';

/** RFC 3261 §19.1.2: 5060 for sip over UDP/TCP, 5061 for TLS. */
export function defaultTrunkPort(transport: TrunkTransport): number {
  return transport === 'tls' ? 5061 : 5060;
}

/** A trunk as the API and the call engine see it: the password never leaves the store. */
export interface Trunk {
  id: number;
  name: string;
  host: string;
  /** null: none given, SRV records say (RFC 3263 §4.2). */
  port: number | null;
  /** null: none given, NAPTR records say (RFC 3263 §4.1). */
  transport: TrunkTransport | null;
  username: string | null;
  has_password: boolean;
  inbound_hosts: string[];
  default: boolean;
  enabled: boolean;
  from_domain: string | null;
  caller_id: string | null;
  created_at: string;
  updated_at: string;
  /** Check the TLS server's certificate (chain and name); false skips it (logged at each call). */
  tls_verify: boolean;
  /** PEM CA(s) trusted besides the system's. */
  tls_ca: string | null;
  /** Pinned SHA-256 fingerprint of the server certificate (`AA:BB:…`): accepted whatever its chain. */
  tls_fingerprint: string | null;
  /** SDES-SRTP policy of the media towards the carrier (as `devices.srtp`). */
  srtp: SrtpPolicy;
}

export function toTrunk(row: TrunkRow): Trunk {
  return {
    id: row.id,
    name: row.name,
    host: row.host,
    port: row.port === 0 ? null : row.port,
    transport: row.transport === AUTO_TRANSPORT ? null : row.transport,
    username: row.username,
    has_password: row.password_enc !== null,
    inbound_hosts: JSON.parse(row.inbound_hosts) as string[],
    default: row.is_default === 1,
    enabled: row.enabled === 1,
    from_domain: row.from_domain,
    caller_id: row.caller_id,
    created_at: row.created_at,
    updated_at: row.updated_at,
    tls_verify: row.tls_verify !== 0,
    tls_ca: row.tls_ca,
    tls_fingerprint: row.tls_fingerprint,
    srtp: toSrtpPolicy(row.srtp),
  };
}

export interface NewTrunk {
  name: string;
  host: string;
  port: number | null;
  transport: TrunkTransport | null;
  username: string | null;
  password: string | null;
  /** Canonical addresses/CIDRs (see `formatCidr`). */
  inboundHosts: string[];
  isDefault: boolean;
  enabled: boolean;
  fromDomain: string | null;
  callerId: string | null;
  /** Default true. */
  tlsVerify?: boolean;
  tlsCa?: string | null;
  tlsFingerprint?: string | null;
  /** Default 'off'. */
  srtp?: SrtpPolicy;
}

/** Makes `id` the only default trunk. Clearing first keeps the partial unique index satisfied. */
async function makeDefault(tx: Tx, id: number): Promise<void> {
  await tx.updateTable('trunks').set({ is_default: 0 }).where('is_default', '=', 1).where('id', '!=', id).execute();
  await tx.updateTable('trunks').set({ is_default: 1 }).where('id', '=', id).execute();
}

/**
 * Inserts a trunk; undefined when the name is taken. With `isDefault` the other trunks stop
 * being default in the same transaction.
 */
export async function insertTrunk(db: Db, box: SecretBox, t: NewTrunk): Promise<TrunkRow | undefined> {
  const now = isoNow();
  return inTransaction(db, async (tx) => {
    const row = await tx.insertInto('trunks').values({
      name: t.name,
      host: t.host,
      port: t.port ?? 0,
      transport: t.transport ?? AUTO_TRANSPORT,
      username: t.username,
      password_enc: t.password === null ? null : box.seal(t.password),
      inbound_hosts: JSON.stringify(t.inboundHosts),
      is_default: 0,
      enabled: t.enabled ? 1 : 0,
      from_domain: t.fromDomain,
      caller_id: t.callerId,
      tls_verify: t.tlsVerify === false ? 0 : 1,
      tls_ca: t.tlsCa ?? null,
      tls_fingerprint: t.tlsFingerprint ?? null,
      srtp: t.srtp ?? 'off',
      created_at: now,
      updated_at: now,
    }).onConflict((oc) => oc.column('name').doNothing()).returningAll().executeTakeFirst();
    if (!row || !t.isDefault) return row;
    await makeDefault(tx, row.id);
    return { ...row, is_default: 1 };
  });
}

export interface TrunkPatch {
  name?: string;
  host?: string;
  port?: number | null;
  transport?: TrunkTransport | null;
  username?: string | null;
  /** null removes the password. */
  password?: string | null;
  inboundHosts?: string[];
  isDefault?: boolean;
  enabled?: boolean;
  fromDomain?: string | null;
  callerId?: string | null;
  tlsVerify?: boolean;
  tlsCa?: string | null;
  tlsFingerprint?: string | null;
  srtp?: SrtpPolicy;
}

/** Applies `p` (fields absent are kept); undefined when no trunk has this id. */
export async function updateTrunk(db: Db, box: SecretBox, id: number, p: TrunkPatch): Promise<TrunkRow | undefined> {
  const set: Updateable<TrunksTable> = { updated_at: isoNow() };
  if (p.name !== undefined) set.name = p.name;
  if (p.host !== undefined) set.host = p.host;
  if (p.port !== undefined) set.port = p.port ?? 0;
  if (p.transport !== undefined) set.transport = p.transport ?? AUTO_TRANSPORT;
  if (p.username !== undefined) set.username = p.username;
  if (p.password !== undefined) set.password_enc = p.password === null ? null : box.seal(p.password);
  if (p.inboundHosts !== undefined) set.inbound_hosts = JSON.stringify(p.inboundHosts);
  if (p.isDefault === false) set.is_default = 0;
  if (p.enabled !== undefined) set.enabled = p.enabled ? 1 : 0;
  if (p.fromDomain !== undefined) set.from_domain = p.fromDomain;
  if (p.callerId !== undefined) set.caller_id = p.callerId;
  if (p.tlsVerify !== undefined) set.tls_verify = p.tlsVerify ? 1 : 0;
  if (p.tlsCa !== undefined) set.tls_ca = p.tlsCa;
  if (p.tlsFingerprint !== undefined) set.tls_fingerprint = p.tlsFingerprint;
  if (p.srtp !== undefined) set.srtp = p.srtp;
  return inTransaction(db, async (tx) => {
    const row = await tx.updateTable('trunks').set(set).where('id', '=', id).returningAll().executeTakeFirst();
    if (!row || p.isDefault !== true) return row;
    await makeDefault(tx, id);
    return { ...row, is_default: 1 };
  });
}

export async function findTrunkById(db: Db, id: number): Promise<TrunkRow | undefined> {
  return db.selectFrom('trunks').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findTrunkByName(db: Db, name: string): Promise<TrunkRow | undefined> {
  return db.selectFrom('trunks').selectAll().where('name', '=', name).executeTakeFirst();
}

/** A page of trunks in id order. */
export async function listTrunks(db: Db, limit: number, offset: number): Promise<{ rows: TrunkRow[]; total: number }> {
  const [rows, count] = await Promise.all([
    db.selectFrom('trunks').selectAll().orderBy('id').limit(limit).offset(offset).execute(),
    db.selectFrom('trunks').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.n) };
}

export async function deleteTrunk(db: Db, id: number): Promise<boolean> {
  const r = await db.deleteFrom('trunks').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/**
 * Every enabled trunk in id order: what the call engine loads at start and again on each
 * `trunk:changed` event, then hands to `matchInboundTrunk` for each INVITE.
 */
export async function listEnabledTrunks(db: Db): Promise<Trunk[]> {
  const rows = await db.selectFrom('trunks').selectAll().where('enabled', '=', 1).orderBy('id').execute();
  return rows.map(toTrunk);
}

/** The default trunk, if one is set and enabled (a disabled default carries no calls). */
export async function findDefaultTrunk(db: Db): Promise<Trunk | undefined> {
  const row = await db.selectFrom('trunks').selectAll().where('is_default', '=', 1).where('enabled', '=', 1).executeTakeFirst();
  return row && toTrunk(row);
}

export interface TrunkCredentials {
  username: string;
  /** The clear password, for the digest response. Keep it out of logs. */
  password: string;
}

/**
 * Digest client credentials of trunk `id`: undefined when the trunk does not exist or lacks
 * a username or password (then challenges from it cannot be answered). Throws when the sealed
 * password cannot be opened (wrong STROWGER_SECRET_KEY): a configuration fault.
 *
 * @example
 * const creds = await trunkCredentials(db, box, trunk.id);
 * if (creds) authorization = digestClient.answer(challenge, creds.username, creds.password);
 */
export async function trunkCredentials(db: Db, box: SecretBox, id: number): Promise<TrunkCredentials | undefined> {
  const row = await db.selectFrom('trunks').select(['username', 'password_enc']).where('id', '=', id).executeTakeFirst();
  if (!row || row.username === null || row.password_enc === null) return undefined;
  return { username: row.username, password: box.open(row.password_enc) };
}

/** How many trunks have each SRTP policy (`GET /api/system/srtp/status`). */
export async function countTrunksBySrtp(db: Db): Promise<Record<SrtpPolicy, number>> {
  const rows = await db.selectFrom('trunks').select(['srtp', db.fn.countAll<number>().as('n')]).groupBy('srtp').execute();
  const out: Record<SrtpPolicy, number> = { off: 0, optional: 0, required: 0 };
  for (const r of rows) out[toSrtpPolicy(r.srtp)] += Number(r.n);
  return out;
}
