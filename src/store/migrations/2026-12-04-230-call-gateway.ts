import type { Kysely } from 'kysely';
import { withId } from './helpers.ts';

/**
 * The call gateway of seed 002 (issue 14): apps, their phone numbers, and the hook outbox.
 *
 * - `apps`: `app_secret` is shown once; we keep its SHA-256 (`secret_hash`, to find the app
 *   of a Bearer token) and a sealed copy (`secret_enc`, AES-256-GCM) to sign hooks with it.
 * - `call_numbers`: numbers routed to an app; `synced` 1 for rows owned by
 *   STROWGER_NUMBERS_SYNC_URL (replaced as a set), 0 for the admin's. Passwords sealed.
 * - `hooks_outbox`: one row per hook delivery. `seq` orders the events of a call; a row is
 *   delivered only when no earlier row of its call is still pending, so per-call order holds
 *   across retries and restarts. `next_attempt_at` doubles as the lease (as `messages`).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await withId(db, db.schema.createTable('apps'))
    .addColumn('app_id', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
    .addColumn('secret_enc', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await withId(db, db.schema.createTable('call_numbers'))
    .addColumn('number', 'text', (c) => c.notNull().unique())
    .addColumn('app_id', 'text', (c) => c.notNull())
    .addColumn('subnets', 'text', (c) => c.notNull())
    .addColumn('auth_username', 'text')
    .addColumn('auth_password_enc', 'text')
    .addColumn('hook', 'text')
    .addColumn('hook_content_type', 'text', (c) => c.notNull())
    .addColumn('sip_server', 'text')
    .addColumn('sip_proxy', 'text')
    .addColumn('sip_username', 'text')
    .addColumn('sip_password_enc', 'text')
    .addColumn('synced', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('call_numbers_app').on('call_numbers').column('app_id').execute();
  await withId(db, db.schema.createTable('hooks_outbox'))
    .addColumn('call_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('app_id', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('delivered_at', 'text')
    .execute();
  await db.schema.createIndex('hooks_outbox_due').on('hooks_outbox').columns(['status', 'next_attempt_at']).execute();
  await db.schema.createIndex('hooks_outbox_call').on('hooks_outbox').columns(['call_id', 'seq']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('hooks_outbox').execute();
  await db.schema.dropTable('call_numbers').execute();
  await db.schema.dropTable('apps').execute();
}
