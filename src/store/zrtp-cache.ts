/**
 * Rows of `zrtp_cache` (ZRTP retained secrets per peer ZID) and the ZRTP settings in
 * `system_config`. Secrets are sealed at rest and opened only here.
 */
import type { Db } from './db.ts';
import type { SecretBox } from './secret-box.ts';
import { isoNow } from './time.ts';

export interface ZrtpCacheRow {
  peerZid: string;
  rs1: Buffer | null;
  rs2: Buffer | null;
  verified: boolean;
  updatedAt: string;
}

const open = (box: SecretBox, v: string | null): Buffer | null => (v === null ? null : Buffer.from(box.open(v), 'hex'));
const seal = (box: SecretBox, v: Buffer | null): string | null => (v === null ? null : box.seal(v.toString('hex')));

export async function getZrtpSecrets(db: Db, box: SecretBox, peerZid: string): Promise<ZrtpCacheRow | undefined> {
  const r = await db.selectFrom('zrtp_cache').selectAll().where('peer_zid', '=', peerZid).executeTakeFirst();
  return r && { peerZid: r.peer_zid, rs1: open(box, r.rs1), rs2: open(box, r.rs2), verified: r.verified === 1, updatedAt: r.updated_at };
}

export async function putZrtpSecrets(db: Db, box: SecretBox, peerZid: string, v: { rs1: Buffer | null; rs2: Buffer | null; verified: boolean }): Promise<void> {
  const row = { rs1: seal(box, v.rs1), rs2: seal(box, v.rs2), verified: v.verified ? 1 : 0, updated_at: isoNow() };
  await db.insertInto('zrtp_cache').values({ peer_zid: peerZid, ...row })
    .onConflict((oc) => oc.column('peer_zid').doUpdateSet(row)).execute();
}

/** Sets the SAS verdict of a cached peer; false when the peer is not cached. */
export async function setZrtpVerified(db: Db, peerZid: string, verified: boolean): Promise<boolean> {
  const r = await db.updateTable('zrtp_cache').set({ verified: verified ? 1 : 0, updated_at: isoNow() }).where('peer_zid', '=', peerZid).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function countZrtpPeers(db: Db): Promise<{ peers: number; verified: number }> {
  const rows = await db.selectFrom('zrtp_cache').select('verified').execute();
  return { peers: rows.length, verified: rows.filter((r) => r.verified === 1).length };
}
