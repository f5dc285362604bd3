import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ENGINES, type TestDatabase, useMigratedStore } from '../../helpers/databases.ts';
import { type Store } from '../../../src/store/database.ts';
import { createSecretBox } from '../../../src/store/secret-box.ts';
import { deleteMohFile, findMohFileById, getMohSettings, insertMohFile, listMohFiles, setMohSettings, type NewMohFile } from '../../../src/store/moh-files.ts';

const box = createSecretBox(randomBytes(32));
const T0 = Date.parse('2026-03-10T09:00:00.000Z');

const file = (name: string): NewMohFile => ({
  name, originalFilename: `${name}.mp3`, originalFormat: 'mp3', originalCodec: 'mp3', originalSampleRate: 44100,
  originalChannels: 2, originalSize: 48_000, durationMs: 3030, sampleRate: 16000, size: 96_988,
});

for (const engine of ENGINES) {
  describe(`moh store: files and setting (${engine})`, () => {
    let tdb: TestDatabase;
    let store: Store;

    useMigratedStore(engine, (s, d) => { store = s; tdb = d; });

    test('a fresh install: MOH on, default source, no files', async () => {
      assert.deepEqual(await getMohSettings(store.db, box), { enabled: true, source: 'default' });
      assert.deepEqual(await listMohFiles(store.db, 50, 0), { rows: [], total: 0 });
    });

    test('insert returns the row with every column; find and list read it back', async () => {
      const row = await insertMohFile(store.db, file('jazz'), T0);
      assert.deepEqual({ ...row, id: 0 }, {
        id: 0, name: 'jazz', original_filename: 'jazz.mp3', original_format: 'mp3', original_codec: 'mp3',
        original_sample_rate: 44100, original_channels: 2, original_size: 48_000, duration_ms: 3030,
        sample_rate: 16000, size: 96_988, created_at: '2026-03-10T09:00:00.000Z',
      });
      assert.deepEqual(await findMohFileById(store.db, row.id), row);
      const second = await insertMohFile(store.db, file('piano'), T0 + 1000);
      const all = await listMohFiles(store.db, 50, 0);
      assert.equal(all.total, 2);
      assert.deepEqual(all.rows.map((r) => r.name), ['jazz', 'piano']);
      assert.deepEqual((await listMohFiles(store.db, 1, 1)).rows.map((r) => r.id), [second.id]);
    });

    test('setting: partial updates keep the other field', async () => {
      await setMohSettings(store.db, box, { enabled: false });
      assert.deepEqual(await getMohSettings(store.db, box), { enabled: false, source: 'default' });
      await setMohSettings(store.db, box, { source: '1' });
      assert.deepEqual(await getMohSettings(store.db, box), { enabled: false, source: '1' });
      await setMohSettings(store.db, box, { enabled: true });
      assert.deepEqual(await getMohSettings(store.db, box), { enabled: true, source: '1' });
    });

    test('deleting a file not in use leaves the setting; deleting the one in use resets it to default', async () => {
      const { rows } = await listMohFiles(store.db, 50, 0);
      const [inUse, other] = rows;
      await setMohSettings(store.db, box, { source: String(inUse!.id) });
      const r1 = await store.db.transaction().execute((tx) => deleteMohFile(tx, box, other!.id));
      assert.equal(r1?.wasInUse, false);
      assert.equal(r1?.row.name, other!.name);
      assert.equal((await getMohSettings(store.db, box)).source, String(inUse!.id));
      const r2 = await store.db.transaction().execute((tx) => deleteMohFile(tx, box, inUse!.id));
      assert.equal(r2?.wasInUse, true);
      assert.deepEqual(await getMohSettings(store.db, box), { enabled: true, source: 'default' });
      assert.equal(await findMohFileById(store.db, inUse!.id), undefined);
      assert.equal(await store.db.transaction().execute((tx) => deleteMohFile(tx, box, inUse!.id)), undefined);
      assert.equal((await listMohFiles(store.db, 50, 0)).total, 0);
    });

    test('the setting lives in system_config as plain (unsealed) rows', async () => {
      const rows = await store.db.selectFrom('system_config').select(['key', 'value', 'encrypted']).where('key', 'like', 'moh_%').orderBy('key').execute();
      assert.deepEqual(rows, [{ key: 'moh_enabled', value: 'true', encrypted: 0 }, { key: 'moh_source', value: 'default', encrypted: 0 }]);
    });
  });
}
