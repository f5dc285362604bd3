import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import pino from 'pino';
import { createTestDatabase, type TestDatabase } from '../../helpers/databases.ts';
import { migrateToLatest, openStore, type Store } from '../../../src/store/database.ts';
import { createSecretBox } from '../../../src/store/secret-box.ts';
import { insertMohFile } from '../../../src/store/moh-files.ts';
import { cleanFilename, MohService } from '../../../src/pbx/moh.ts';
import { MohRejectedError, MohUnknownFileError } from '../../../src/pbx/moh-errors.ts';
import { DEFAULT_MOH_FILENAME } from '../../../src/pbx/moh-default.ts';

describe('MohService (src/pbx/moh.ts)', () => {
  let tdb: TestDatabase;
  let store: Store;
  let moh: MohService;
  const logged: Array<{ msg: string }> = [];

  before(async () => {
    tdb = await createTestDatabase('sqlite');
    store = openStore(tdb.url);
    await migrateToLatest(store);
    const logger = pino({ level: 'error' }, { write: (line: string) => { logged.push(JSON.parse(line)); } });
    moh = new MohService({ db: store.db, box: createSecretBox(randomBytes(32)), dataDir: tdb.dataDir, limits: { maxBytes: 4096, maxSeconds: 5 }, logger });
  });
  after(async () => {
    await store?.close();
    await tdb?.cleanup();
  });

  test('currentMohFile: default generated on first use; null when disabled', async () => {
    assert.equal(await moh.currentMohFile(), join(tdb.dataDir, 'moh', DEFAULT_MOH_FILENAME));
    assert.ok(existsSync(join(tdb.dataDir, 'moh', DEFAULT_MOH_FILENAME)));
    await moh.update({ enabled: false });
    assert.equal(await moh.currentMohFile(), null);
    await moh.update({ enabled: true });
  });

  test('an uploaded file missing on disk: the default plays and an error is logged', async () => {
    const row = await insertMohFile(store.db, {
      name: 'x', originalFilename: 'x.mp3', originalFormat: 'mp3', originalCodec: 'mp3', originalSampleRate: 8000,
      originalChannels: 1, originalSize: 1, durationMs: 1000, sampleRate: 16000, size: 32044,
    });
    await moh.update({ source: String(row.id) });
    assert.equal(await moh.currentMohFile(), join(tdb.dataDir, 'moh', DEFAULT_MOH_FILENAME));
    assert.ok(logged.some((l) => /missing on disk/.test(l.msg)));
    mkdirSync(moh.uploadDir, { recursive: true });
    writeFileSync(moh.filePath(row.id), 'RIFF');
    assert.equal(await moh.currentMohFile(), join(tdb.dataDir, 'media', 'moh', `${row.id}.wav`));
  });

  test('update refuses an unknown file id and changes nothing', async () => {
    const before = await moh.state();
    await assert.rejects(moh.update({ enabled: false, source: '777' }), MohUnknownFileError);
    await assert.rejects(moh.update({ source: 'NaN' }), MohUnknownFileError);
    assert.deepEqual(await moh.state(), before);
  });

  test('an upload over maxBytes is refused without running ffmpeg and leaves no work directory', async () => {
    const big = Readable.from([Buffer.alloc(3000), Buffer.alloc(3000)]);
    await assert.rejects(moh.upload({ stream: big, filename: 'big.wav' }), (err: unknown) => err instanceof MohRejectedError && err.code === 'moh_too_large');
    assert.deepEqual(readdirSync(join(tdb.dataDir, 'tmp')).filter((n) => n.startsWith('moh-')), []);
  });

  test('sweepTemp removes work directories a crash left behind, and nothing else', async () => {
    mkdirSync(join(tdb.dataDir, 'tmp', 'moh-abc123'), { recursive: true });
    mkdirSync(join(tdb.dataDir, 'tmp', 'backup-keep'), { recursive: true });
    await moh.sweepTemp();
    assert.deepEqual(readdirSync(join(tdb.dataDir, 'tmp')).sort(), ['backup-keep']);
  });

  test('cleanFilename keeps a printable base name only', () => {
    assert.equal(cleanFilename('../../etc/passwd'), 'passwd');
    assert.equal(cleanFilename('C:\\music\\hold me.mp3'), 'hold me.mp3');
    assert.equal(cleanFilename('bad\u0000\u001bname.ogg'), 'badname.ogg');
    assert.equal(cleanFilename(''), 'upload');
    assert.equal(cleanFilename('a'.repeat(500)).length, 200);
  });
});
