import type { Kysely } from 'kysely';

/**
 * A device's voicemail settings: `voicemail_enabled` sends calls to the device that find it
 * busy, unanswered or unregistered to its mailbox (issue 11); `voicemail_email` is where its
 * new messages are mailed (the system setting `voicemail_email` when null).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('devices').addColumn('voicemail_enabled', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('devices').addColumn('voicemail_email', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('devices').dropColumn('voicemail_email').execute();
  await db.schema.alterTable('devices').dropColumn('voicemail_enabled').execute();
}
