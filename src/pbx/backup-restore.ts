/**
 * Restoring a backup, all or nothing. The upload is saved and unpacked into a staging dir,
 * then EVERYTHING is checked before the live state is touched: gzip/tar integrity, entry
 * names, manifest shape and version, secret-key fingerprint, every checksum, every row.
 * Only then, in ONE transaction, all tables are emptied and refilled parent-first; the
 * media dir is swapped by rename at the end of that transaction (and swapped back if the
 * commit fails). Sessions are not part of a backup, so a restore logs everyone out.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Store } from '../store/database.ts';
import {
  BACKUP_TABLES, deleteAllRows, insertRows, resetSequences, tableColumns,
  type BackupTable, type Row,
} from '../store/backup-tables.ts';
import { extractArchive, MEDIA_DIR, safeEntryName, type ExtractedFile } from './backup-archive.ts';
import { stagingDir } from './backup-create.ts';
import { BackupError } from './backup-errors.ts';
import { BACKUP_FORMAT_VERSION, MANIFEST_NAME, manifestProblem, secretKeyId, type Manifest } from './backup-manifest.ts';

export interface RestoreTarget {
  store: Store;
  dataDir: string;
  secretKey: Buffer;
  /** Migration names this build knows: a backup from a newer schema is refused. */
  knownMigrations: readonly string[];
  /** Largest total size the archive may unpack to (gzip-bomb brake). */
  maxUnpackedBytes: number;
}

export interface RestoreResult {
  manifest: Manifest;
  /** Rows restored per table. */
  tables: Record<string, number>;
  /** Media files restored. */
  files: number;
}

/** Validates and applies a backup archive; throws BackupError (nothing changed) when it is refused. */
export async function restoreBackup(target: RestoreTarget, archive: Readable): Promise<RestoreResult> {
  const work = await stagingDir(target.dataDir, 'restore-');
  try {
    const upload = join(work, 'upload.tar.gz');
    await pipeline(archive, createWriteStream(upload, { mode: 0o600 }));
    const unpacked = join(work, 'unpacked');
    await mkdir(unpacked);
    const entries = await extractArchive(createReadStream(upload), unpacked, target.maxUnpackedBytes);
    await rm(upload);
    const manifest = await readManifest(unpacked, entries, target);
    checkEntries(manifest, entries);
    const tables = await checkRows(target.store, unpacked, manifest);
    const newMedia = join(unpacked, MEDIA_DIR);
    await mkdir(newMedia, { recursive: true });
    await apply(target, unpacked, newMedia, join(work, 'media-old'));
    return { manifest, tables, files: manifest.files.length };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function readManifest(dir: string, entries: Map<string, ExtractedFile>, target: RestoreTarget): Promise<Manifest> {
  if (!entries.has(MANIFEST_NAME)) throw new BackupError('backup_manifest_invalid', `${MANIFEST_NAME} is missing`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readText(join(dir, MANIFEST_NAME)));
  } catch (err) {
    throw new BackupError('backup_manifest_invalid', (err as Error).message, { cause: err });
  }
  const problem = manifestProblem(parsed);
  if (problem) throw new BackupError('backup_manifest_invalid', problem);
  const m = parsed as Manifest;
  if (m.format_version !== BACKUP_FORMAT_VERSION) {
    throw new BackupError('backup_incompatible', `format_version ${m.format_version}, this build reads ${BACKUP_FORMAT_VERSION}`);
  }
  if (m.migration !== null && !target.knownMigrations.includes(m.migration)) {
    throw new BackupError('backup_incompatible', `schema migration "${m.migration}" is newer than this build`);
  }
  if (m.key_id !== secretKeyId(target.secretKey)) {
    throw new BackupError('backup_wrong_key', 'sealed secrets in it could not be opened');
  }
  return m;
}

async function readText(path: string): Promise<string> {
  if ((await stat(path)).size > 16 * 1024 * 1024) throw new Error('larger than 16 MiB');
  let s = '';
  for await (const chunk of createReadStream(path, 'utf8')) s += chunk;
  return s;
}

/** Every entry is listed in the manifest and every listed file is present with its checksum. */
function checkEntries(m: Manifest, entries: Map<string, ExtractedFile>): void {
  const known = new Set<string>(BACKUP_TABLES.map((t) => t.name));
  const expected = new Map<string, { sha256: string; size?: number }>();
  for (const [name, t] of Object.entries(m.tables)) {
    if (!known.has(name)) throw new BackupError('backup_manifest_invalid', `unknown table "${name}"`);
    expected.set(t.file, t);
  }
  for (const f of m.files) {
    if (!f.path.startsWith(`${MEDIA_DIR}/`) || safeEntryName(f.path, 'file') !== f.path) {
      throw new BackupError('backup_unsafe_entry', `manifest lists "${f.path}"`);
    }
    if (expected.has(f.path)) throw new BackupError('backup_manifest_invalid', `"${f.path}" is listed twice`);
    expected.set(f.path, f);
  }
  for (const name of entries.keys()) {
    if (name !== MANIFEST_NAME && !expected.has(name)) throw new BackupError('backup_unsafe_entry', `"${name}" is not in the manifest`);
  }
  for (const [name, want] of expected) {
    const got = entries.get(name);
    if (!got) throw new BackupError('backup_checksum_mismatch', `"${name}" is missing from the archive`);
    if (got.sha256 !== want.sha256 || (want.size !== undefined && got.size !== want.size)) {
      throw new BackupError('backup_checksum_mismatch', `"${name}" has sha256 ${got.sha256}, manifest says ${want.sha256}`);
    }
  }
}

const BATCH = 500;

/** Rows of a JSON Lines file, `BATCH` at a time; a line that is not a flat JSON object is refused. */
async function* readRows(path: string, table: string): AsyncGenerator<Row[]> {
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let batch: Row[] = [];
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line === '') continue;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      throw new BackupError('backup_row_invalid', `${table} line ${n} is not JSON`);
    }
    if (typeof row !== 'object' || row === null || Array.isArray(row)) throw new BackupError('backup_row_invalid', `${table} line ${n} is not an object`);
    for (const [k, v] of Object.entries(row)) {
      if (v !== null && typeof v !== 'string' && !(typeof v === 'number' && Number.isFinite(v))) {
        throw new BackupError('backup_row_invalid', `${table} line ${n}: column "${k}" is not text, number or null`);
      }
    }
    batch.push(row as Row);
    if (batch.length === BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** Every row parses, names only live columns, carries its primary key; counts match the manifest. */
async function checkRows(store: Store, dir: string, m: Manifest): Promise<Record<string, number>> {
  const columns = await tableColumns(store.db);
  const counts: Record<string, number> = {};
  for (const t of BACKUP_TABLES) {
    const entry = m.tables[t.name];
    counts[t.name] = 0;
    if (!entry) continue;
    const live = columns.get(t.name);
    if (!live) throw new BackupError('backup_incompatible', `table "${t.name}" does not exist in this database`);
    for await (const batch of readRows(join(dir, entry.file), t.name)) {
      for (const row of batch) {
        const unknown = Object.keys(row).find((k) => !live.has(k));
        if (unknown !== undefined) throw new BackupError('backup_row_invalid', `${t.name} has unknown column "${unknown}"`);
        if (row[t.pk] === undefined || row[t.pk] === null) throw new BackupError('backup_row_invalid', `${t.name} row without "${t.pk}"`);
      }
      counts[t.name] += batch.length;
    }
    if (counts[t.name] !== entry.rows) {
      throw new BackupError('backup_row_invalid', `${t.name} has ${counts[t.name]} rows, manifest says ${entry.rows}`);
    }
  }
  return counts;
}

async function apply(target: RestoreTarget, dir: string, newMedia: string, oldMedia: string): Promise<void> {
  const liveMedia = join(target.dataDir, MEDIA_DIR);
  let swapped: 'none' | 'fresh' | 'replaced' = 'none';
  try {
    await target.store.db.transaction().execute(async (tx) => {
      await deleteAllRows(tx);
      for (const t of BACKUP_TABLES) await insertTable(tx, dir, t);
      await resetSequences(tx, target.store.dialect);
      // Last step before COMMIT: a failed rename rolls the database back too.
      try {
        await rename(liveMedia, oldMedia);
        swapped = 'replaced';
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        swapped = 'fresh';
      }
      await rename(newMedia, liveMedia);
    });
  } catch (err) {
    if (swapped !== 'none') await undoSwap(liveMedia, oldMedia, swapped === 'replaced');
    // Rows that passed the format checks can still contradict each other (a route whose
    // DID is not in the backup): the transaction rolled back, and the archive is at fault.
    if (isConstraintViolation(err)) throw new BackupError('backup_row_invalid', (err as Error).message, { cause: err });
    throw err;
  }
}

/** SQLite SQLITE_CONSTRAINT_* codes; PostgreSQL SQLSTATE class 23 (integrity constraint violation). */
function isConstraintViolation(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('SQLITE_CONSTRAINT') || /^23[0-9A-Z]{3}$/.test(code));
}

async function insertTable(tx: Parameters<typeof insertRows>[0], dir: string, t: BackupTable): Promise<void> {
  const file = join(dir, 'db', `${t.name}.jsonl`);
  try {
    await stat(file);
  } catch {
    return; // table absent from an older backup: it stays empty
  }
  for await (const batch of readRows(file, t.name)) await insertRows(tx, t.name, batch);
}

async function undoSwap(liveMedia: string, oldMedia: string, hadOld: boolean): Promise<void> {
  await rm(liveMedia, { recursive: true, force: true });
  if (hadOld) await rename(oldMedia, liveMedia);
}
