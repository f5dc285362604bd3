import type { Kysely } from 'kysely';
import { withId } from './helpers.ts';

/**
 * SMS/MMS messages, inbound and outbound. The table is also the outbound queue: a row with
 * status `queued` is waiting for Twilio, `next_attempt_at` says when the sender may try it
 * (the sender leases a row by moving that time forward before the REST call), `attempts`
 * counts tries. So a restart loses nothing: queued rows are picked up again.
 *
 * No foreign keys, like CDRs: a message is history and outlives its DID (number copied in).
 * `twilio_sid` is unique (NULLs allowed on both engines): inbound webhooks that Twilio retries
 * are stored once.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await withId(db, db.schema.createTable('messages'))
    .addColumn('direction', 'text', (c) => c.notNull())
    .addColumn('did_id', 'integer')
    .addColumn('did_number', 'text')
    .addColumn('from_number', 'text', (c) => c.notNull())
    .addColumn('to_number', 'text', (c) => c.notNull())
    .addColumn('peer_number', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('media_urls', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('twilio_sid', 'text', (c) => c.unique())
    .addColumn('error_code', 'integer')
    .addColumn('error_message', 'text')
    .addColumn('read', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text')
    .addColumn('user_id', 'integer')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'text')
    .addColumn('delivered_at', 'text')
    .execute();
  await db.schema.createIndex('messages_created_at').on('messages').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('messages_peer_created_at').on('messages').columns(['peer_number', 'created_at']).execute();
  await db.schema.createIndex('messages_status_next_attempt').on('messages').columns(['status', 'next_attempt_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('messages').execute();
}
