/**
 * What message-waiting (MWI) reads besides the voicemail counts: which devices want
 * unsolicited NOTIFYs (`devices.mwi_unsolicited`).
 */
import type { Db } from './db.ts';

/** Among `ids`, the devices set for unsolicited MWI, in id order. */
export async function devicesWithUnsolicitedMwi(db: Db, ids: readonly number[]): Promise<Array<{ id: number; username: string }>> {
  if (ids.length === 0) return [];
  return db.selectFrom('devices').select(['id', 'username'])
    .where('id', 'in', [...new Set(ids)]).where('mwi_unsolicited', '=', 1).orderBy('id').execute();
}
