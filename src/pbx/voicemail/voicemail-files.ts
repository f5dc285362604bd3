/**
 * Voicemail messages as files plus rows, kept consistent through crashes, and the one place
 * that announces `pbx.voicemail.changed` after a write.
 *
 * Layout: a recording in progress is `<data dir>/tmp/voicemail-<uuid>.wav` (same file system
 * as the media dir, so the final rename is atomic); a stored message is
 * `<data dir>/media/voicemail/<kind>-<id>/<uuid>.wav`, the path the row names relative to
 * `<data dir>/media` (backups carry the media dir and the rows together).
 *
 * Crash safety of `store` — the order is: recorder finished and file fsynced → rename to the
 * final name → directory fsynced → row inserted. A crash before the rename leaves a temp
 * file; a crash between rename and insert leaves a final file no row names; both are removed
 * by `sweep` at the next start (before calls are taken). So after a restart there is either
 * a complete message (row and whole file) or nothing: never a row without its file, nor a
 * file without its row. (A row whose file was removed by hand afterwards is reported by the
 * API as 410, not hidden.)
 */
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { dirname, join, relative, sep } from 'node:path';
import type { Logger } from 'pino';
import type { Db } from '../../store/db.ts';
import type { EventBus, VoicemailChanged } from '../../events.ts';
import type { VoicemailRow } from '../../store/schema.ts';
import {
  deleteVoicemail, insertVoicemail, markVoicemailRead, voicemailFilePaths, type NewVoicemail,
} from '../../store/voicemails.ts';

const TEMP_PREFIX = 'voicemail-';
const FOLDER = 'voicemail';

export interface VoicemailFilesOptions {
  db: Db;
  events: EventBus;
  dataDir: string;
  logger: Logger;
}

export class VoicemailFiles {
  /** `<data dir>/media`: stored paths are relative to it. */
  readonly mediaRoot: string;
  private readonly tmpDir: string;
  private readonly log: Logger;

  constructor(private readonly o: VoicemailFilesOptions) {
    this.mediaRoot = join(o.dataDir, 'media');
    this.tmpDir = join(o.dataDir, 'tmp');
    this.log = o.logger.child({ component: 'voicemail' });
  }

  /** Where a message's audio is on disk. */
  absolutePath(row: Pick<VoicemailRow, 'file_path'>): string {
    return join(this.mediaRoot, row.file_path);
  }

  /** A fresh temp path for a recording about to start (its directory exists). */
  async tempPath(): Promise<string> {
    await mkdir(this.tmpDir, { recursive: true });
    return join(this.tmpDir, `${TEMP_PREFIX}${randomUUID()}.wav`);
  }

  /** Drops a recording that will not become a message (too short, hung up in the greeting). */
  async discard(tempPath: string): Promise<void> {
    await rm(tempPath, { force: true });
  }

  /**
   * Turns a finished recording into a stored message (see the module comment for the order)
   * and announces it. `format` describes the file, e.g. `wav`.
   */
  async store(tempPath: string, meta: Omit<NewVoicemail, 'filePath' | 'size' | 'format'>, format: string): Promise<VoicemailRow> {
    await fsyncPath(tempPath);
    const rel = [FOLDER, `${meta.mailbox.kind}-${meta.mailbox.id}`, `${randomUUID()}.wav`].join('/');
    const finalPath = join(this.mediaRoot, rel);
    await mkdir(dirname(finalPath), { recursive: true });
    const { size } = await stat(tempPath);
    await rename(tempPath, finalPath);
    await fsyncPath(dirname(finalPath));
    let row: VoicemailRow;
    try {
      row = await insertVoicemail(this.o.db, { ...meta, filePath: rel, size, format });
    } catch (err) {
      await rm(finalPath, { force: true });
      throw err;
    }
    this.announce(row, 'added');
    return row;
  }

  /** Marks a message read or new; undefined when there is no such message. */
  async markRead(id: number, read: boolean): Promise<VoicemailRow | undefined> {
    const row = await markVoicemailRead(this.o.db, id, read);
    if (row) this.announce(row, 'read');
    return row;
  }

  /**
   * Deletes a message: the row first (from then on it does not exist for anyone), then the
   * file; a file that is already gone is fine. Undefined when the row was already gone.
   */
  async remove(id: number): Promise<VoicemailRow | undefined> {
    const row = await deleteVoicemail(this.o.db, id);
    if (!row) return undefined;
    await rm(this.absolutePath(row), { force: true }).catch((err: unknown) => this.log.warn({ err, id }, 'voicemail file not removed'));
    this.announce(row, 'deleted');
    return row;
  }

  /**
   * Start-up sweep: removes recordings a crash interrupted and stored files no row names.
   * Run it before SIP takes calls (a recording in progress would look like an orphan).
   */
  async sweep(): Promise<{ temps: number; orphans: number }> {
    const temps = (await readdir(this.tmpDir).catch(() => [] as string[])).filter((n) => n.startsWith(TEMP_PREFIX));
    await Promise.all(temps.map((n) => rm(join(this.tmpDir, n), { force: true })));
    const known = await voicemailFilePaths(this.o.db);
    let orphans = 0;
    for (const file of await listFiles(join(this.mediaRoot, FOLDER))) {
      const rel = relative(this.mediaRoot, file).split(sep).join('/');
      if (known.has(rel)) continue;
      await rm(file, { force: true });
      orphans++;
    }
    if (temps.length + orphans > 0) this.log.warn({ temps: temps.length, orphans }, 'voicemail: removed files of interrupted recordings');
    return { temps: temps.length, orphans };
  }

  private announce(row: VoicemailRow, reason: VoicemailChanged['reason']): void {
    this.o.events.emit('pbx.voicemail.changed', { mailbox: row.mailbox, device_id: row.device_id, did_id: row.did_id, voicemail_id: row.id, reason });
  }
}

async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...await listFiles(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}
