/** DIDs: the E.164 numbers the PBX answers (bought at Twilio or another trunk). */
import type { Updateable } from 'kysely';
import type { DidRow, DidsTable } from './schema.ts';
import { isoNow } from './time.ts';
import type { Db } from './db.ts';

export const DID_CAPABILITIES = ['voice', 'sms', 'mms'] as const;
export type DidCapability = (typeof DID_CAPABILITIES)[number];

export interface Did {
  id: number;
  phone_number: string;
  /** Same value as `phone_number`, under the alias the API also accepts. */
  number: string;
  friendly_name: string | null;
  capabilities: DidCapability[];
  twilio_sid: string | null;
  /** Set when a Twilio sync no longer found the number on the account. */
  released_at: string | null;
  created_at: string;
  updated_at: string;
}

export function toDid(row: DidRow): Did {
  return {
    id: row.id,
    phone_number: row.phone_number,
    number: row.phone_number,
    friendly_name: row.friendly_name,
    capabilities: JSON.parse(row.capabilities) as DidCapability[],
    twilio_sid: row.twilio_sid,
    released_at: row.released_at,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

export interface NewDid {
  phoneNumber: string;
  friendlyName: string | null;
  capabilities: DidCapability[];
  twilioSid?: string | null;
}

/** Inserts a DID; undefined when the number exists already. */
export async function insertDid(db: Db, d: NewDid): Promise<DidRow | undefined> {
  const now = isoNow();
  return db.insertInto('dids').values({
    phone_number: d.phoneNumber,
    friendly_name: d.friendlyName,
    capabilities: JSON.stringify(d.capabilities),
    twilio_sid: d.twilioSid ?? null,
    created_at: now,
    updated_at: now,
  }).onConflict((oc) => oc.column('phone_number').doNothing()).returningAll().executeTakeFirst();
}

export interface DidPatch {
  phoneNumber?: string;
  friendlyName?: string | null;
  capabilities?: DidCapability[];
}

export async function updateDid(db: Db, id: number, p: DidPatch): Promise<DidRow | undefined> {
  const set: Updateable<DidsTable> = { updated_at: isoNow() };
  if (p.phoneNumber !== undefined) set.phone_number = p.phoneNumber;
  if (p.friendlyName !== undefined) set.friendly_name = p.friendlyName;
  if (p.capabilities !== undefined) set.capabilities = JSON.stringify(p.capabilities);
  return db.updateTable('dids').set(set).where('id', '=', id).returningAll().executeTakeFirst();
}

export async function findDidById(db: Db, id: number): Promise<DidRow | undefined> {
  return db.selectFrom('dids').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findDidByNumber(db: Db, phoneNumber: string): Promise<DidRow | undefined> {
  return db.selectFrom('dids').selectAll().where('phone_number', '=', phoneNumber).executeTakeFirst();
}

export async function listDids(db: Db, limit: number, offset: number): Promise<{ rows: DidRow[]; total: number }> {
  const [rows, count] = await Promise.all([
    db.selectFrom('dids').selectAll().orderBy('id').limit(limit).offset(offset).execute(),
    db.selectFrom('dids').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.n) };
}

/** Deletes a DID; its routes go with it (ON DELETE CASCADE). */
export async function deleteDid(db: Db, id: number): Promise<boolean> {
  const r = await db.deleteFrom('dids').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}
