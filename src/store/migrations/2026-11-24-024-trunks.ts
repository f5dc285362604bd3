import type { Kysely } from 'kysely';
import { withId } from './helpers.ts';

/** SIP trunks: carriers we send calls to (digest client) and accept calls from (by source address). */
export async function up(db: Kysely<any>): Promise<void> {
  await withId(db, db.schema.createTable('trunks'))
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('port', 'integer', (c) => c.notNull())
    .addColumn('transport', 'text', (c) => c.notNull())
    .addColumn('username', 'text')
    .addColumn('password_enc', 'text')
    .addColumn('inbound_hosts', 'text', (c) => c.notNull())
    .addColumn('is_default', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('from_domain', 'text')
    .addColumn('caller_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  // The API clears the other defaults in the same transaction; this partial unique index
  // (SQLite ≥ 3.8 and PostgreSQL both have them) makes a second default impossible anyway.
  await db.schema.createIndex('trunks_single_default').unique().on('trunks').column('is_default')
    .where('is_default', '=', 1).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('trunks').execute();
}
