/**
 * SIP devices (phones, softphones): the accounts the registrar authenticates.
 * The SIP password is sealed with the server's secret box, never hashed: digest auth
 * (RFC 2617 §3.2.2.2, RFC 7616 §3.4.2) needs it in clear to derive HA1 for each realm.
 */
import type { Updateable } from 'kysely';
import type { DeviceRow, DevicesTable } from './schema.ts';
import type { SecretBox } from './secret-box.ts';
import { isoNow } from './time.ts';
import type { Db } from './db.ts';

/**
 * Which digest challenge a device is sent (RFC 8760): one algorithm, or `both` for phones
 * known to choose among several challenges (the server's preference order applies).
 */
export type DigestAlgorithmSetting = 'MD5' | 'SHA-256' | 'both';
export const DIGEST_ALGORITHM_SETTINGS: readonly DigestAlgorithmSetting[] = ['MD5', 'SHA-256', 'both'];

/** A stored value as a setting; anything unexpected reads as the default, MD5. */
export function toDigestAlgorithmSetting(v: string): DigestAlgorithmSetting {
  return (DIGEST_ALGORITHM_SETTINGS as readonly string[]).includes(v) ? v as DigestAlgorithmSetting : 'MD5';
}

/**
 * SDES-SRTP policy of a device's media: `off` plain RTP, `optional` crypto offered on RTP/AVP
 * and either accepted, `required` RTP/SAVP only (plain refused with 488).
 */
export type SrtpPolicy = 'off' | 'optional' | 'required';
export const SRTP_POLICIES: readonly SrtpPolicy[] = ['off', 'optional', 'required'];

export function toSrtpPolicy(v: string): SrtpPolicy {
  return (SRTP_POLICIES as readonly string[]).includes(v) ? v as SrtpPolicy : 'off';
}

/** A device as the API shows it: the password never leaves the store. */
export interface Device {
  id: number;
  name: string;
  username: string;
  /** Vendor (e.g. "grandstream"); `device_type` is the same value under its other name. */
  type: string;
  device_type: string;
  user_id: number | null;
  caller_id: string | null;
  dnd_enabled: boolean;
  digest_algorithm: DigestAlgorithmSetting;
  voicemail_enabled: boolean;
  voicemail_email: string | null;
  /** Sent message-summary NOTIFYs without subscribing (unsolicited MWI). */
  mwi_unsolicited: boolean;
  /** SDES-SRTP policy of the media towards the device (`media/srtp`, `pbx/anchor-srtp.ts`). */
  srtp: SrtpPolicy;
  created_at: string;
  updated_at: string;
}

/** The columns a list shows: all but the sealed password, which lists never read. */
export type DeviceListRow = Omit<DeviceRow, 'password_enc'>;
const LIST_COLUMNS = ['id', 'name', 'username', 'type', 'user_id', 'caller_id', 'dnd_enabled', 'digest_algorithm', 'provisioning_profile_id', 'voicemail_enabled', 'voicemail_email', 'mwi_unsolicited', 'srtp', 'created_at', 'updated_at'] as const;

export function toDevice(row: DeviceListRow): Device {
  return {
    id: row.id,
    name: row.name,
    username: row.username,
    type: row.type,
    device_type: row.type,
    user_id: row.user_id,
    caller_id: row.caller_id,
    dnd_enabled: row.dnd_enabled === 1,
    digest_algorithm: toDigestAlgorithmSetting(row.digest_algorithm),
    voicemail_enabled: row.voicemail_enabled === 1,
    voicemail_email: row.voicemail_email,
    mwi_unsolicited: row.mwi_unsolicited === 1,
    srtp: toSrtpPolicy(row.srtp),
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

export interface NewDevice {
  name: string;
  username: string;
  password: string;
  type: string;
  userId: number | null;
  callerId: string | null;
  dndEnabled: boolean;
  /** Default MD5. */
  digestAlgorithm?: DigestAlgorithmSetting;
  voicemailEnabled?: boolean;
  voicemailEmail?: string | null;
  /** Default off. */
  mwiUnsolicited?: boolean;
  /** Default 'off'. */
  srtp?: SrtpPolicy;
}

/** Inserts a device; undefined when the username is taken (atomic: ON CONFLICT DO NOTHING). */
export async function insertDevice(db: Db, box: SecretBox, d: NewDevice): Promise<DeviceRow | undefined> {
  const now = isoNow();
  return db.insertInto('devices').values({
    name: d.name,
    username: d.username,
    password_enc: box.seal(d.password),
    type: d.type,
    user_id: d.userId,
    caller_id: d.callerId,
    dnd_enabled: d.dndEnabled ? 1 : 0,
    digest_algorithm: d.digestAlgorithm ?? 'MD5',
    voicemail_enabled: d.voicemailEnabled ? 1 : 0,
    voicemail_email: d.voicemailEmail ?? null,
    mwi_unsolicited: d.mwiUnsolicited ? 1 : 0,
    srtp: d.srtp ?? 'off',
    created_at: now,
    updated_at: now,
  }).onConflict((oc) => oc.column('username').doNothing()).returningAll().executeTakeFirst();
}

export interface DevicePatch {
  name?: string;
  username?: string;
  password?: string;
  type?: string;
  userId?: number | null;
  callerId?: string | null;
  dndEnabled?: boolean;
  digestAlgorithm?: DigestAlgorithmSetting;
  voicemailEnabled?: boolean;
  voicemailEmail?: string | null;
  mwiUnsolicited?: boolean;
  srtp?: SrtpPolicy;
}

export async function updateDevice(db: Db, box: SecretBox, id: number, p: DevicePatch): Promise<DeviceRow | undefined> {
  const set: Updateable<DevicesTable> = { updated_at: isoNow() };
  if (p.name !== undefined) set.name = p.name;
  if (p.username !== undefined) set.username = p.username;
  if (p.password !== undefined) set.password_enc = box.seal(p.password);
  if (p.type !== undefined) set.type = p.type;
  if (p.userId !== undefined) set.user_id = p.userId;
  if (p.callerId !== undefined) set.caller_id = p.callerId;
  if (p.dndEnabled !== undefined) set.dnd_enabled = p.dndEnabled ? 1 : 0;
  if (p.digestAlgorithm !== undefined) set.digest_algorithm = p.digestAlgorithm;
  if (p.voicemailEnabled !== undefined) set.voicemail_enabled = p.voicemailEnabled ? 1 : 0;
  if (p.voicemailEmail !== undefined) set.voicemail_email = p.voicemailEmail;
  if (p.mwiUnsolicited !== undefined) set.mwi_unsolicited = p.mwiUnsolicited ? 1 : 0;
  if (p.srtp !== undefined) set.srtp = p.srtp;
  return db.updateTable('devices').set(set).where('id', '=', id).returningAll().executeTakeFirst();
}

export async function findDeviceById(db: Db, id: number): Promise<DeviceRow | undefined> {
  return db.selectFrom('devices').selectAll().where('id', '=', id).executeTakeFirst();
}

/** SIP user parts compare case-sensitively (RFC 3261 §19.1.4), so does this lookup. */
export async function findDeviceByUsername(db: Db, username: string): Promise<DeviceRow | undefined> {
  return db.selectFrom('devices').selectAll().where('username', '=', username).executeTakeFirst();
}

/** Ids among `ids` that name no device (to validate references such as route targets). */
export async function missingDeviceIds(db: Db, ids: readonly number[]): Promise<number[]> {
  if (ids.length === 0) return [];
  const found = await db.selectFrom('devices').select('id').where('id', 'in', ids).execute();
  const have = new Set(found.map((r) => r.id));
  return [...new Set(ids)].filter((id) => !have.has(id));
}

/** A page of devices in id order; `ownerId` non-null restricts to that user's devices. */
export async function listDevices(db: Db, ownerId: number | null, limit: number, offset: number): Promise<{ rows: DeviceListRow[]; total: number }> {
  let q = db.selectFrom('devices');
  if (ownerId !== null) q = q.where('user_id', '=', ownerId);
  const [rows, count] = await Promise.all([
    q.select(LIST_COLUMNS).orderBy('id').limit(limit).offset(offset).execute(),
    q.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.n) };
}

export async function deleteDevice(db: Db, id: number): Promise<boolean> {
  const r = await db.deleteFrom('devices').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** Ids of the devices `userId` owns (e.g. to show a user only their own registrations). */
export async function deviceIdsOfUser(db: Db, userId: number): Promise<number[]> {
  const rows = await db.selectFrom('devices').select('id').where('user_id', '=', userId).execute();
  return rows.map((r) => r.id);
}

/**
 * The caller id a device presents on calls it places, or null when none is set (the B2BUA
 * then presents the device username). Null too for an unknown id.
 */
export async function deviceCallerId(db: Db, deviceId: number): Promise<string | null> {
  const row = await db.selectFrom('devices').select('caller_id').where('id', '=', deviceId).executeTakeFirst();
  return row?.caller_id ?? null;
}

export interface DeviceCredentials {
  id: number;
  username: string;
  /** The clear SIP password, for deriving digest HA1. Keep it out of logs. */
  password: string;
  digestAlgorithm: DigestAlgorithmSetting;
}

/**
 * What the registrar needs to check a digest response for `username`: undefined when no
 * device has that username. Throws when the sealed password cannot be opened (wrong
 * STROWGER_SECRET_KEY): that is a configuration fault, not a failed login.
 *
 * @example
 * const creds = await findDeviceCredentials(db, box, '1001');
 * if (creds) ha1 = md5(`${creds.username}:${realm}:${creds.password}`);
 */
export async function findDeviceCredentials(db: Db, box: SecretBox, username: string): Promise<DeviceCredentials | undefined> {
  const row = await db.selectFrom('devices').select(['id', 'username', 'password_enc', 'digest_algorithm']).where('username', '=', username).executeTakeFirst();
  if (!row) return undefined;
  return { id: row.id, username: row.username, password: box.open(row.password_enc), digestAlgorithm: toDigestAlgorithmSetting(row.digest_algorithm) };
}

/** How many devices have each SRTP policy (`GET /api/system/srtp/status`). */
export async function countDevicesBySrtp(db: Db): Promise<Record<SrtpPolicy, number>> {
  const rows = await db.selectFrom('devices').select(['srtp', db.fn.countAll<number>().as('n')]).groupBy('srtp').execute();
  const out: Record<SrtpPolicy, number> = { off: 0, optional: 0, required: 0 };
  for (const r of rows) out[toSrtpPolicy(r.srtp)] += Number(r.n);
  return out;
}
