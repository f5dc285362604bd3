import type { UserRow, UserUpdate } from './schema.ts';
import { isoNow } from './time.ts';
import type { Db } from './db.ts';

export interface User {
  id: number;
  email: string;
  role: 'admin' | 'user';
  dnd_enabled: boolean;
  created_at: string;
  updated_at: string;
}

export function toUser(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    dnd_enabled: row.dnd_enabled === 1,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

export async function findUserByEmail(db: Db, email: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('email', '=', email.toLowerCase()).executeTakeFirst();
}

export async function findUserById(db: Db, id: number): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function insertUser(db: Db, u: { email: string; password_hash: string; role: 'admin' | 'user' }): Promise<UserRow> {
  const now = isoNow();
  return db.insertInto('users')
    .values({ email: u.email.toLowerCase(), password_hash: u.password_hash, role: u.role, created_at: now, updated_at: now })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function updateUser(db: Db, id: number, patch: UserUpdate): Promise<UserRow | undefined> {
  return db.updateTable('users').set({ ...patch, updated_at: isoNow() }).where('id', '=', id).returningAll().executeTakeFirst();
}

export async function deleteUser(db: Db, id: number): Promise<boolean> {
  const r = await db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export async function countUsers(db: Db, role?: 'admin' | 'user'): Promise<number> {
  let q = db.selectFrom('users').select((eb) => eb.fn.countAll().as('n'));
  if (role) q = q.where('role', '=', role);
  const r = await q.executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function listUsers(db: Db, limit: number, offset: number): Promise<{ rows: UserRow[]; total: number }> {
  const [rows, total] = await Promise.all([
    db.selectFrom('users').selectAll().orderBy('id').limit(limit).offset(offset).execute(),
    countUsers(db),
  ]);
  return { rows, total };
}

/**
 * Ids of the users whose Do Not Disturb is on: none of their devices rings. Read whole so the
 * call router can keep it in memory (a handful of ids) until `pbx.dnd.changed`.
 */
export async function listDndUserIds(db: Db): Promise<number[]> {
  const rows = await db.selectFrom('users').select('id').where('dnd_enabled', '=', 1).execute();
  return rows.map((r) => r.id);
}
