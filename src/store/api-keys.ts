import type { ApiKeyRow } from './schema.ts';
import { isoNow } from './time.ts';
import type { Db } from './db.ts';

export const API_KEY_SCOPES = ['pbx', 'gateway', 'call', 'metrics'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export interface ApiKey {
  id: number;
  user_id: number;
  name: string;
  prefix: string;
  scopes: ApiKeyScope[];
  created_at: string;
  last_used_at: string | null;
}

export function toApiKey(row: ApiKeyRow): ApiKey {
  return {
    id: row.id,
    user_id: row.user_id,
    name: row.name,
    prefix: row.prefix,
    scopes: JSON.parse(row.scopes) as ApiKeyScope[],
    created_at: row.created_at,
    last_used_at: row.last_used_at,
  };
}

export async function insertApiKey(db: Db, k: { userId: number; name: string; prefix: string; secretHash: string; scopes: ApiKeyScope[] }): Promise<ApiKeyRow> {
  return db.insertInto('api_keys').values({
    user_id: k.userId,
    name: k.name,
    prefix: k.prefix,
    secret_hash: k.secretHash,
    scopes: JSON.stringify(k.scopes),
    created_at: isoNow(),
  }).returningAll().executeTakeFirstOrThrow();
}

export async function findApiKeyByHash(db: Db, secretHash: string): Promise<ApiKeyRow | undefined> {
  return db.selectFrom('api_keys').selectAll().where('secret_hash', '=', secretHash).executeTakeFirst();
}

export async function listApiKeys(db: Db, userId: number | null, limit: number, offset: number): Promise<{ rows: ApiKeyRow[]; total: number }> {
  let q = db.selectFrom('api_keys');
  if (userId !== null) q = q.where('user_id', '=', userId);
  const [rows, count] = await Promise.all([
    q.selectAll().orderBy('id').limit(limit).offset(offset).execute(),
    q.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.n) };
}

export async function findApiKeyById(db: Db, id: number): Promise<ApiKeyRow | undefined> {
  return db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function deleteApiKey(db: Db, id: number): Promise<boolean> {
  const r = await db.deleteFrom('api_keys').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export async function touchApiKey(db: Db, id: number): Promise<void> {
  await db.updateTable('api_keys').set({ last_used_at: isoNow() }).where('id', '=', id).execute();
}
