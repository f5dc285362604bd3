/**
 * Aligns the DIDs with the numbers of the Twilio account (`POST /api/dids/sync`).
 *
 * A Twilio number is matched to a DID by its sid first, then by its number (a DID created by
 * hand becomes linked). New numbers become DIDs; matched ones take Twilio's friendly name and
 * capabilities (and lose `released_at` if they had it). DIDs linked to a sid that the account
 * no longer has are marked `released_at`, not deleted: their routes stay until an admin decides.
 * DIDs never linked to Twilio (numbers of other trunks) are left alone.
 */
import type { Updateable } from 'kysely';
import type { DidsTable } from './schema.ts';
import type { DidCapability } from './dids.ts';
import { isoNow } from './time.ts';
import type { Tx } from './db.ts';

export interface AccountNumber {
  sid: string;
  phoneNumber: string;
  friendlyName: string | null;
  capabilities: DidCapability[];
}

export interface DidSyncResult {
  created: number;
  updated: number;
  removed: number;
  /** Ids of every DID written (for cache invalidation). */
  changedIds: number[];
}

/** Run inside one transaction: the counts and the rows agree. */
export async function syncDidsWithAccount(tx: Tx, numbers: readonly AccountNumber[]): Promise<DidSyncResult> {
  const now = isoNow();
  const dids = await tx.selectFrom('dids').selectAll().execute();
  const bySid = new Map(dids.filter((d) => d.twilio_sid).map((d) => [d.twilio_sid!, d]));
  const byNumber = new Map(dids.map((d) => [d.phone_number, d]));
  const out: DidSyncResult = { created: 0, updated: 0, removed: 0, changedIds: [] };
  const seen = new Set<number>();

  for (const n of numbers) {
    const caps = JSON.stringify(n.capabilities);
    const did = bySid.get(n.sid) ?? byNumber.get(n.phoneNumber);
    if (!did) {
      const row = await tx.insertInto('dids').values({
        phone_number: n.phoneNumber, friendly_name: n.friendlyName, capabilities: caps, twilio_sid: n.sid, created_at: now, updated_at: now,
      }).returning('id').executeTakeFirstOrThrow();
      out.created++;
      out.changedIds.push(row.id);
      seen.add(row.id);
      continue;
    }
    seen.add(did.id);
    const set: Updateable<DidsTable> = {};
    if (did.twilio_sid !== n.sid) set.twilio_sid = n.sid;
    if (did.phone_number !== n.phoneNumber && !byNumber.has(n.phoneNumber)) set.phone_number = n.phoneNumber;
    if (did.friendly_name !== n.friendlyName) set.friendly_name = n.friendlyName;
    if (did.capabilities !== caps) set.capabilities = caps;
    if (did.released_at !== null) set.released_at = null;
    if (Object.keys(set).length === 0) continue;
    await tx.updateTable('dids').set({ ...set, updated_at: now }).where('id', '=', did.id).execute();
    out.updated++;
    out.changedIds.push(did.id);
  }

  for (const did of dids) {
    if (seen.has(did.id) || did.twilio_sid === null || did.released_at !== null) continue;
    await tx.updateTable('dids').set({ released_at: now, updated_at: now }).where('id', '=', did.id).execute();
    out.removed++;
    out.changedIds.push(did.id);
  }
  return out;
}
