import type { Kysely } from 'kysely';
import { withId } from './helpers.ts';

/**
 * Gateways of seeds 000/001 (Record, Streaming, SIP participants of a room) and what happened
 * to them. A gateway lives in this process only: the rows exist so that a restart can tell
 * the API "ended" for a `gw_id` it ran before, never "running" (the server marks rows it finds
 * in a live state `ended` at start). `gw_id` is the caller's key and is reused once a gateway
 * has ended, so it is indexed, not unique; the live one is the newest row.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await withId(db, db.schema.createTable('gateways'))
    .addColumn('gw_id', 'text', (c) => c.notNull())
    .addColumn('room', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('params', 'text', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('recording_path', 'text')
    .addColumn('recording_seconds', 'integer')
    .addColumn('transcript', 'text')
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('ended_at', 'text')
    .execute();
  await db.schema.createIndex('gateways_gw_id').on('gateways').columns(['gw_id', 'id']).execute();
  await db.schema.createIndex('gateways_state').on('gateways').column('state').execute();
  await withId(db, db.schema.createTable('gateway_events'))
    .addColumn('gateway_id', 'integer', (c) => c.notNull())
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('detail', 'text')
    .addColumn('at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('gateway_events_gateway').on('gateway_events').columns(['gateway_id', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('gateway_events').execute();
  await db.schema.dropTable('gateways').execute();
}
