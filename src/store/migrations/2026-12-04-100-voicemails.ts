import type { Kysely } from 'kysely';
import { withId } from './helpers.ts';

/**
 * Voicemail messages and their mail outbox.
 *
 * A mailbox is a device's or a DID's: `mailbox` is the key `device:<id>` or `did:<id>` (one
 * indexed column that MWI counts group by), `device_id`/`did_id` repeat the id for ownership
 * joins. No foreign keys, like CDRs: a message is the owner's data and outlives a deleted
 * device or DID until someone deletes it (admins still see it). The audio lives in
 * `<data dir>/media/<file_path>`; the row is only written once that file is complete (see
 * src/pbx/voicemail/deposit-file.ts), and a start-up sweep removes files no row names.
 *
 * The outbox holds the mails still to send (one per message); delivery state the API shows
 * is `voicemails.mail_state`/`mail_error`.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await withId(db, db.schema.createTable('voicemails'))
    .addColumn('mailbox', 'text', (c) => c.notNull())
    .addColumn('device_id', 'integer')
    .addColumn('did_id', 'integer')
    .addColumn('call_id', 'text')
    .addColumn('caller_number', 'text', (c) => c.notNull())
    .addColumn('caller_name', 'text')
    .addColumn('called', 'text', (c) => c.notNull())
    .addColumn('duration_seconds', 'integer', (c) => c.notNull())
    .addColumn('file_path', 'text', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('read', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('read_at', 'text')
    .addColumn('transcription', 'text')
    .addColumn('transcription_state', 'text', (c) => c.notNull().defaultTo('none'))
    .addColumn('transcription_engine', 'text')
    .addColumn('mail_state', 'text', (c) => c.notNull().defaultTo('none'))
    .addColumn('mail_error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  // MWI counts new/old per mailbox; listings are newest first, per mailbox or across all.
  await db.schema.createIndex('voicemails_mailbox_read').on('voicemails').columns(['mailbox', 'read']).execute();
  await db.schema.createIndex('voicemails_created_at').on('voicemails').columns(['created_at', 'id']).execute();

  await withId(db, db.schema.createTable('voicemail_mail_outbox'))
    .addColumn('voicemail_id', 'integer', (c) => c.notNull().unique().references('voicemails.id').onDelete('cascade'))
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('voicemail_mail_outbox_next').on('voicemail_mail_outbox').column('next_attempt_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('voicemail_mail_outbox').execute();
  await db.schema.dropTable('voicemails').execute();
}
