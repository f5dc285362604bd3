/**
 * Music on hold in the store: the uploaded files (`moh_files`) and the setting (which source
 * plays, and whether MOH plays at all), kept as two `system_config` rows so that backups and
 * restores carry it like every other setting.
 */
import type { Kysely, Transaction } from 'kysely';
import type { DB, MohFileRow } from './schema.ts';
import type { SecretBox } from './secret-box.ts';
import { getConfigValue, setConfigValues } from './system-config.ts';
import { isoNow } from './time.ts';

type Db = Kysely<DB> | Transaction<DB>;

/** `moh_source` value meaning "the tones the project generates" (src/pbx/moh-default.ts). */
export const DEFAULT_MOH_SOURCE = 'default';
const ENABLED_KEY = 'moh_enabled';
const SOURCE_KEY = 'moh_source';
const NO_SECRETS: ReadonlySet<string> = new Set();

export interface MohSettings {
  enabled: boolean;
  /** `default`, or the id (decimal) of a row of `moh_files`. */
  source: string;
}

export interface NewMohFile {
  name: string;
  originalFilename: string;
  originalFormat: string;
  originalCodec: string;
  originalSampleRate: number;
  originalChannels: number;
  originalSize: number;
  durationMs: number;
  sampleRate: number;
  size: number;
}

/** The setting; a fresh install plays the default MOH. */
export async function getMohSettings(db: Db, box: SecretBox): Promise<MohSettings> {
  const [enabled, source] = await Promise.all([getConfigValue(db, box, ENABLED_KEY), getConfigValue(db, box, SOURCE_KEY)]);
  return { enabled: enabled === undefined ? true : enabled === 'true', source: source ?? DEFAULT_MOH_SOURCE };
}

/** Writes the given fields of the setting; run it in the transaction that checked `source`. */
export async function setMohSettings(db: Db, box: SecretBox, patch: Partial<MohSettings>): Promise<void> {
  const values: Record<string, string> = {};
  if (patch.enabled !== undefined) values[ENABLED_KEY] = String(patch.enabled);
  if (patch.source !== undefined) values[SOURCE_KEY] = patch.source;
  await setConfigValues(db, box, values, NO_SECRETS);
}

export async function insertMohFile(db: Db, f: NewMohFile, now: number = Date.now()): Promise<MohFileRow> {
  return db.insertInto('moh_files').values({
    name: f.name, original_filename: f.originalFilename, original_format: f.originalFormat, original_codec: f.originalCodec,
    original_sample_rate: f.originalSampleRate, original_channels: f.originalChannels, original_size: f.originalSize,
    duration_ms: f.durationMs, sample_rate: f.sampleRate, size: f.size, created_at: isoNow(now),
  }).returningAll().executeTakeFirstOrThrow();
}

export async function findMohFileById(db: Db, id: number): Promise<MohFileRow | undefined> {
  return db.selectFrom('moh_files').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Oldest first (ids grow with time). */
export async function listMohFiles(db: Db, limit: number, offset: number): Promise<{ rows: MohFileRow[]; total: number }> {
  const [rows, count] = await Promise.all([
    db.selectFrom('moh_files').selectAll().orderBy('id').limit(limit).offset(offset).execute(),
    db.selectFrom('moh_files').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.n) };
}

/**
 * Deletes a file's row; when it was the file in use, the setting falls back to `default` in
 * the same transaction, so the setting never names a missing file. Run it in a transaction.
 * Returns undefined when there was no such row.
 */
export async function deleteMohFile(tx: Transaction<DB>, box: SecretBox, id: number): Promise<{ row: MohFileRow; wasInUse: boolean } | undefined> {
  const row = await findMohFileById(tx, id);
  if (!row) return undefined;
  await tx.deleteFrom('moh_files').where('id', '=', id).execute();
  const wasInUse = (await getMohSettings(tx, box)).source === String(id);
  if (wasInUse) await setMohSettings(tx, box, { source: DEFAULT_MOH_SOURCE });
  return { row, wasInUse };
}
