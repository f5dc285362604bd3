/**
 * A migrated store with device 1 and a `media/voicemail` directory, for tests of what happens to
 * a stored voicemail (transcription, mail), and spoken test messages made with espeak-ng + sox.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { openMigratedStore, type TestDatabase } from './databases.ts';
import type { Store } from '../../src/store/database.ts';

export interface VoicemailStore {
  tdb: TestDatabase;
  store: Store;
  /** `<data dir>/media`: file paths of rows are relative to it. */
  media: string;
  close(): Promise<void>;
}

export async function openVoicemailStore(engine: 'sqlite' | 'postgres'): Promise<VoicemailStore> {
  const { tdb, store, close } = await openMigratedStore(engine);
  await store.db.insertInto('devices').values({ name: 'p', username: '1001', password_enc: 'x', type: 'generic', user_id: null, caller_id: null, created_at: '2026-12-04T00:00:00.000Z', updated_at: '2026-12-04T00:00:00.000Z' }).execute();
  const media = path.join(tdb.dataDir, 'media');
  mkdirSync(path.join(media, 'voicemail'), { recursive: true });
  return { tdb, store, media, close };
}

/** Speaks `sentence` into `media/voicemail/<name>` (16-bit mono at `rate`); returns the row's file path. */
export function speechWav(media: string, name: string, sentence: string, rate: number): string {
  const raw = path.join(media, 'voicemail', `${name}.raw.wav`);
  execFileSync('espeak-ng', ['-v', 'en-us', '-s', '140', '-w', raw, sentence]);
  execFileSync('sox', ['-R', raw, '-r', String(rate), '-c', '1', '-b', '16', path.join(media, 'voicemail', name)]);
  rmSync(raw);
  return `voicemail/${name}`;
}
