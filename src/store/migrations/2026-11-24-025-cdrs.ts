import type { Kysely } from 'kysely';
import { withId } from './helpers.ts';

/**
 * Call detail records and the journal of calls in progress. CDRs carry no foreign keys on
 * purpose: a record is history and must outlive the DID, device or trunk it mentions (the
 * number and ids are copied in).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await withId(db, db.schema.createTable('cdrs'))
    .addColumn('call_id', 'text', (c) => c.notNull().unique())
    .addColumn('a_call_id', 'text', (c) => c.notNull())
    .addColumn('b_call_id', 'text')
    .addColumn('caller', 'text', (c) => c.notNull())
    .addColumn('callee', 'text', (c) => c.notNull())
    .addColumn('did_id', 'integer')
    .addColumn('did_number', 'text')
    .addColumn('caller_device_id', 'integer')
    .addColumn('callee_device_id', 'integer')
    .addColumn('trunk_id', 'integer')
    .addColumn('direction', 'text', (c) => c.notNull())
    .addColumn('start_time', 'text', (c) => c.notNull())
    .addColumn('answer_time', 'text')
    .addColumn('end_time', 'text', (c) => c.notNull())
    .addColumn('duration', 'integer', (c) => c.notNull())
    .addColumn('billsec', 'integer', (c) => c.notNull())
    .addColumn('disposition', 'text', (c) => c.notNull())
    .addColumn('hangup_cause', 'text', (c) => c.notNull())
    .addColumn('hangup_by', 'text', (c) => c.notNull())
    .addColumn('sip_code', 'integer')
    .addColumn('codec', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  // Listing is newest first, optionally narrowed by direction or disposition within a date range.
  await db.schema.createIndex('cdrs_start_time').on('cdrs').columns(['start_time', 'id']).execute();
  await db.schema.createIndex('cdrs_direction_start_time').on('cdrs').columns(['direction', 'start_time']).execute();
  await db.schema.createIndex('cdrs_disposition_start_time').on('cdrs').columns(['disposition', 'start_time']).execute();

  await db.schema.createTable('active_calls')
    .addColumn('call_id', 'text', (c) => c.primaryKey())
    .addColumn('node_id', 'text', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('active_calls_node_id').on('active_calls').column('node_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('active_calls').execute();
  await db.schema.dropTable('cdrs').execute();
}
