/**
 * Repositories that took over the queries the API, the call router and setup used to write
 * themselves (issue 10, "no Kysely query outside src/store/"): the rows they return, on
 * every backend.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ENGINES, createTestDatabase, type TestDatabase } from '../../helpers/databases.ts';
import { migrateToLatest, openStore, type Store } from '../../../src/store/database.ts';
import { createSecretBox } from '../../../src/store/secret-box.ts';
import { deviceCallerId, deviceIdsOfUser, insertDevice } from '../../../src/store/devices.ts';
import { insertUser, listDndUserIds, updateUser } from '../../../src/store/users.ts';
import { insertBlocklistEntry, listBlockedNumbers } from '../../../src/store/blocklist.ts';
import { isSetupComplete, markSetupComplete } from '../../../src/store/system-config.ts';
import { inTransaction } from '../../../src/store/in-transaction.ts';

for (const engine of ENGINES) {
  describe(`store repositories of the router, registrations API and setup (${engine})`, () => {
    let tdb: TestDatabase;
    let store: Store;
    const box = createSecretBox(randomBytes(32));

    before(async () => {
      tdb = await createTestDatabase(engine);
      store = openStore(tdb.url, { schema: tdb.schema });
      await migrateToLatest(store);
    });
    after(async () => { await store?.close(); await tdb?.cleanup(); });

    const device = (username: string, userId: number | null, callerId: string | null) =>
      insertDevice(store.db, box, { name: username, username, password: 'pw', type: 'generic', userId, callerId, dndEnabled: false }).then((r) => r!.id);

    test('deviceIdsOfUser: only that user\'s devices; deviceCallerId: the column, null when unset or unknown', async () => {
      const alice = await insertUser(store.db, { email: 'alice@example.com', password_hash: 'x', role: 'user' });
      const bob = await insertUser(store.db, { email: 'bob@example.com', password_hash: 'x', role: 'user' });
      const a1 = await device('a1', alice.id, '+15550001111');
      const a2 = await device('a2', alice.id, null);
      await device('b1', bob.id, null);
      await device('nobody', null, null);
      assert.deepEqual((await deviceIdsOfUser(store.db, alice.id)).sort((x, y) => x - y), [a1, a2]);
      assert.deepEqual(await deviceIdsOfUser(store.db, alice.id + bob.id + 100), []);
      assert.equal(await deviceCallerId(store.db, a1), '+15550001111');
      assert.equal(await deviceCallerId(store.db, a2), null);
      assert.equal(await deviceCallerId(store.db, a1 + 1000), null);
    });

    test('listDndUserIds: exactly the users whose flag is on', async () => {
      const c = await insertUser(store.db, { email: 'carol@example.com', password_hash: 'x', role: 'user' });
      const d = await insertUser(store.db, { email: 'dave@example.com', password_hash: 'x', role: 'user' });
      assert.deepEqual(await listDndUserIds(store.db), []);
      await updateUser(store.db, c.id, { dnd_enabled: 1 });
      assert.deepEqual(await listDndUserIds(store.db), [c.id]);
      await updateUser(store.db, d.id, { dnd_enabled: 1 });
      await updateUser(store.db, c.id, { dnd_enabled: 0 });
      assert.deepEqual(await listDndUserIds(store.db), [d.id]);
    });

    test('listBlockedNumbers: exact numbers and patterns alike', async () => {
      assert.deepEqual(await listBlockedNumbers(store.db), []);
      await insertBlocklistEntry(store.db, { phoneNumber: '+15550666666', reason: null });
      await insertBlocklistEntry(store.db, { phoneNumber: '+1900*', reason: 'premium' });
      assert.deepEqual((await listBlockedNumbers(store.db)).sort(), ['+15550666666', '+1900*']);
    });

    test('markSetupComplete writes the marker once; a rolled-back mark leaves setup open', async () => {
      assert.equal(await isSetupComplete(store.db), false);
      await assert.rejects(inTransaction(store.db, async (tx) => {
        assert.equal(await markSetupComplete(tx), true);
        throw new Error('admin insert failed');
      }), /admin insert failed/);
      assert.equal(await isSetupComplete(store.db), false);
      assert.equal(await markSetupComplete(store.db), true);
      assert.equal(await markSetupComplete(store.db), false, 'second caller loses');
      assert.equal(await isSetupComplete(store.db), true);
    });
  });
}
