import type { Kysely } from 'kysely';

/**
 * `devices.srtp`: SDES-SRTP policy of the media towards this device (issue 16): 'off' (plain
 * RTP), 'optional' (offer RTP/AVP with crypto, accept either), 'required' (RTP/SAVP only;
 * plain offers refused with 488). Default 'off'.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('devices')
    .addColumn('srtp', 'text', (c) => c.notNull().defaultTo('off'))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('devices').dropColumn('srtp').execute();
}
