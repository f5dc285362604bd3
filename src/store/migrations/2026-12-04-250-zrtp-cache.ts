import type { Kysely } from 'kysely';

/**
 * `zrtp_cache`: the ZRTP retained secrets per peer ZID (RFC 6189 §4.9), so the second call
 * from a phone authenticates against the first. `rs1`/`rs2` are sealed with the secret box
 * (hex of 32 bytes inside); `verified` is the user's SAS verdict (the V flag we send).
 * Our own ZID and the ZRTP settings live in `system_config` (zrtp_zid, zrtp_enabled, zrtp_strict_mode).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createTable('zrtp_cache')
    .addColumn('peer_zid', 'text', (c) => c.primaryKey())
    .addColumn('rs1', 'text')
    .addColumn('rs2', 'text')
    .addColumn('verified', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('zrtp_cache').execute();
}
