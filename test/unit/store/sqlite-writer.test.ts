import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { commitSteps, migrateToLatest, openStore, sqliteSync, sqliteWriter, type Store } from '../../../src/store/database.ts';
import type { Worker } from 'node:worker_threads';
import type { WriteStep } from '../../../src/store/write-steps.ts';
import { SqliteWriter, SqliteWriterError } from '../../../src/store/sqlite-writer.ts';

const INSERT = 'insert into blocklist (phone_number, reason, created_at) values (?, ?, ?)';
const RELABEL = 'update blocklist set reason = ? where phone_number = ?';
const row = (n: string, reason: string | null = null): WriteStep => ({ sql: INSERT, params: [n, reason, '2026-01-01T00:00:00.000Z'] });

describe('commitSteps on the writer thread (STROWGER_SQLITE_WRITER_THREAD)', () => {
  let dir: string;
  let store: Store;
  const rows = async () => (await store.db.selectFrom('blocklist').select(['phone_number', 'reason']).orderBy('phone_number').execute())
    .map((r) => `${r.phone_number}:${r.reason ?? ''}`);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strowger-sqlite-writer-'));
    store = openStore(`sqlite://${join(dir, 'db.sqlite')}`, { walCheckpoint: 'thread', writerThread: true });
    await migrateToLatest(store);
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('commits a batch off the main thread, visible to the main connection once it resolves', async () => {
    assert.equal(await commitSteps(store.db, () => [row('+15550000001', 'a'), row('+15550000002')]), true);
    assert.deepEqual(await rows(), ['+15550000001:a', '+15550000002:']);
    assert.deepEqual(sqliteWriter(store.db)!.counters, { committed: 1, failed: 0 });
    assert.equal(sqliteWriter(store.db)!.pendingBatches, 0);
  });

  test('orElse runs only when its statement changed no row', async () => {
    await commitSteps(store.db, () => [
      { sql: RELABEL, params: ['b', '+15550000001'], orElse: row('+15550000001', 'never') },
      { sql: RELABEL, params: ['c', '+15550000003'], orElse: row('+15550000003', 'inserted') },
    ]);
    assert.deepEqual(await rows(), ['+15550000001:b', '+15550000002:', '+15550000003:inserted']);
  });

  test('a failing statement rolls its whole batch back and rejects with the error; later batches go on', async () => {
    const failedBefore = sqliteWriter(store.db)!.counters.failed;
    await assert.rejects(commitSteps(store.db, () => [row('+15550000004'), row('+15550000001', 'duplicate')]), /UNIQUE/);
    assert.equal(sqliteWriter(store.db)!.counters.failed, failedBefore + 1);
    assert.equal(await commitSteps(store.db, () => [row('+15550000005')]), true);
    assert.deepEqual(await rows(), ['+15550000001:b', '+15550000002:', '+15550000003:inserted', '+15550000005:']);
  });

  test('batches commit in the order they were posted', async () => {
    const all = Array.from({ length: 50 }, (_, i) => commitSteps(store.db, () => [{ sql: RELABEL, params: [`r${i}`, '+15550000002'] }]));
    await Promise.all(all);
    assert.ok((await rows()).includes('+15550000002:r49'));
  });

  test('waits for a Kysely transaction that holds the write lock on the main thread, without blocking that thread', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    const open = store.db.transaction().execute(async (tx) => {
      await sql`insert into blocklist (phone_number, reason, created_at) values ('+15550000009', 'tx', '2026-01-01T00:00:00.000Z')`.execute(tx);
      await held;
    });
    await new Promise((r) => setTimeout(r, 10));
    let committed = false;
    const batch = commitSteps(store.db, () => [row('+15550000010')]).then(() => { committed = true; });
    // The main thread's event loop keeps turning while the writer waits.
    for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(committed, false);
    release();
    await open;
    await batch;
    assert.deepEqual((await rows()).slice(-2), ['+15550000009:tx', '+15550000010:']);
    // The main connection's synchronous transactions share the process's write lock with it.
    assert.equal(sqliteSync(store.db)!.transaction((run) => run(INSERT, ['+15550000011', null, '2026-01-01T00:00:00.000Z'])), true);
  });

  test('a closed writer lets its batches in flight commit, then refuses new ones (callers commit on their own connection)', async () => {
    const writer = new SqliteWriter(join(dir, 'db.sqlite'), store.writeLock!, { autocheckpointPages: 1000 });
    const last = writer.transaction([row('+15550000012')]);
    const closed = writer.close();
    assert.equal(writer.available, false);
    await last;
    await closed;
    await assert.rejects(writer.transaction([row('+15550000013')]), SqliteWriterError);
    assert.ok((await rows()).includes('+15550000012:'));
    assert.ok(!(await rows()).includes('+15550000013:'));
  });
});

describe('commitSteps when the writer thread dies', () => {
  test('batches in flight fail with SqliteWriterError, and the next ones commit on the main connection', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strowger-sqlite-writer-dies-'));
    const store = openStore(`sqlite://${join(dir, 'db.sqlite')}`, { writerThread: true });
    try {
      await migrateToLatest(store);
      const writer = sqliteWriter(store.db)!;
      assert.equal(await commitSteps(store.db, () => [row('+15550000001')]), true);
      // What an out-of-memory abort or a native fault in the thread looks like from here.
      const inFlight = commitSteps(store.db, () => [row('+15550000002')]).then(() => 'committed', (err: unknown) => err);
      // The batch may commit first and the writer then unrefs its thread: a timer keeps this
      // test's event loop alive until the exit (a server has its sockets for that).
      const alive = setInterval(() => {}, 1_000);
      try {
        await (writer as unknown as { worker: Worker }).worker.terminate();
      } finally {
        clearInterval(alive);
      }
      const outcome = await inFlight;
      assert.ok(outcome === 'committed' || outcome instanceof SqliteWriterError, String(outcome));
      assert.equal(writer.available, false);
      assert.equal(await commitSteps(store.db, () => [row('+15550000003')]), true);
      const numbers = (await store.db.selectFrom('blocklist').select('phone_number').execute()).map((r) => r.phone_number);
      assert.ok(numbers.includes('+15550000001') && numbers.includes('+15550000003'), numbers.join());
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('commitSteps without a writer thread', () => {
  test('commits synchronously on the store connection; answers false inside a Kysely transaction', async () => {
    const store = openStore('sqlite::memory:', { writerThread: true });
    try {
      await migrateToLatest(store);
      assert.equal(await commitSteps(store.db, () => [row('+15550000001')]), true);
      await store.db.transaction().execute(async (tx) => {
        await sql`select 1`.execute(tx);
        let built = false;
        assert.equal(await commitSteps(store.db, () => { built = true; return [row('+15550000002')]; }), false);
        assert.equal(built, false);
      });
      assert.equal((await store.db.selectFrom('blocklist').selectAll().execute()).length, 1);
    } finally {
      await store.close();
    }
  });
});
