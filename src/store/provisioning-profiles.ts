/**
 * Provisioning profiles: a vendor and the settings its phones get. The settings are JSON
 * validated per vendor by the API (`pbx/provisioning/`); the store keeps them as text.
 */
import type { ProvisioningProfileRow } from './schema.ts';
import { isoNow } from './time.ts';
import type { Db } from './db.ts';

export interface ProvisioningProfile {
  id: number;
  name: string;
  vendor: string;
  config: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

export function toProvisioningProfile(row: ProvisioningProfileRow): ProvisioningProfile {
  return { id: row.id, name: row.name, vendor: row.vendor, config: JSON.parse(row.config) as Record<string, unknown>, created_at: row.created_at, updated_at: row.updated_at };
}

export interface ProfileFields {
  name: string;
  vendor: string;
  config: Record<string, unknown>;
}

export async function insertProfile(db: Db, p: ProfileFields): Promise<ProvisioningProfileRow> {
  const now = isoNow();
  return db.insertInto('provisioning_profiles')
    .values({ name: p.name, vendor: p.vendor, config: JSON.stringify(p.config), created_at: now, updated_at: now })
    .returningAll().executeTakeFirstOrThrow();
}

export async function updateProfile(db: Db, id: number, p: ProfileFields): Promise<ProvisioningProfileRow | undefined> {
  return db.updateTable('provisioning_profiles')
    .set({ name: p.name, vendor: p.vendor, config: JSON.stringify(p.config), updated_at: isoNow() })
    .where('id', '=', id).returningAll().executeTakeFirst();
}

export async function findProfile(db: Db, id: number): Promise<ProvisioningProfileRow | undefined> {
  return db.selectFrom('provisioning_profiles').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listProfiles(db: Db, limit: number, offset: number): Promise<{ rows: ProvisioningProfileRow[]; total: number }> {
  const [rows, count] = await Promise.all([
    db.selectFrom('provisioning_profiles').selectAll().orderBy('id').limit(limit).offset(offset).execute(),
    db.selectFrom('provisioning_profiles').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.n) };
}

/** Deletes a profile; the devices bound to it fall back to their vendor's defaults (FK set null). */
export async function deleteProfile(db: Db, id: number): Promise<boolean> {
  const r = await db.deleteFrom('provisioning_profiles').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** Binds a device to a profile (null unbinds); false when the device does not exist. */
export async function bindDeviceProfile(db: Db, deviceId: number, profileId: number | null): Promise<boolean> {
  const r = await db.updateTable('devices').set({ provisioning_profile_id: profileId, updated_at: isoNow() })
    .where('id', '=', deviceId).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function deviceProfileId(db: Db, deviceId: number): Promise<number | null> {
  const row = await db.selectFrom('devices').select('provisioning_profile_id').where('id', '=', deviceId).executeTakeFirst();
  return row?.provisioning_profile_id ?? null;
}
