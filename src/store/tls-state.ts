/**
 * The TLS certificate of our SIP TLS/WSS listeners at rest (system_config rows): the settings
 * as JSON, the certificate chain in the clear, the private key and the ACME account key sealed
 * with the secret box. Written together so a crash never pairs a new key with an old certificate.
 */
import { getConfigValue, setConfigValues } from './system-config.ts';
import type { SecretBox } from './secret-box.ts';
import type { Db } from './db.ts';
import { inTransaction } from './in-transaction.ts';

const SETTINGS = 'tls_settings';
const CERTIFICATE = 'tls_certificate';
const PRIVATE_KEY = 'tls_private_key';
const ACME_ACCOUNT_KEY = 'tls_acme_account_key';
const SEALED: ReadonlySet<string> = new Set([PRIVATE_KEY, ACME_ACCOUNT_KEY]);

export interface StoredTls {
  /** JSON of the service's settings (shape owned by src/pbx/tls). */
  settings: string;
  /** PEM chain and key; null for the self-signed source (its files live in the data dir). */
  certificate: string | null;
  privateKey: string | null;
}

export async function loadTlsState(db: Db, box: SecretBox): Promise<StoredTls | null> {
  const settings = await getConfigValue(db, box, SETTINGS);
  if (settings === undefined) return null;
  return {
    settings,
    certificate: (await getConfigValue(db, box, CERTIFICATE)) ?? null,
    privateKey: (await getConfigValue(db, box, PRIVATE_KEY)) ?? null,
  };
}

export async function saveTlsState(db: Db, box: SecretBox, state: StoredTls): Promise<void> {
  await inTransaction(db, (tx) => setConfigValues(tx, box, {
    [SETTINGS]: state.settings,
    [CERTIFICATE]: state.certificate,
    [PRIVATE_KEY]: state.privateKey,
  }, SEALED));
}

export async function loadAcmeAccountKey(db: Db, box: SecretBox): Promise<string | null> {
  return (await getConfigValue(db, box, ACME_ACCOUNT_KEY)) ?? null;
}

export async function saveAcmeAccountKey(db: Db, box: SecretBox, pem: string): Promise<void> {
  await setConfigValues(db, box, { [ACME_ACCOUNT_KEY]: pem }, SEALED);
}
