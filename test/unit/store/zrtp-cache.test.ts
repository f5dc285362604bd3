/** `zrtp_cache` (migration 250): retained secrets sealed at rest, upsert, the SAS verdict, counts. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { ENGINES, useMigratedStore } from '../../helpers/databases.ts';
import type { Store } from '../../../src/store/database.ts';
import { createSecretBox } from '../../../src/store/secret-box.ts';
import { countZrtpPeers, getZrtpSecrets, putZrtpSecrets, setZrtpVerified } from '../../../src/store/zrtp-cache.ts';

const box = createSecretBox(randomBytes(32));

for (const engine of ENGINES) {
  describe(`zrtp cache store (${engine})`, () => {
    let store: Store;
    useMigratedStore(engine, (s) => { store = s; });

    test('put, get, overwrite; secrets never stored in clear', async () => {
      const zid = 'a1b2c3d4e5f60718293a4b5c';
      assert.equal(await getZrtpSecrets(store.db, box, zid), undefined);
      const rs1 = randomBytes(32);
      await putZrtpSecrets(store.db, box, zid, { rs1, rs2: null, verified: false });
      let row = await getZrtpSecrets(store.db, box, zid);
      assert.ok(row && row.rs1!.equals(rs1) && row.rs2 === null && row.verified === false);
      const raw = await sql<{ rs1: string }>`select rs1 from zrtp_cache where peer_zid = ${zid}`.execute(store.db);
      assert.ok(!raw.rows[0]!.rs1.includes(rs1.toString('hex')), 'sealed by the secret box');
      const next = randomBytes(32);
      await putZrtpSecrets(store.db, box, zid, { rs1: next, rs2: rs1, verified: true });
      row = await getZrtpSecrets(store.db, box, zid);
      assert.ok(row && row.rs1!.equals(next) && row.rs2!.equals(rs1) && row.verified);
      assert.deepEqual(await countZrtpPeers(store.db), { peers: 1, verified: 1 });
    });

    test('the SAS verdict of a peer; unknown peers are reported, not created', async () => {
      const zid = '0123456789abcdef01234567';
      assert.equal(await setZrtpVerified(store.db, zid, true), false);
      await putZrtpSecrets(store.db, box, zid, { rs1: randomBytes(32), rs2: null, verified: false });
      assert.equal(await setZrtpVerified(store.db, zid, true), true);
      assert.equal((await getZrtpSecrets(store.db, box, zid))!.verified, true);
      assert.equal(await setZrtpVerified(store.db, zid, false), true);
      assert.equal((await getZrtpSecrets(store.db, box, zid))!.verified, false);
    });
  });
}
