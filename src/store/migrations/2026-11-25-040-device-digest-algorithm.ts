import type { Kysely } from 'kysely';

/**
 * `devices.digest_algorithm`: which digest challenge a device is sent (issue 12). Real UAs
 * mishandle a 401 with several challenges (Debian's baresip 1.0.0 rejects it when any is not
 * MD5, JsSIP keeps only the last, sipp 3.6 answers the first), so each device gets one:
 * `MD5` (every existing device, the default), `SHA-256`, or `both` for phones known to pick.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('devices')
    .addColumn('digest_algorithm', 'text', (c) => c.notNull().defaultTo('MD5'))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('devices').dropColumn('digest_algorithm').execute();
}
