/**
 * Issue 17 acceptance: calls carried by more than one thread (STROWGER_SIP_CALL_THREADS=1: the
 * main thread and one call shard). 200 concurrent calls from a trunk to a registered sipp
 * phone, each with two re-INVITEs (hold, resume) and a BYE, under loss: the caller's sipp drops
 * one 200 to a BYE in ten and retransmits the BYE, which must meet the completed transaction
 * in the thread holding the call. Every call must
 * end BYE/200 and every message of a call — both legs' requests, responses and
 * retransmissions — must have met one thread: the threads' records of the Call-IDs they
 * handled are disjoint, and each Call-ID sits with the thread it hashes to.
 *
 * Then what the API sees of a shard's calls (list, one call, hang-up), and an INVITE with
 * Replaces (RFC 3891) whose own Call-ID hashes to one thread while the dialog it replaces is
 * held by another: it must reach the call (not 481), and the new dialog's requests with it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { api, cdrList, device, did, eventually, inboundTrunk, registeredUas, route, trunkCall, uasResult } from './call-fixtures.ts';
import { aliceCallsBob, assertSipp, carolReplacesAlice } from './transfer-fixtures.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { runSipp, type SippServer } from '../helpers/sipp.ts';
import { ownerOfCallId } from '../../src/sip/shard-identity.ts';
import type { CallShards } from '../../src/pbx/call-shards.ts';
import type { Cdr } from '../../src/store/cdrs.ts';

const CALLS = 200;
const THREADS = 2; // the main thread and one call shard

/** A server with one call shard beside the main thread, recording the Call-IDs each thread handled. */
const startShardServer = (): Promise<TestServer> => startTestServer('sqlite', {
  STROWGER_RTP_PORTS: '46000-46999',
  STROWGER_SIP_DIGEST_ALGORITHMS: 'MD5,SHA-256',
  STROWGER_MEDIA_WORKERS: '1',
  STROWGER_SIP_CALL_THREADS: '1',
}, { traceCallShards: true });

describe('call shards', () => {
  let t: TestServer;
  const shards = () => t.server.ctx.sip!.callShards as CallShards;

  before(async () => {
    t = await startShardServer();
    await inboundTrunk(t);
    await device(t, 'alice');
    await route(t, await did(t, '+15550100200'), { action: 'ring', action_data: { device_ids: [(await api(t, 'GET', '/api/devices?limit=10')).data[0].id] } });
  });
  after(async () => { await t?.close(); });

  test(`${CALLS} concurrent calls with re-INVITEs and forced retransmissions: each call's messages meet one thread`, async () => {
    const uas: SippServer = await registeredUas(t, 'alice', 'uas-answer.xml', { calls: CALLS, timeoutMs: 120_000 });
    const uac = await runSipp({
      ...trunkCall(t, '+15550100200'), scenario: 'uac-reinvite-lossy.xml',
      injection: { rows: [['+15550100100', '-', 'strowger.test', '']] },
      calls: CALLS, rate: 100, limit: CALLS, timeoutMs: 120_000, traceMessages: false,
    });
    assert.equal(uac.stats.successful, CALLS, `caller: ${uac.errors} ${JSON.stringify(uac.stats)}`);
    assert.equal(uac.stats.failed, 0);
    const callee = await uasResult(uas, 30_000);
    assert.equal(callee.stats.successful, CALLS, `callee: ${callee.errors} ${JSON.stringify(callee.stats)}`);
    // Loss forced retransmissions: BYEs whose 200 the caller "lost".
    assert.ok(uac.stats.retransmissions > 0, `caller retransmissions ${uac.stats.retransmissions}`);

    const cdrs = await eventually('every CDR', async () => { const l = await cdrList(t, CALLS + 10); return l.length >= CALLS ? l : undefined; }, 10_000);
    const answered = cdrs.filter((c: Cdr) => c.disposition === 'answered');
    assert.equal(answered.length, CALLS, JSON.stringify(cdrs.filter((c) => c.disposition !== 'answered').slice(0, 3)));

    const onMain = new Set(shards().mainTrace());
    const onShard = new Set(await shards().ask(1, { op: 'trace' }) as string[]);
    const both = [...onShard].filter((id) => onMain.has(id));
    assert.deepEqual(both, [], 'no Call-ID met two threads');
    // Each CDR names its call's two Call-IDs; each pair sits, whole, with the thread its A-leg hashes to.
    let shardCalls = 0;
    for (const c of answered) {
      const owner = ownerOfCallId(c.a_call_id!, THREADS);
      const holder = owner === 0 ? onMain : onShard;
      assert.ok(holder.has(c.a_call_id!) && holder.has(c.b_call_id!), `call ${c.a_call_id} / ${c.b_call_id} not whole on thread ${owner}`);
      assert.equal(ownerOfCallId(c.b_call_id!, THREADS), owner, 'the B-leg Call-ID hashes to the A-leg owner');
      if (owner === 1) shardCalls++;
    }
    assert.ok(shardCalls > CALLS / 4 && shardCalls < (CALLS * 3) / 4, `calls on the shard: ${shardCalls} of ${CALLS}`);
    const [stats] = await shards().refreshStats();
    assert.equal(stats!.activeCalls, 0);
    assert.equal(t.server.ctx.sip!.b2bua.calls.size, 0);
  });

  test('the API lists the calls of every thread and hangs up a shard\'s call (BYE to both sides)', async () => {
    const n = 12;
    const uas = await registeredUas(t, 'alice', 'uas-answer.xml', { calls: n, timeoutMs: 60_000 });
    const uac = runSipp({ ...trunkCall(t, '+15550100200', '+15550100100', { scenario: 'uac-wait-bye.xml' }), calls: n, rate: 50, limit: n, timeoutMs: 60_000, traceMessages: false });
    const calls = await eventually('every call answered', async () => {
      const list = (await api(t, 'GET', '/api/calls?limit=100')).data as Array<{ id: string; state: string }>;
      return list.length === n && list.every((c) => c.state === 'answered') ? list : undefined;
    }, 20_000);
    const onShard = (await shards().refreshStats())[0]!.activeCalls;
    assert.ok(onShard > 0 && onShard < n, `calls on the shard: ${onShard} of ${n}`);
    const one = await api(t, 'GET', `/api/calls/${calls[0]!.id}`);
    assert.equal(one.id, calls[0]!.id);
    for (const c of calls) assert.equal((await t.request('DELETE', `/api/calls/${c.id}`, { cookie: t.adminCookie })).status, 200);
    const r = await uac;
    assert.equal(r.stats.successful, n, r.errors);
    assert.equal((await uasResult(uas, 10_000)).stats.successful, n);
    assert.equal((await t.request('DELETE', `/api/calls/${calls[0]!.id}`, { cookie: t.adminCookie })).status, 404);
    await eventually('no call left', async () => (await api(t, 'GET', '/api/calls?limit=100')).data.length === 0);
  });
});

// Device calls: no inbound trunk here (its host, 127.0.0.1, would make every phone a trunk).
describe('call shards: INVITE with Replaces across threads', () => {
  let t: TestServer;
  const shards = () => t.server.ctx.sip!.callShards as CallShards;

  before(async () => {
    t = await startShardServer();
    for (const name of ['alice', 'bob', 'carol']) await device(t, name);
  });
  after(async () => { await t?.close(); });

  test('an INVITE with Replaces that hashes to the main thread reaches the call a shard holds: BYE to the replaced caller, tone through the new party, CDRs', async () => {
    // sipp's Call-IDs from `-cid_str` (%u: the call number, 1): alice's call on the shard, carol's INVITE hashing to the main thread.
    const cid = (prefix: string, owner: number) => {
      for (let k = 0; ; k++) if (ownerOfCallId(`${prefix}${k}-1@x`, THREADS) === owner) return `${prefix}${k}-%u@x`;
    };
    const dir = await mkdtemp(path.join(tmpdir(), 'shard-replaces-'));
    try {
      const bob = await registeredUas(t, 'bob', 'uas-answer.xml', { rtpEcho: true, calls: 1 });
      const dialog = await aliceCallsBob(t, path.join(dir, 'alice.log'), ['-cid_str', cid('alice-', 1)]);
      assert.equal(ownerOfCallId(dialog.callId, THREADS), 1, 'alice\'s call is the shard\'s');
      const id = await eventually('the call listed', async () => (await api(t, 'GET', '/api/calls?limit=10')).data[0]?.id as string | undefined);
      const carolCid = cid('carol-', 0);
      await carolReplacesAlice(t, id, dialog, ['-cid_str', carolCid]);
      assertSipp(await uasResult(bob), 'remaining party');
      const cdrs: Cdr[] = await eventually('both CDRs', async () => {
        const l = (await cdrList(t, 50)).filter((c: Cdr) => c.hangup_cause === 'replaced' || c.callee === 'carol');
        return l.length >= 2 ? l : undefined;
      });
      assert.deepEqual(cdrs.map((c) => `${c.caller}>${c.callee}:${c.hangup_cause}`).sort(), ['alice>bob:replaced', 'bob>carol:caller_bye']);
      // carol's dialog (its INVITE, ACK, BYE and their retransmissions) was carried by the shard.
      const onShard = new Set(await shards().ask(1, { op: 'trace' }) as string[]);
      assert.ok(onShard.has(carolCid.replace('%u', '1')), 'carol\'s Call-ID on the shard');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
