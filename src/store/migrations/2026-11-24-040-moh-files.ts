import type { Kysely } from 'kysely';
import { withId } from './helpers.ts';

/**
 * Uploaded music-on-hold files (the audio itself lives in `<data dir>/media/moh/<id>.wav`).
 * The MOH setting (`moh_enabled`, `moh_source`) is two rows of `system_config`, so it needs
 * no table of its own.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await withId(db, db.schema.createTable('moh_files'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('original_filename', 'text', (c) => c.notNull())
    .addColumn('original_format', 'text', (c) => c.notNull())
    .addColumn('original_codec', 'text', (c) => c.notNull())
    .addColumn('original_sample_rate', 'integer', (c) => c.notNull())
    .addColumn('original_channels', 'integer', (c) => c.notNull())
    .addColumn('original_size', 'integer', (c) => c.notNull())
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('sample_rate', 'integer', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('moh_files').execute();
}
