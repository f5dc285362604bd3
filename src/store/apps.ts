/**
 * Apps of the call gateway (seed 002): `app_id` and a secret that is shown once. Rows keep
 * its SHA-256 (Bearer lookup) and a sealed copy (hook signatures).
 */
import { createHash } from 'node:crypto';
import type { Db } from './db.ts';
import type { SecretBox } from './secret-box.ts';
import type { AppRow } from './schema-call-gateway.ts';
import { isoNow } from './time.ts';

export type { AppRow };

export const secretHash = (secret: string): string => createHash('sha256').update(secret).digest('hex');

export async function insertApp(db: Db, box: SecretBox, a: { appId: string; name: string; secret: string }): Promise<AppRow | undefined> {
  const now = isoNow();
  try {
    return await db.insertInto('apps').values({
      app_id: a.appId, name: a.name, secret_hash: secretHash(a.secret), secret_enc: box.seal(a.secret), created_at: now, updated_at: now,
    }).returningAll().executeTakeFirstOrThrow();
  } catch (err) {
    if (/unique|duplicate/i.test((err as Error).message)) return undefined;
    throw err;
  }
}

export async function listApps(db: Db, limit: number, offset: number): Promise<{ rows: AppRow[]; total: number }> {
  const rows = await db.selectFrom('apps').selectAll().orderBy('id').limit(limit).offset(offset).execute();
  const t = await db.selectFrom('apps').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  return { rows, total: Number(t?.n ?? 0) };
}

export function findAppById(db: Db, id: number): Promise<AppRow | undefined> {
  return db.selectFrom('apps').selectAll().where('id', '=', id).executeTakeFirst();
}

export function findAppByAppId(db: Db, appId: string): Promise<AppRow | undefined> {
  return db.selectFrom('apps').selectAll().where('app_id', '=', appId).executeTakeFirst();
}

/** The app whose secret is `secret`, if any. */
export function findAppBySecret(db: Db, secret: string): Promise<AppRow | undefined> {
  return db.selectFrom('apps').selectAll().where('secret_hash', '=', secretHash(secret)).executeTakeFirst();
}

export async function updateApp(db: Db, box: SecretBox, id: number, p: { name?: string; secret?: string }): Promise<AppRow | undefined> {
  return db.updateTable('apps').set({
    ...(p.name !== undefined ? { name: p.name } : {}),
    ...(p.secret !== undefined ? { secret_hash: secretHash(p.secret), secret_enc: box.seal(p.secret) } : {}),
    updated_at: isoNow(),
  }).where('id', '=', id).returningAll().executeTakeFirst();
}

export async function deleteApp(db: Db, id: number): Promise<boolean> {
  const r = await db.deleteFrom('apps').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}
