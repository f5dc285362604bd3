/**
 * The backup container: a gzip-compressed POSIX tar (tar-stream + zlib). Packing reads
 * files from a staging directory; unpacking writes into one and refuses anything that could
 * escape it or is not part of the format (links, devices, absolute or `..` paths).
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import tar from 'tar-stream';
import { BackupError } from './backup-errors.ts';
import { MANIFEST_NAME } from './backup-manifest.ts';

/** Stored media (voicemails, recordings, MOH) lives under `<dataDir>/media/` and travels as `media/…`. */
export const MEDIA_DIR = 'media';

/** Counts and hashes bytes flowing through, without copying them. */
export class HashCounter extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;

  constructor(private readonly limit = Number.POSITIVE_INFINITY, private readonly onLimit?: () => Error) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) return cb(this.onLimit?.() ?? new Error('size limit exceeded'));
    this.hash.update(chunk);
    cb(null, chunk);
  }
}

/** Writes `dir/<name>` for each name, in order, into a .tar.gz at `out`. */
export async function packArchive(dir: string, names: string[], out: string): Promise<void> {
  const pack = tar.pack();
  const writing = pipeline(pack, createGzip({ level: 6 }), createWriteStream(out));
  try {
    for (const name of names) {
      const file = join(dir, name);
      const { size, mtime } = await stat(file);
      await pipeline(createReadStream(file), pack.entry({ name, size, mtime, mode: 0o644, type: 'file' }));
    }
    pack.finalize();
  } catch (err) {
    pack.destroy(err as Error);
    await writing.catch(() => {});
    throw err;
  }
  await writing;
}

const TABLE_ENTRY = /^db\/[a-z][a-z0-9_]*\.jsonl$/;
// One path segment of a media file: printable, no separators, not "." or "..".
const SEGMENT = /^(?!\.\.?$)[^/\\\u0000-\u001f]+$/;

/**
 * The entry names the format allows: `manifest.json`, `db/<table>.jsonl` and
 * `media/<relative path>`. Returns the name without a directory's trailing slash, or null.
 */
export function safeEntryName(name: string, type: string): string | null {
  const n = type === 'directory' ? name.replace(/\/+$/, '') : name;
  if (n === '' || n.startsWith('/') || /^[A-Za-z]:/.test(n)) return null;
  const segments = n.split('/');
  if (!segments.every((s) => SEGMENT.test(s))) return null;
  if (type === 'directory') return n === 'db' || segments[0] === MEDIA_DIR ? n : null;
  if (type !== 'file') return null;
  if (n === MANIFEST_NAME || TABLE_ENTRY.test(n)) return n;
  return segments[0] === MEDIA_DIR && segments.length > 1 ? n : null;
}

export interface ExtractedFile {
  size: number;
  sha256: string;
}

/**
 * Unpacks a .tar.gz into `dir` (which must be empty), hashing every file. Throws a
 * BackupError on a damaged archive, a forbidden entry, a duplicate, or when more than
 * `maxBytes` would be written (a gzip bomb stops there).
 */
export async function extractArchive(input: Readable, dir: string, maxBytes: number): Promise<Map<string, ExtractedFile>> {
  const files = new Map<string, ExtractedFile>();
  const extract = tar.extract();
  const feeding = pipeline(input, createGunzip(), extract);
  // Awaited below; a gzip error can also surface first through the entry loop.
  feeding.catch(() => {});
  let total = 0;
  try {
    for await (const entry of extract) {
      const h = entry.header;
      const name = safeEntryName(h.name, h.type ?? 'file');
      if (name === null) throw new BackupError('backup_unsafe_entry', `${h.type} "${h.name}"`);
      if (h.type === 'directory') {
        entry.resume();
        continue;
      }
      if (files.has(name)) throw new BackupError('backup_unsafe_entry', `duplicate entry "${name}"`);
      const target = join(dir, name);
      await mkdir(dirname(target), { recursive: true });
      const counter = new HashCounter(maxBytes - total, () => new BackupError('backup_too_large', `more than ${maxBytes} bytes`));
      // 'wx': never follow or overwrite something already there.
      await pipeline(entry, counter, createWriteStream(target, { flags: 'wx', mode: 0o600 }));
      total += counter.bytes;
      files.set(name, { size: counter.bytes, sha256: counter.hash.digest('hex') });
    }
    await feeding;
  } catch (err) {
    if (err instanceof BackupError) throw err;
    throw new BackupError('backup_corrupt', (err as Error).message, { cause: err });
  }
  return files;
}
