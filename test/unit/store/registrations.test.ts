import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES, createTestDatabase, type TestDatabase } from '../../helpers/databases.ts';
import { migrateToLatest, openStore, type Store } from '../../../src/store/database.ts';
import { isRefreshOf, loadLiveRegistrations, saveBindings, type Binding } from '../../../src/store/registrations.ts';

const T0 = Date.parse('2026-03-10T09:00:00.000Z');

function binding(deviceId: number, aor: string, key: string, o: Partial<Binding> = {}): Binding {
  return {
    aor, deviceId, key, contactUri: `sip:${aor}@192.0.2.1:5060`, contact: `<sip:${aor}@192.0.2.1:5060>`, q: 1,
    expiresAt: T0 + 3_600_000, instanceId: null, regId: null, callId: `c-${aor}-${key}`, cseq: 1, transport: 'udp',
    sourceIp: '192.0.2.1', sourcePort: 5060, localPort: 5060, connectionId: null, userAgent: 'ua', createdAt: T0, updatedAt: T0,
    ...o,
  };
}

for (const engine of ENGINES) {
  describe(`registrations store: multi-row group-commit upsert (${engine})`, () => {
    let tdb: TestDatabase;
    let store: Store;
    let dev = 0;

    before(async () => {
      tdb = await createTestDatabase(engine);
      store = openStore(tdb.url, { schema: tdb.schema });
      await migrateToLatest(store);
      const now = new Date(T0).toISOString();
      const row = await store.db.insertInto('devices').values({
        name: 'd', username: '1001', password_enc: 'x', type: 'generic', user_id: null, caller_id: null, created_at: now, updated_at: now,
      }).returning('id').executeTakeFirstOrThrow();
      dev = row.id;
    });
    after(async () => {
      await store?.close();
      await tdb?.cleanup();
    });

    const rows = async () => (await loadLiveRegistrations(store.db, T0)).sort((a, b) => a.aor.localeCompare(b.aor) || a.key.localeCompare(b.key));

    test('inserts many bindings in one call', async () => {
      await saveBindings(store.db, [binding(dev, 'a', 'k1'), binding(dev, 'b', 'k1'), binding(dev, 'c', 'k1')], []);
      assert.deepEqual((await rows()).map((b) => `${b.aor}/${b.key}/${b.cseq}`), ['a/k1/1', 'b/k1/1', 'c/k1/1']);
    });

    test('a refresh updates every column but created_at; a repeated key in one batch keeps its last row', async () => {
      const later = T0 + 60_000;
      await saveBindings(store.db, [
        binding(dev, 'a', 'k1', { cseq: 2, expiresAt: later + 3_600_000, updatedAt: later, createdAt: later, callId: 'x', sourcePort: 5070, userAgent: null }),
        binding(dev, 'b', 'k1', { cseq: 2, updatedAt: later, createdAt: later }),
        binding(dev, 'b', 'k1', { cseq: 3, updatedAt: later, createdAt: later }),
        binding(dev, 'd', 'k1'),
      ], [binding(dev, 'c', 'k1')]);
      const all = await rows();
      assert.deepEqual(all.map((b) => `${b.aor}/${b.key}/${b.cseq}`), ['a/k1/2', 'b/k1/3', 'd/k1/1']);
      const a = all[0]!;
      assert.equal(a.createdAt, T0);
      assert.equal(a.updatedAt, later);
      assert.equal(a.expiresAt, later + 3_600_000);
      assert.equal(a.callId, 'x');
      assert.equal(a.sourcePort, 5070);
      assert.equal(a.userAgent, null);
    });

    test('a refresh of the stored binding writes its expiry, CSeq and update time; a changed source writes the whole row', async () => {
      const prev = binding(dev, 'r', 'k1');
      await saveBindings(store.db, [prev], []);
      const later = T0 + 120_000;
      const refresh = { ...prev, cseq: 7, expiresAt: later + 3_600_000, updatedAt: later };
      assert.equal(isRefreshOf(prev, refresh), true);
      await saveBindings(store.db, [refresh], [], () => prev);
      let r = (await rows()).find((b) => b.aor === 'r')!;
      assert.deepEqual([r.cseq, r.expiresAt, r.updatedAt, r.createdAt, r.sourcePort], [7, later + 3_600_000, later, T0, 5060]);
      // The stored row claimed by the caller is wrong (another port): the full row goes out.
      const moved = { ...refresh, cseq: 8, sourcePort: 5099 };
      assert.equal(isRefreshOf(refresh, moved), false);
      await saveBindings(store.db, [moved], [], () => refresh);
      r = (await rows()).find((b) => b.aor === 'r')!;
      assert.deepEqual([r.cseq, r.sourcePort], [8, 5099]);
    });

    test('a refresh whose row is gone from the database inserts it again', async () => {
      const prev = binding(dev, 'gone', 'k1');
      const refresh = { ...prev, cseq: 2, expiresAt: T0 + 7_200_000, updatedAt: T0 + 1 };
      await saveBindings(store.db, [refresh], [], () => prev);
      const r = (await rows()).find((b) => b.aor === 'gone');
      assert.equal(r?.cseq, 2);
      assert.equal(r?.expiresAt, T0 + 7_200_000);
    });

    test('more rows than one statement holds (500) are split, all committed', async () => {
      const many = Array.from({ length: 1201 }, (_, i) => binding(dev, `m${String(i).padStart(4, '0')}`, 'k'));
      await saveBindings(store.db, many, []);
      assert.equal((await rows()).filter((b) => b.aor.startsWith('m')).length, 1201);
    });
  });
}
