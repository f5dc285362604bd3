/**
 * First-run setup: creates the first admin exactly once, whether through the wizard
 * (`POST /api/setup/complete`) or STROWGER_ADMIN_EMAIL/PASSWORD at start.
 */
import type { Db } from '../store/db.ts';
import type { SecretBox } from '../store/secret-box.ts';
import { inTransaction } from '../store/in-transaction.ts';
import { insertUser, toUser, type User } from '../store/users.ts';
import { SECRET_CONFIG_KEYS, isSetupComplete, markSetupComplete, setConfigValues } from '../store/system-config.ts';

export { isSetupComplete };

export interface SetupInput {
  email: string;
  passwordHash: string;
  twilioAccountSid?: string;
  twilioAuthToken?: string;
}

/** Returns the admin, or null when setup was already complete (the marker row is the lock). */
export async function completeSetup(db: Db, box: SecretBox, input: SetupInput): Promise<User | null> {
  return inTransaction(db, async (tx) => {
    if (!(await markSetupComplete(tx))) return null;
    const row = await insertUser(tx, { email: input.email, password_hash: input.passwordHash, role: 'admin' });
    const values: Record<string, string> = {};
    if (input.twilioAccountSid) values.twilio_account_sid = input.twilioAccountSid;
    if (input.twilioAuthToken) values.twilio_auth_token = input.twilioAuthToken;
    await setConfigValues(tx, box, values, SECRET_CONFIG_KEYS);
    return toUser(row);
  });
}
