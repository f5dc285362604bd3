import type { Kysely } from 'kysely';

/**
 * `trunks.srtp`: SDES-SRTP policy of the media towards this carrier (issue 16), like
 * `devices.srtp`: 'off', 'optional' (crypto offered on RTP/AVP, either accepted), 'required'
 * (RTP/SAVP only; plain offers refused with 488). Default 'off'.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('trunks')
    .addColumn('srtp', 'text', (c) => c.notNull().defaultTo('off'))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('trunks').dropColumn('srtp').execute();
}
