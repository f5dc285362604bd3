/**
 * Every store-touching test runs on SQLite, and on PostgreSQL too when TEST_DATABASE_URL
 * is set (CI sets it). Each run gets a fresh SQLite file or a fresh PostgreSQL schema.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
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

/**
 * A migrated store on a fresh database of `engine` for a `describe` block: call `open()` in
 * `before` and `close()` in `after`.
 */
export function migratedTestStore(engine: 'sqlite' | 'postgres'): { readonly store: Store; open(): Promise<void>; close(): Promise<void> } {
  let tdb: TestDatabase | undefined;
  let store: Store | undefined;
  return {
    get store() { return store!; },
    async open() {
      tdb = await createTestDatabase(engine);
      store = openStore(tdb.url, { schema: tdb.schema });
      await migrateToLatest(store);
    },
    async close() {
      await store?.close();
      await tdb?.cleanup();
    },
  };
}
