import type { SecretBox } from './secret-box.ts';
import { isoNow } from './time.ts';
import type { Db } from './db.ts';

/**
 * Key/value settings. Secret keys (tokens, passwords) are sealed with the secret box
 * before they touch the database and only opened in memory.
 */
export async function getConfigValues(db: Db, box: SecretBox): Promise<Record<string, string>> {
  const rows = await db.selectFrom('system_config').selectAll().execute();
  const out: Record<string, string> = {};
  for (const r of rows) out[r.key] = r.encrypted ? box.open(r.value) : r.value;
  return out;
}

export async function getConfigValue(db: Db, box: SecretBox, key: string): Promise<string | undefined> {
  const r = await db.selectFrom('system_config').selectAll().where('key', '=', key).executeTakeFirst();
  if (!r) return undefined;
  return r.encrypted ? box.open(r.value) : r.value;
}

export async function setConfigValues(db: Db, box: SecretBox, values: Record<string, string | null>, secretKeys: ReadonlySet<string>): Promise<void> {
  const now = isoNow();
  for (const [key, value] of Object.entries(values)) {
    if (value === null) {
      await db.deleteFrom('system_config').where('key', '=', key).execute();
      continue;
    }
    const encrypted = secretKeys.has(key) ? 1 : 0;
    const stored = encrypted ? box.seal(value) : value;
    await db.insertInto('system_config')
      .values({ key, value: stored, encrypted, updated_at: now })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: stored, encrypted, updated_at: now }))
      .execute();
  }
}

/** Settings that are secrets: sealed at rest, masked by the API. */
export const SECRET_CONFIG_KEYS: ReadonlySet<string> = new Set([
  'twilio_auth_token',
  'twilio_api_secret',
  'smtp_password',
]);

export const SETUP_COMPLETED_KEY = 'setup_completed_at';

/** True once first-run setup has completed (its marker row exists). */
export async function isSetupComplete(db: Db): Promise<boolean> {
  const r = await db.selectFrom('system_config').select('key').where('key', '=', SETUP_COMPLETED_KEY).executeTakeFirst();
  return r !== undefined;
}

/**
 * Writes the setup-completed marker unless it exists: true when this call wrote it. The marker
 * row is the lock that makes setup happen once (ON CONFLICT DO NOTHING), so run it in the
 * transaction that creates the first admin.
 */
export async function markSetupComplete(db: Db): Promise<boolean> {
  const now = isoNow();
  const r = await db.insertInto('system_config')
    .values({ key: SETUP_COMPLETED_KEY, value: now, encrypted: 0, updated_at: now })
    .onConflict((oc) => oc.column('key').doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
}
