import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { openStore, sqliteReadCache, type ReadCache } from '../../../src/store/database.ts';

interface T { t: { id: number; v: string } }

describe('sqliteReadCache', () => {
  let dir: string;
  let sqlite: SqliteDatabase.Database;
  let db: Kysely<T>;
  let clock = 0;
  let cache: ReadCache;
  let reads = 0;
  const readAll = async (label: string) => {
    reads++;
    const rows = await db.selectFrom('t').select(['id', 'v']).orderBy('id').execute();
    return `${label}:${rows.map((r) => r.v).join(',')}`;
  };
  const get = (key = 'k') => cache.get(key, readAll, key);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strowger-read-cache-'));
    sqlite = new SqliteDatabase(join(dir, 'db.sqlite'));
    sqlite.pragma('journal_mode = WAL');
    db = new Kysely<T>({ dialect: new SqliteDialect({ database: sqlite }) });
    await sql`create table t (id integer primary key, v text not null)`.execute(db);
    await db.insertInto('t').values({ id: 1, v: 'a' }).execute();
    cache = sqliteReadCache(sqlite, { externalCheckMs: 100, maxEntries: 3, now: () => clock });
  });
  after(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  test('one read per key and generation; concurrent misses share it', async () => {
    reads = 0;
    const [x, y] = await Promise.all([get(), get()]);
    assert.equal(x, 'k:a');
    assert.equal(y, 'k:a');
    assert.equal(await get(), 'k:a');
    assert.equal(await get('other'), 'other:a');
    assert.equal(reads, 2);
  });

  test('peek: the value once its read completed, in the current generation only', async () => {
    await db.deleteFrom('t').where('id', '>', 1).execute();
    const pending = get('peeked');
    assert.equal(cache.peek('peeked'), undefined, 'read still running');
    assert.equal(await pending, 'peeked:a');
    assert.equal(cache.peek('peeked'), 'peeked:a');
    await db.insertInto('t').values({ id: 9, v: 'z' }).execute();
    assert.equal(cache.peek('peeked'), undefined, 'a write ended the generation');
    assert.equal(await get('peeked'), 'peeked:a,z');
    assert.equal(cache.peek('peeked'), 'peeked:a,z');
    await db.deleteFrom('t').where('id', '=', 9).execute();
  });

  test('any row change on the connection starts a generation: insert, update, delete', async () => {
    await get();
    reads = 0;
    await db.insertInto('t').values({ id: 2, v: 'b' }).execute();
    assert.equal(await get(), 'k:a,b');
    await db.updateTable('t').set({ v: 'B' }).where('id', '=', 2).execute();
    assert.equal(await get(), 'k:a,B');
    await db.deleteFrom('t').where('id', '=', 2).execute();
    assert.equal(await get(), 'k:a');
    assert.equal(await get(), 'k:a');
    assert.equal(reads, 3);
  });

  test('a rolled-back write never brings an older generation back', async () => {
    await get();
    reads = 0;
    await assert.rejects(db.transaction().execute(async (tx) => {
      await tx.insertInto('t').values({ id: 3, v: 'c' }).execute();
      throw new Error('rollback');
    }), /rollback/);
    assert.equal(await get(), 'k:a');
    assert.equal(reads, 1);
  });

  test('a read started during a transaction waits for it and keeps no uncommitted row', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let inserted!: () => void;
    const didInsert = new Promise<void>((r) => (inserted = r));
    const tx = db.transaction().execute(async (trx) => {
      await trx.insertInto('t').values({ id: 4, v: 'd' }).execute();
      inserted();
      await gate;
      throw new Error('rollback');
    });
    await didInsert;
    const during = get();
    release();
    await assert.rejects(tx, /rollback/);
    assert.equal(await during, 'k:a');
    assert.equal(await get(), 'k:a');
  });

  test('another connection\'s commit is seen within externalCheckMs', async () => {
    clock += 1000;
    await get();
    reads = 0;
    const other = new SqliteDatabase(join(dir, 'db.sqlite'));
    other.prepare("insert into t (id, v) values (5, 'e')").run();
    other.close();
    clock += 99;
    assert.equal(await get(), 'k:a');
    clock += 1;
    assert.equal(await get(), 'k:a,e');
    assert.equal(reads, 1);
    await db.deleteFrom('t').where('id', '=', 5).execute();
  });

  test('a schema change starts a generation', async () => {
    clock += 1000;
    await get();
    reads = 0;
    await sql`create table u (x integer)`.execute(db);
    clock += 100;
    await get();
    assert.equal(reads, 1);
  });

  test('a failed read is not kept', async () => {
    let calls = 0;
    const failing = async () => {
      calls++;
      throw new Error(`boom ${calls}`);
    };
    await assert.rejects(cache.get('fail', failing, undefined), /boom 1/);
    await assert.rejects(cache.get('fail', failing, undefined), /boom 2/);
  });

  test('past maxEntries the cache starts over', async () => {
    await db.insertInto('t').values({ id: 6, v: 'f' }).execute();
    reads = 0;
    for (const k of ['a', 'b', 'c']) await get(k);
    await get('a');
    assert.equal(reads, 3);
    await get('d'); // fourth key: everything is forgotten
    await get('a');
    assert.equal(reads, 5);
  });
});

test('sqliteReadCache: past maxBytes of Buffer values the cache starts over', async () => {
  const sqlite = new SqliteDatabase(':memory:');
  const cache = sqliteReadCache(sqlite, { maxBytes: 250 });
  let reads = 0;
  const page = async (n: number) => {
    reads++;
    return Buffer.alloc(n);
  };
  await cache.get('a', page, 100);
  await cache.get('b', page, 100);
  await cache.get('a', page, 100);
  assert.equal(reads, 2);
  await cache.get('c', page, 100); // 300 bytes > 250: all forgotten
  await cache.get('a', page, 100);
  assert.equal(reads, 4);
  sqlite.close();
});

describe('openStore', () => {
  test('SQLite has a read cache and answers repeated queries (statements prepared once); PostgreSQL has none', async () => {
    const store = openStore('sqlite::memory:');
    assert.ok(store.readCache);
    await sql`create table t (id integer primary key, v text)`.execute(store.db);
    for (let i = 1; i <= 3; i++) {
      await sql`insert into t (id, v) values (${i}, ${`v${i}`})`.execute(store.db);
      const rows = await sql<{ id: number; v: string }>`select * from t order by id`.execute(store.db);
      assert.deepEqual(rows.rows.map((r) => r.v), Array.from({ length: i }, (_, j) => `v${j + 1}`));
    }
    // A kept statement follows the schema (SQLite re-prepares it).
    await sql`alter table t add column w integer default 7`.execute(store.db);
    assert.deepEqual((await sql`select * from t where id = ${1}`.execute(store.db)).rows, [{ id: 1, v: 'v1', w: 7 }]);
    await store.close();
    const pgStore = openStore('postgres://127.0.0.1:1/none');
    assert.equal(pgStore.readCache, undefined);
    await pgStore.close();
  });
});
