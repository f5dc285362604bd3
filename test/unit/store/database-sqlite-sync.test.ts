import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { migrateToLatest, openStore, sqliteSync, type Store } from '../../../src/store/database.ts';

describe('sqliteSync: synchronous transactions on the store connection', () => {
  let dir: string;
  let store: Store;
  const names = async () => (await store.db.selectFrom('blocklist').select('phone_number').orderBy('phone_number').execute()).map((r) => r.phone_number);
  const insert = 'insert into blocklist (phone_number, reason, created_at) values (?, ?, ?)';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strowger-sqlite-sync-'));
    store = openStore(`sqlite://${join(dir, 'db.sqlite')}`);
    await migrateToLatest(store);
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('only a SQLite store has one (not a transaction of it)', async () => {
    assert.ok(sqliteSync(store.db));
    await store.db.transaction().execute(async (tx) => {
      assert.equal(sqliteSync(tx as never), undefined);
    });
  });

  test('commits every statement of fn, visible to Kysely at once', async () => {
    const ok = sqliteSync(store.db)!.transaction((run) => {
      run(insert, ['+15550000001', 'a', '2026-01-01T00:00:00.000Z']);
      run(insert, ['+15550000002', null, '2026-01-01T00:00:00.000Z']);
    });
    assert.equal(ok, true);
    assert.deepEqual(await names(), ['+15550000001', '+15550000002']);
  });

  test('a throw rolls everything back and propagates', async () => {
    assert.throws(() => sqliteSync(store.db)!.transaction((run) => {
      run(insert, ['+15550000003', 'a', '2026-01-01T00:00:00.000Z']);
      run(insert, ['+15550000001', 'duplicate', '2026-01-01T00:00:00.000Z']);
    }), /UNIQUE/);
    assert.deepEqual(await names(), ['+15550000001', '+15550000002']);
  });

  test('refuses (false, nothing run) while a Kysely transaction is open, so it never joins it', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    const open = store.db.transaction().execute(async (tx) => {
      await sql`insert into blocklist (phone_number, reason, created_at) values ('+15550000009', 'tx', '2026-01-01T00:00:00.000Z')`.execute(tx);
      await held;
      throw new Error('roll back');
    });
    await new Promise((r) => setTimeout(r, 10));
    let ran = false;
    assert.equal(sqliteSync(store.db)!.transaction(() => { ran = true; }), false);
    assert.equal(ran, false);
    release();
    await assert.rejects(open, /roll back/);
    assert.deepEqual(await names(), ['+15550000001', '+15550000002']);
    assert.equal(sqliteSync(store.db)!.transaction(() => {}), true);
  });
});
