import type { Kysely } from 'kysely';

/**
 * `devices.mwi_unsolicited`: send this device message-summary NOTIFYs without a subscription
 * (issue 11; phones configured for "unsolicited MWI" never SUBSCRIBE). 0/1, default off.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('devices')
    .addColumn('mwi_unsolicited', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('devices').dropColumn('mwi_unsolicited').execute();
}
