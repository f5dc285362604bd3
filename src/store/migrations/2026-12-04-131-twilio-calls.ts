import type { Kysely } from 'kysely';

/**
 * Twilio's side of calls that reach us through Twilio's voice webhooks, keyed by CallSid:
 * the status callbacks, recording and transcription callbacks write here. A call's SIP leg
 * to Strowger has its own CDR; the TwiML we answer passes the CallSid to it in an
 * `X-Strowger-Call-Sid` header of the `<Sip>` URI.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createTable('twilio_calls')
    .addColumn('call_sid', 'text', (c) => c.primaryKey())
    .addColumn('direction', 'text')
    .addColumn('from_number', 'text')
    .addColumn('to_number', 'text')
    .addColumn('did_id', 'integer')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('duration', 'integer')
    .addColumn('recording_sid', 'text')
    .addColumn('recording_url', 'text')
    .addColumn('recording_status', 'text')
    .addColumn('recording_duration', 'integer')
    .addColumn('transcription_sid', 'text')
    .addColumn('transcription_status', 'text')
    .addColumn('transcription_text', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('twilio_calls').execute();
}
