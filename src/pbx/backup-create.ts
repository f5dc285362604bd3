/**
 * Making a backup: every table of BACKUP_TABLES is read inside ONE transaction (a
 * repeatable-read snapshot on PostgreSQL; SQLite's WAL gives a read transaction the same),
 * written as JSON Lines, the media directory is snapshotted by hard links, and all of it is
 * packed with a manifest of row counts and SHA-256 checksums into one .tar.gz.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, link, mkdir, mkdtemp, open, readdir, rm, writeFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { dirname, join } from 'node:path';
import { once } from 'node:events';
import type { Store } from '../store/database.ts';
import { BACKUP_TABLES, lastMigrationName, readTable } from '../store/backup-tables.ts';
import { isoNow } from '../store/time.ts';
import { MEDIA_DIR, packArchive } from './backup-archive.ts';
import {
  BACKUP_FORMAT, BACKUP_FORMAT_VERSION, MANIFEST_NAME, secretKeyId, tableFile,
  type Manifest, type ManifestFile, type ManifestTable,
} from './backup-manifest.ts';

export interface BackupSource {
  store: Store;
  /** `<dataDir>/media` is archived; staging happens under `<dataDir>/tmp`. */
  dataDir: string;
  secretKey: Buffer;
  appVersion: string;
}

export interface CreatedBackup {
  /** The .tar.gz. Its file is already unlinked: nothing is left on disk once the stream closes. */
  stream: Readable;
  size: number;
  manifest: Manifest;
}

/** A fresh directory under `<dataDir>/tmp`: same filesystem as the media dir, so renames are atomic. */
export async function stagingDir(dataDir: string, prefix: string): Promise<string> {
  const base = join(dataDir, 'tmp');
  await mkdir(base, { recursive: true, mode: 0o700 });
  return mkdtemp(join(base, prefix));
}

/**
 * Builds a backup archive. Example:
 *
 *   const b = await createBackup({ store, dataDir, secretKey, appVersion: '0.1.0' });
 *   reply.header('content-length', b.size).send(b.stream);
 */
export async function createBackup(src: BackupSource): Promise<CreatedBackup> {
  const work = await stagingDir(src.dataDir, 'backup-');
  const cleanup = () => rm(work, { recursive: true, force: true });
  try {
    const stage = join(work, 'stage');
    await mkdir(join(stage, 'db'), { recursive: true });
    const { tables, migration } = await dumpTables(src.store, stage);
    const files = await snapshotMedia(join(src.dataDir, MEDIA_DIR), stage);
    const manifest: Manifest = {
      format: BACKUP_FORMAT,
      format_version: BACKUP_FORMAT_VERSION,
      created_at: isoNow(),
      app_version: src.appVersion,
      engine: src.store.dialect,
      migration,
      key_id: secretKeyId(src.secretKey),
      tables,
      files,
    };
    await writeFile(join(stage, MANIFEST_NAME), JSON.stringify(manifest, null, 2) + '\n');
    const path = join(work, 'backup.tar.gz');
    await packArchive(stage, [MANIFEST_NAME, ...Object.values(tables).map((t) => t.file), ...files.map((f) => f.path)], path);
    // Open, then delete: the open descriptor keeps the data readable (POSIX), and no
    // staging files outlive the request even if the client disconnects mid-download.
    const handle = await open(path, 'r');
    const { size } = await handle.stat();
    await cleanup();
    return { stream: handle.createReadStream(), size, manifest };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

async function dumpTables(store: Store, stage: string): Promise<{ tables: Record<string, ManifestTable>; migration: string | null }> {
  let trx = store.db.transaction();
  // PostgreSQL's default READ COMMITTED would let each SELECT see later commits.
  if (store.dialect === 'postgres') trx = trx.setIsolationLevel('repeatable read');
  return trx.execute(async (tx) => {
    const tables: Record<string, ManifestTable> = {};
    for (const t of BACKUP_TABLES) {
      const file = tableFile(t.name);
      const out = createWriteStream(join(stage, file));
      const hash = createHash('sha256');
      let rows = 0;
      for await (const batch of readTable(tx, t)) {
        let chunk = '';
        for (const row of batch) chunk += JSON.stringify(row) + '\n';
        hash.update(chunk);
        rows += batch.length;
        if (!out.write(chunk)) await once(out, 'drain');
      }
      out.end();
      await once(out, 'finish');
      tables[t.name] = { file, rows, sha256: hash.digest('hex') };
    }
    return { tables, migration: await lastMigrationName(tx) };
  });
}

/**
 * Hard-links every regular file of the media dir into the stage (a copy when links are not
 * possible), so files written after this point do not change the archive. Symlinks and
 * other special files are skipped: restore would refuse them anyway.
 */
async function snapshotMedia(mediaRoot: string, stage: string): Promise<ManifestFile[]> {
  const files: ManifestFile[] = [];
  const walk = async (rel: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(join(mediaRoot, rel), { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && rel === '') return;
      throw err;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const childRel = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) {
        await walk(childRel);
        continue;
      }
      if (!e.isFile()) continue;
      const from = join(mediaRoot, childRel);
      const path = `${MEDIA_DIR}/${childRel}`;
      const to = join(stage, path);
      await mkdir(dirname(to), { recursive: true });
      await link(from, to).catch(() => copyFile(from, to));
      files.push({ path, ...(await hashFile(to)) });
    }
  };
  await walk('');
  return files;
}

async function hashFile(path: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256: hash.digest('hex') };
}
