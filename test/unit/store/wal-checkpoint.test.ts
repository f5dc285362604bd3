import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import SqliteDatabase from 'better-sqlite3';
import { sql } from 'kysely';
import { migrateToLatest, openStore, sqliteSync, type Store } from '../../../src/store/database.ts';
import { SAFETY_NET_PAGES } from '../../../src/store/wal-checkpointer.ts';

/**
 * Rows of the blocklist in the database file alone, without its WAL: what checkpoints have
 * copied there so far (a copy of the file is opened, so nothing here checkpoints).
 */
function rowsInMainFile(dir: string, path: string): number {
  const copy = join(dir, `copy-${Math.random().toString(36).slice(2)}.sqlite`);
  copyFileSync(path, copy);
  const db = new SqliteDatabase(copy, { readonly: true });
  try {
    const migrated = db.prepare("select count(*) from sqlite_master where name = 'blocklist'").pluck().get() as number;
    return migrated === 0 ? 0 : db.prepare('select count(*) from blocklist').pluck().get() as number;
  } finally {
    db.close();
  }
}

/** 200 commits of one row each: ~200 WAL frames, below SQLite's own 1,000-page checkpoint. */
function write200(store: Store, prefix: string): void {
  const sync = sqliteSync(store.db)!;
  for (let i = 0; i < 200; i++) {
    sync.transaction((run) => run('insert into blocklist (phone_number, reason, created_at) values (?, ?, ?)', [`${prefix}${String(i).padStart(4, '0')}`, null, '2026-01-01T00:00:00.000Z']));
  }
}

/** Rows in the database file once a checkpoint has copied `n` (or what it holds after 4 s). */
async function rowsCopied(dir: string, path: string, n: number): Promise<number> {
  let copied = 0;
  for (let i = 0; i < 40 && copied < n; i++) {
    await sleep(100);
    copied = rowsInMainFile(dir, path);
  }
  return copied;
}

/** The connection's automatic checkpoint threshold, in pages. */
async function autoCheckpointPages(store: Store): Promise<number> {
  return (await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(store.db)).rows[0]!.wal_autocheckpoint;
}

describe('WAL checkpoints on their own thread', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'strowger-wal-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("walCheckpoint 'thread': commits reach the database file within a tick, while the connection itself would not checkpoint yet", async () => {
    const path = join(dir, 'thread.sqlite');
    const store = openStore(`sqlite://${path}`, { walCheckpoint: 'thread' });
    try {
      await migrateToLatest(store);
      assert.equal(await autoCheckpointPages(store), SAFETY_NET_PAGES);
      write200(store, '+1555');
      assert.equal(await rowsCopied(dir, path, 200), 200);
    } finally {
      await store.close();
    }
  });

  test("walCheckpoint 'commit' (the default): the same commits stay in the WAL (what the test above tells apart)", async () => {
    const path = join(dir, 'commit.sqlite');
    const store = openStore(`sqlite://${path}`);
    try {
      await migrateToLatest(store);
      assert.equal(await autoCheckpointPages(store), 1000);
      const before = rowsInMainFile(dir, path);
      write200(store, '+1556');
      await sleep(1_500);
      assert.equal(rowsInMainFile(dir, path), before);
    } finally {
      await store.close();
    }
  });

  test("walCheckpoint 'other-thread' raises the threshold; the main store's thread checkpoints the other store's commits", async () => {
    const path = join(dir, 'other.sqlite');
    const main = openStore(`sqlite://${path}`, { walCheckpoint: 'thread' });
    await migrateToLatest(main);
    const shard = openStore(`sqlite://${path}`, { walCheckpoint: 'other-thread', writeLock: main.writeLock });
    try {
      assert.equal(await autoCheckpointPages(shard), SAFETY_NET_PAGES);
      write200(shard, '+1557');
      assert.equal(await rowsCopied(dir, path, 200), 200, "the main store's thread checkpoints the shard's commits");
    } finally {
      await shard.close();
      await main.close();
    }
  });
});
