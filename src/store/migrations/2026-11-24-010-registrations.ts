import type { Kysely } from 'kysely';
import { withId } from './helpers.ts';

/** SIP registrations (location service), persisted so they survive a restart. */
export async function up(db: Kysely<any>): Promise<void> {
  await withId(db, db.schema.createTable('registrations'))
    .addColumn('device_id', 'integer', (c) => c.notNull().references('devices.id').onDelete('cascade'))
    .addColumn('aor', 'text', (c) => c.notNull())
    .addColumn('binding_key', 'text', (c) => c.notNull())
    .addColumn('contact_uri', 'text', (c) => c.notNull())
    .addColumn('contact', 'text', (c) => c.notNull())
    .addColumn('q', 'real', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('instance_id', 'text')
    .addColumn('reg_id', 'integer')
    .addColumn('call_id', 'text', (c) => c.notNull())
    .addColumn('cseq', 'bigint', (c) => c.notNull())
    .addColumn('transport', 'text', (c) => c.notNull())
    .addColumn('source_ip', 'text', (c) => c.notNull())
    .addColumn('source_port', 'integer', (c) => c.notNull())
    .addColumn('local_port', 'integer')
    .addColumn('user_agent', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('registrations_binding').unique().on('registrations').columns(['aor', 'binding_key']).execute();
  await db.schema.createIndex('registrations_expires').on('registrations').column('expires_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('registrations').execute();
}
