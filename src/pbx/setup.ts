/**
 * First-run setup: creates the first admin exactly once, whether through the wizard
 * (`POST /api/setup/complete`) or STROWGER_ADMIN_EMAIL/PASSWORD at start.
 */
import type { Kysely } from 'kysely';
import type { DB } from '../store/schema.ts';
import type { SecretBox } from '../store/secret-box.ts';
import { isoNow } from '../store/time.ts';
import { insertUser, toUser, type User } from '../store/users.ts';
import { SECRET_CONFIG_KEYS, SETUP_COMPLETED_KEY, setConfigValues } from '../store/system-config.ts';

export async function isSetupComplete(db: Kysely<DB>): Promise<boolean> {
  const r = await db.selectFrom('system_config').select('key').where('key', '=', SETUP_COMPLETED_KEY).executeTakeFirst();
  return r !== undefined;
}

export interface SetupInput {
  email: string;
  passwordHash: string;
  twilioAccountSid?: string;
  twilioAuthToken?: string;
}

/** Returns the admin, or null when setup was already complete (the marker row is the lock). */
export async function completeSetup(db: Kysely<DB>, box: SecretBox, input: SetupInput): Promise<User | null> {
  return db.transaction().execute(async (tx) => {
    const inserted = await tx.insertInto('system_config')
      .values({ key: SETUP_COMPLETED_KEY, value: isoNow(), encrypted: 0, updated_at: isoNow() })
      .onConflict((oc) => oc.column('key').doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) return null;
    const row = await insertUser(tx, { email: input.email, password_hash: input.passwordHash, role: 'admin' });
    const values: Record<string, string> = {};
    if (input.twilioAccountSid) values.twilio_account_sid = input.twilioAccountSid;
    if (input.twilioAuthToken) values.twilio_auth_token = input.twilioAuthToken;
    await setConfigValues(tx, box, values, SECRET_CONFIG_KEYS);
    return toUser(row);
  });
}
