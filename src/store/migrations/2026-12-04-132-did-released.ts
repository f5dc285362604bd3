import type { Kysely } from 'kysely';

/**
 * `dids.released_at`: set by `POST /api/dids/sync` when a number bought at Twilio is no longer
 * on the account (released or moved). The DID and its routes are kept (an admin decides), and
 * the next sync that finds the number again clears it.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('dids').addColumn('released_at', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('dids').dropColumn('released_at').execute();
}
