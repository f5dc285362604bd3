/**
 * Every store-touching test runs on SQLite, and on PostgreSQL too when TEST_DATABASE_URL
 * is set (CI sets it). Each run gets a fresh SQLite file or a fresh PostgreSQL schema.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import pg from 'pg';
import { migrateToLatest, openStore, type Store } from '../../src/store/database.ts';

export interface TestDatabase {
  engine: 'sqlite' | 'postgres';
  url: string;
  schema: string | undefined;
  dataDir: string;
  cleanup(): Promise<void>;
}

export const ENGINES: Array<'sqlite' | 'postgres'> = process.env.TEST_DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite'];

export async function createTestDatabase(engine: 'sqlite' | 'postgres'): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'strowger-test-'));
  if (engine === 'sqlite') {
    return {
      engine, url: `sqlite:${join(dataDir, 'test.db')}`, schema: undefined, dataDir,
      cleanup: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const url = process.env.TEST_DATABASE_URL!;
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`create schema ${schema}`);
  await client.end();
  return {
    engine, url, schema, dataDir,
    cleanup: async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A fresh database, migrated, with its store open; `close` closes the store and drops the database. */
export async function openMigratedStore(engine: 'sqlite' | 'postgres'): Promise<{ tdb: TestDatabase; store: Store; close(): Promise<void> }> {
  const tdb = await createTestDatabase(engine);
  const store = openStore(tdb.url, { schema: tdb.schema });
  await migrateToLatest(store);
  return { tdb, store, close: async () => { await store.close(); await tdb.cleanup(); } };
}

/**
 * A fresh, migrated store for the tests of one `describe` block: created before them, closed
 * and dropped after. `use` receives both, for the block's own variables.
 */
export function useMigratedStore(engine: 'sqlite' | 'postgres', use: (store: Store, tdb: TestDatabase) => void): void {
  let opened: Awaited<ReturnType<typeof openMigratedStore>> | undefined;
  before(async () => {
    opened = await openMigratedStore(engine);
    use(opened.store, opened.tdb);
  });
  after(async () => { await opened?.close(); });
}
