import type { Kysely } from 'kysely';

/**
 * `cdrs.twilio_call_sid` and `voicemails.twilio_call_sid`: the Twilio CallSid of a call that
 * reached us through Twilio's `<Dial><Sip>` (the `X-Strowger-Call-Sid` header of an INVITE
 * from a trunk's inbound host). Twilio's callbacks (`twilio_calls`, keyed by CallSid) join
 * to CDRs and voicemails through it. Null for every other call.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('cdrs').addColumn('twilio_call_sid', 'text').execute();
  await db.schema.createIndex('cdrs_twilio_call_sid').on('cdrs').column('twilio_call_sid').execute();
  await db.schema.alterTable('voicemails').addColumn('twilio_call_sid', 'text').execute();
  await db.schema.createIndex('voicemails_twilio_call_sid').on('voicemails').column('twilio_call_sid').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('voicemails_twilio_call_sid').execute();
  await db.schema.alterTable('voicemails').dropColumn('twilio_call_sid').execute();
  await db.schema.dropIndex('cdrs_twilio_call_sid').execute();
  await db.schema.alterTable('cdrs').dropColumn('twilio_call_sid').execute();
}
