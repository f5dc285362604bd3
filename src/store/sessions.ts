import { isoNow } from './time.ts';
import type { Db } from './db.ts';

export async function insertSession(db: Db, s: { idHash: string; userId: number; ttlMs: number; ip: string | null; userAgent: string | null }): Promise<void> {
  const now = Date.now();
  await db.insertInto('sessions').values({
    id: s.idHash,
    user_id: s.userId,
    created_at: isoNow(now),
    expires_at: isoNow(now + s.ttlMs),
    last_seen_at: isoNow(now),
    ip: s.ip,
    user_agent: s.userAgent,
  }).execute();
}

export async function findLiveSession(db: Db, idHash: string): Promise<{ user_id: number } | undefined> {
  return db.selectFrom('sessions').select('user_id')
    .where('id', '=', idHash).where('expires_at', '>', isoNow())
    .executeTakeFirst();
}

export async function deleteSession(db: Db, idHash: string): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', idHash).execute();
}

/** Password change: every other session of the user ends. */
export async function deleteOtherSessions(db: Db, userId: number, keepIdHash: string | null): Promise<void> {
  let q = db.deleteFrom('sessions').where('user_id', '=', userId);
  if (keepIdHash) q = q.where('id', '!=', keepIdHash);
  await q.execute();
}

export async function purgeExpiredSessions(db: Db): Promise<number> {
  const r = await db.deleteFrom('sessions').where('expires_at', '<=', isoNow()).executeTakeFirst();
  return Number(r.numDeletedRows);
}
