import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../../helpers/databases.ts';
import { migrateToLatest, openStore, type Store } from '../../../src/store/database.ts';
import { createSecretBox } from '../../../src/store/secret-box.ts';
import {
  deleteCallNumber, findCallNumber, insertCallNumber, replaceSyncedNumbers, updateCallNumber, type CallNumberFields,
} from '../../../src/store/call-numbers.ts';

// findCallNumber answers "not an app's number" from a cached set of numbers (one query per
// INVITE saved): every write through the module must be seen by the very next lookup.
describe('findCallNumber and the cached number set (src/store/call-numbers.ts)', () => {
  let tdb: TestDatabase;
  let store: Store;
  const box = createSecretBox(randomBytes(32));
  const fields = (number: string): CallNumberFields => ({
    number, app_id: 'app_1', subnets: ['127.0.0.1/32'], auth: null, hook: null, hook_content_type: 'Json',
    sip_server: null, sip_proxy: null, sip_auth: null,
  });

  before(async () => {
    tdb = await createTestDatabase('sqlite');
    store = openStore(tdb.url);
    await migrateToLatest(store);
  });
  after(async () => {
    await store?.close();
    await tdb?.cleanup();
  });

  test('insert, rename, delete: each lookup right after a write sees it', async () => {
    assert.equal(await findCallNumber(store.db, box, '+15550001'), undefined); // the set is loaded (empty) here
    const row = await insertCallNumber(store.db, box, fields('+15550001'));
    assert.ok(row);
    assert.equal((await findCallNumber(store.db, box, '+15550001'))?.id, row.id);

    const renamed = await updateCallNumber(store.db, box, row.id, { number: '+15550002' });
    assert.ok(renamed && renamed !== 'conflict');
    assert.equal(await findCallNumber(store.db, box, '+15550001'), undefined);
    assert.equal((await findCallNumber(store.db, box, '+15550002'))?.id, row.id);

    assert.equal(await deleteCallNumber(store.db, row.id), true);
    assert.equal(await findCallNumber(store.db, box, '+15550002'), undefined);
  });

  test('synced numbers replaced as a set are found at once, and the removed ones are gone', async () => {
    await replaceSyncedNumbers(store.db, box, [fields('+15550010'), fields('+15550011')]);
    assert.equal((await findCallNumber(store.db, box, '+15550011'))?.synced, true);
    await replaceSyncedNumbers(store.db, box, [fields('+15550012')]);
    assert.equal(await findCallNumber(store.db, box, '+15550011'), undefined);
    assert.equal((await findCallNumber(store.db, box, '+15550012'))?.number, '+15550012');
  });

  test('a row written behind the module\'s back (another process, a restore) is found within two seconds', async () => {
    assert.equal(await findCallNumber(store.db, box, '+15550020'), undefined);
    await store.db.insertInto('call_numbers').values({
      number: '+15550020', app_id: 'app_1', subnets: '[]', hook_content_type: 'Json', synced: 0,
      created_at: new Date().toISOString(), updated_at: new Date().toISOString(),
    }).execute();
    const t0 = Date.now();
    while ((await findCallNumber(store.db, box, '+15550020')) === undefined) {
      assert.ok(Date.now() - t0 < 3_000, 'not found within 3 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  });
});
