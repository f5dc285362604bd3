/**
 * Music on hold: the setting (on/off, which source), the uploaded files, and the answer
 * the hold feature needs — which WAV to play right now (`currentMohFile`).
 *
 * Files on disk (`<data dir>` = STROWGER_DATA_DIR):
 * - uploads: `media/moh/<id>.wav`, under the media dir so backups carry them with their
 *   `moh_files` rows and a restore brings both back together;
 * - the generated default: `moh/default-v<N>.wav` (rebuilt on demand, so not backed up);
 * - work files: `tmp/moh-XXXXXX/` (same filesystem as `media/`, so the final rename is
 *   atomic), removed whatever happens; leftovers of a crash are swept at start.
 *
 * Uploads are converted one at a time: ffmpeg would otherwise compete with the media
 * workers for the same cores.
 */
import { EventEmitter } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { DB, MohFileRow } from '../store/schema.ts';
import type { SecretBox } from '../store/secret-box.ts';
import {
  DEFAULT_MOH_SOURCE, deleteMohFile, findMohFileById, getMohSettings, insertMohFile, listMohFiles, setMohSettings, type MohSettings,
} from '../store/moh-files.ts';
import { ensureDefaultMoh } from './moh-default.ts';
import { MohRejectedError, MohUnknownFileError } from './moh-errors.ts';
import { DEFAULT_MOH_TOOLS, type MohTools } from './moh-ffmpeg.ts';
import { inspectMohUpload, type MohInspection, type MohLimits } from './moh-inspect.ts';
import { MOH_SAMPLE_RATE } from './moh-format.ts';

export type { MohSettings } from '../store/moh-files.ts';

export interface MohServiceOptions {
  db: Kysely<DB>;
  box: SecretBox;
  dataDir: string;
  limits: MohLimits;
  logger: Logger;
  /** ffmpeg/ffprobe binaries and timeouts (default: from PATH, 15 s probe, 120 s convert). */
  tools?: MohTools;
}

/** An upload as the HTTP layer hands it over. */
export interface MohUpload {
  stream: Readable;
  /** The client's file name: kept as information only, never used as a path. */
  filename: string;
  /** Display name; defaults to the file name without its extension. */
  name?: string;
}

/** The settings, with the uploaded file they name (null for `default`). */
export interface MohState extends MohSettings {
  file: MohFileRow | null;
}

const MAX_NAME = 200;

/** Printable, bounded, no path: a file name is only ever shown back to people. */
export function cleanFilename(raw: string): string {
  const base = raw.split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const printable = base.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return printable.slice(0, MAX_NAME) || 'upload';
}

export class MohService {
  readonly #db: Kysely<DB>;
  readonly #box: SecretBox;
  readonly #log: Logger;
  readonly #tools: MohTools;
  readonly #events = new EventEmitter();
  readonly limits: MohLimits;
  readonly uploadDir: string;
  readonly defaultDir: string;
  readonly #tmpDir: string;
  /** Serialises conversions (see the module comment). */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(opts: MohServiceOptions) {
    this.#db = opts.db;
    this.#box = opts.box;
    this.#log = opts.logger.child({ component: 'moh' });
    this.#tools = opts.tools ?? DEFAULT_MOH_TOOLS;
    this.limits = opts.limits;
    this.uploadDir = join(opts.dataDir, 'media', 'moh');
    this.defaultDir = join(opts.dataDir, 'moh');
    this.#tmpDir = join(opts.dataDir, 'tmp');
  }

  /** Absolute path of an uploaded file's WAV. */
  filePath(id: number): string {
    return join(this.uploadDir, `${id}.wav`);
  }

  /**
   * The WAV the hold feature should play now (absolute path; 16 kHz mono 16-bit PCM), or
   * null when MOH is disabled. The default MOH is generated on first use. An uploaded file
   * that vanished from disk falls back to the default, with an error logged.
   *
   * @example
   *   const wav = await moh.currentMohFile();
   *   if (wav) player.play(wav, { loop: true });
   */
  async currentMohFile(): Promise<string | null> {
    const s = await getMohSettings(this.#db, this.#box);
    if (!s.enabled) return null;
    if (s.source !== DEFAULT_MOH_SOURCE) {
      const path = this.filePath(Number(s.source));
      const st = await stat(path).catch(() => null);
      if (st?.isFile()) return path;
      this.#log.error({ source: s.source, path }, 'music-on-hold file missing on disk: playing the default instead');
    }
    return ensureDefaultMoh(this.defaultDir);
  }

  /** Called after every change of the setting (PUT, or deletion of the file in use). Returns an unsubscribe. */
  onChange(listener: (settings: MohSettings) => void): () => void {
    this.#events.on('change', listener);
    return () => this.#events.off('change', listener);
  }

  async state(): Promise<MohState> {
    const s = await getMohSettings(this.#db, this.#box);
    const file = s.source === DEFAULT_MOH_SOURCE ? null : (await findMohFileById(this.#db, Number(s.source))) ?? null;
    return { ...s, file };
  }

  /** Changes the setting; throws MohUnknownFileError when `source` names no uploaded file. */
  async update(patch: Partial<MohSettings>): Promise<MohState> {
    const settings = await this.#db.transaction().execute(async (tx) => {
      if (patch.source !== undefined && patch.source !== DEFAULT_MOH_SOURCE) {
        const id = Number(patch.source);
        if (!Number.isSafeInteger(id) || id < 1 || !(await findMohFileById(tx, id))) throw new MohUnknownFileError(patch.source);
        patch = { ...patch, source: String(id) };
      }
      await setMohSettings(tx, this.#box, patch);
      return getMohSettings(tx, this.#box);
    });
    this.#emit(settings);
    return this.state();
  }

  list(limit: number, offset: number): Promise<{ rows: MohFileRow[]; total: number }> {
    return listMohFiles(this.#db, limit, offset);
  }

  find(id: number): Promise<MohFileRow | undefined> {
    return findMohFileById(this.#db, id);
  }

  /** Deletes an upload (row, then file); the setting falls back to `default` if it was in use. False: no such file. */
  async delete(id: number): Promise<boolean> {
    const r = await this.#db.transaction().execute((tx) => deleteMohFile(tx, this.#box, id));
    if (!r) return false;
    await unlink(this.filePath(id)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') this.#log.error({ err, id }, 'could not remove a deleted music-on-hold file');
    });
    if (r.wasInUse) this.#emit(await getMohSettings(this.#db, this.#box));
    return true;
  }

  /**
   * Checks an upload without keeping anything: every check `upload` makes, including the
   * conversion. Bad files are reported in `problems`, not thrown.
   */
  async validate(upload: MohUpload): Promise<MohInspection & { size: number }> {
    return this.#withUpload(upload.stream, async (path, size, tooLarge, work) => ({
      ...(await inspectMohUpload(this.#tools, path, work, this.limits, tooLarge)),
      size,
    }));
  }

  /**
   * Converts and stores an upload; throws MohRejectedError (nothing stored, no temporary
   * file left) when it cannot be music on hold.
   */
  async upload(upload: MohUpload): Promise<MohFileRow> {
    return this.#withUpload(upload.stream, async (path, size, tooLarge, work) => {
      const check = await inspectMohUpload(this.#tools, path, work, this.limits, tooLarge);
      if (!check.converted) throw new MohRejectedError(check.problems);
      const converted = check.converted;
      const originalFilename = cleanFilename(upload.filename);
      const name = upload.name?.trim().slice(0, MAX_NAME) || originalFilename.replace(/\.[^.]*$/, '') || originalFilename;
      await mkdir(this.uploadDir, { recursive: true });
      let placed: string | null = null;
      try {
        const row = await this.#db.transaction().execute(async (tx) => {
          const r = await insertMohFile(tx, {
            name, originalFilename, originalFormat: check.format!, originalCodec: check.codec!,
            originalSampleRate: check.sampleRate ?? 0, originalChannels: check.channels ?? 0, originalSize: size,
            durationMs: converted.durationMs, sampleRate: MOH_SAMPLE_RATE, size: converted.size,
          });
          // In place before the commit: a committed row always has its file.
          placed = this.filePath(r.id);
          await rename(converted.path, placed);
          return r;
        });
        this.#log.info({ id: row.id, name, format: row.original_format, duration_ms: row.duration_ms }, 'music-on-hold file stored');
        return row;
      } catch (err) {
        if (placed) await rm(placed, { force: true });
        throw err;
      }
    });
  }

  /** Removes work directories left by a crash (best effort; run once at start). */
  async sweepTemp(): Promise<void> {
    const names = await readdir(this.#tmpDir).catch(() => [] as string[]);
    await Promise.all(names.filter((n) => n.startsWith('moh-')).map((n) => rm(join(this.#tmpDir, n), { recursive: true, force: true })));
  }

  #emit(settings: MohSettings): void {
    try {
      this.#events.emit('change', settings);
    } catch (err) {
      this.#log.error({ err }, 'a music-on-hold change listener failed');
    }
  }

  /**
   * Saves the stream into a fresh work directory (at most `maxBytes` + 1 bytes are written;
   * the rest is read and dropped so the request completes), runs `fn` in the conversion
   * queue, then removes the directory whatever happened.
   */
  async #withUpload<T>(stream: Readable, fn: (path: string, size: number, tooLarge: boolean, work: string) => Promise<T>): Promise<T> {
    await mkdir(this.#tmpDir, { recursive: true });
    const work = await mkdtemp(join(this.#tmpDir, 'moh-'));
    try {
      const path = join(work, 'upload');
      let size = 0;
      const out = createWriteStream(path, { flags: 'wx' });
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          size += chunk.length;
          if (size > this.limits.maxBytes) continue;
          if (!out.write(chunk)) await once(out, 'drain');
        }
      } finally {
        out.end();
        await finished(out).catch(() => {});
      }
      const run = this.#queue.then(() => fn(path, size, size > this.limits.maxBytes, work));
      this.#queue = run.catch(() => {});
      return await run;
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
}
