/**
 * SRTP settings of `PUT /api/system/srtp/config` at rest: one system_config row of JSON. The
 * shape and its rules belong to src/pbx/srtp-settings.ts; this only reads and writes the row.
 */
import { getConfigValue, setConfigValues } from './system-config.ts';
import type { SecretBox } from './secret-box.ts';
import type { Db } from './db.ts';

const KEY = 'srtp_settings';
const NONE: ReadonlySet<string> = new Set();

export async function loadSrtpSettingsJson(db: Db, box: SecretBox): Promise<string | undefined> {
  return getConfigValue(db, box, KEY);
}

export async function saveSrtpSettingsJson(db: Db, box: SecretBox, json: string): Promise<void> {
  await setConfigValues(db, box, { [KEY]: json }, NONE);
}
