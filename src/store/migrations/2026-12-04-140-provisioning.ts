import type { Kysely } from 'kysely';
import { withId } from './helpers.ts';

/**
 * Auto-provisioning of desk phones: profiles (a vendor plus settings), the profile a device is
 * bound to, and fetch tokens. A token is stored as its SHA-256 only (256 random bits need no
 * slow hash), so the plaintext exists once, in the answer that created it. Fetches are logged
 * in `device_events` (category `provisioning`), which already serves `/devices/{id}/events`.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await withId(db, db.schema.createTable('provisioning_profiles'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('vendor', 'text', (c) => c.notNull())
    .addColumn('config', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema.alterTable('devices')
    .addColumn('provisioning_profile_id', 'integer', (c) => c.references('provisioning_profiles.id').onDelete('set null'))
    .execute();

  await withId(db, db.schema.createTable('provisioning_tokens'))
    .addColumn('device_id', 'integer', (c) => c.notNull().references('devices.id').onDelete('cascade'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('token_prefix', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .addColumn('last_used_at', 'text')
    .addColumn('use_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('provisioning_tokens_device').on('provisioning_tokens').column('device_id').execute();
  await db.schema.createIndex('device_events_category').on('device_events').columns(['category', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('device_events_category').execute();
  await db.schema.dropTable('provisioning_tokens').execute();
  await db.schema.alterTable('devices').dropColumn('provisioning_profile_id').execute();
  await db.schema.dropTable('provisioning_profiles').execute();
}
