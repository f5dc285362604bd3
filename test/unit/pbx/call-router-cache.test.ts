import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ENGINES, createTestDatabase, type TestDatabase } from '../../helpers/databases.ts';
import { migrateToLatest, openStore, type Store } from '../../../src/store/database.ts';
import { createSecretBox } from '../../../src/store/secret-box.ts';
import { insertDid, updateDid } from '../../../src/store/dids.ts';
import { insertRoute } from '../../../src/store/routes.ts';
import { insertTrunk, updateTrunk } from '../../../src/store/trunks.ts';
import { insertBlocklistEntry } from '../../../src/store/blocklist.ts';
import { insertUser, updateUser } from '../../../src/store/users.ts';
import { RouterCache } from '../../../src/pbx/call-router-cache.ts';
import { createEventBus } from '../../../src/events.ts';
import type { RestoreResult } from '../../../src/pbx/backup-restore.ts';

for (const engine of ENGINES) {
  describe(`RouterCache (${engine})`, () => {
    let tdb: TestDatabase;
    let store: Store;
    const events = createEventBus();
    let clock = 0;
    let cache: RouterCache;
    const box = createSecretBox(randomBytes(32));

    before(async () => {
      tdb = await createTestDatabase(engine);
      store = openStore(tdb.url, { schema: tdb.schema });
      await migrateToLatest(store);
      cache = new RouterCache({ db: store.db, events, didTtlMs: 2000, now: () => clock });
    });
    after(async () => { cache.close(); await store.close(); await tdb.cleanup(); });

    test('a DID created after a miss is found at once (misses are not cached); hits live for the TTL', async () => {
      assert.equal(await cache.did('+15550001000'), undefined);
      const row = await insertDid(store.db, { phoneNumber: '+15550001000', friendlyName: null, capabilities: ['voice'] });
      assert.equal((await cache.did('+15550001000'))?.id, row!.id);
      await store.db.deleteFrom('dids').where('id', '=', row!.id).execute();
      clock = 1999;
      assert.equal((await cache.did('+15550001000'))?.id, row!.id, 'trusted within the TTL');
      clock = 2001;
      assert.equal(await cache.did('+15550001000'), undefined, 'read again after the TTL');
    });

    test('pbx.dids.changed drops cached DIDs within the TTL: a renumbered DID stops answering on its old number', async () => {
      const row = await insertDid(store.db, { phoneNumber: '+15550001500', friendlyName: null, capabilities: ['voice'] });
      assert.equal((await cache.did('+15550001500'))?.id, row!.id);
      await updateDid(store.db, row!.id, { phoneNumber: '+15550001501' });
      assert.equal((await cache.did('+15550001500'))?.id, row!.id, 'no event: trusted within the TTL');
      events.emit('pbx.dids.changed', { id: row!.id });
      assert.equal(await cache.did('+15550001500'), undefined);
      assert.equal((await cache.did('+15550001501'))?.id, row!.id);
    });

    test('users\' DND kept until pbx.dnd.changed', async () => {
      const u = await insertUser(store.db, { email: 'dnd@example.com', password_hash: 'x', role: 'user' });
      assert.equal((await cache.dndUsers()).has(u.id), false);
      await updateUser(store.db, u.id, { dnd_enabled: 1 });
      assert.equal((await cache.dndUsers()).has(u.id), false, 'no event, no reload');
      events.emit('pbx.dnd.changed', { user_id: u.id, device_id: null, enabled: true });
      assert.equal((await cache.dndUsers()).has(u.id), true);
    });

    test('routes stay cached until routes:changed names their DID', async () => {
      const did = await insertDid(store.db, { phoneNumber: '+15550002000', friendlyName: null, capabilities: ['voice'] });
      assert.deepEqual(await cache.routesFor(did!.id), []);
      await insertRoute(store.db, { name: 'r', didId: did!.id, enabled: true, conditions: {}, action: 'forward', actionData: { number: '+15559990000' } });
      assert.deepEqual(await cache.routesFor(did!.id), [], 'no event, no reload');
      events.emit('pbx.routes.changed', { did_ids: [did!.id + 1] });
      assert.deepEqual(await cache.routesFor(did!.id), [], 'another DID changed');
      events.emit('pbx.routes.changed', { did_ids: [did!.id] });
      assert.deepEqual((await cache.routesFor(did!.id)).map((r) => r.name), ['r']);
    });

    test('blocklist split into exact numbers and patterns, reloaded on blocklist:changed', async () => {
      assert.deepEqual(await cache.blocklistSnapshot(), { exact: new Set(), patterns: [] });
      await insertBlocklistEntry(store.db, { phoneNumber: '+15550666666', reason: null });
      await insertBlocklistEntry(store.db, { phoneNumber: '+1900*', reason: null });
      assert.equal((await cache.blocklistSnapshot()).exact.size, 0, 'no event, no reload');
      events.emit('pbx.blocklist.changed', {});
      assert.deepEqual(await cache.blocklistSnapshot(), { exact: new Set(['+15550666666']), patterns: ['+1900*'] });
    });

    test('enabled trunks and the default one, reloaded on trunk:changed and system.restored', async () => {
      const t = { host: '127.0.0.1', port: 5060, transport: 'udp' as const, username: null, password: null, inboundHosts: [], enabled: true, fromDomain: null, callerId: null };
      const a = await insertTrunk(store.db, box, { ...t, name: 'a', isDefault: true });
      assert.equal((await cache.defaultTrunk())?.id, a!.id);
      await updateTrunk(store.db, box, a!.id, { enabled: false });
      assert.equal((await cache.defaultTrunk())?.id, a!.id, 'no event, no reload');
      events.emit('pbx.trunk.changed', { id: a!.id });
      assert.equal(await cache.defaultTrunk(), undefined, 'a disabled default carries no calls');
      await updateTrunk(store.db, box, a!.id, { enabled: true });
      events.emit('system.restored', {} as RestoreResult);
      assert.deepEqual((await cache.enabledTrunks()).map((x) => x.name), ['a']);
    });
  });
}
