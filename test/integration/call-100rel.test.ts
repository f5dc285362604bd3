/**
 * Reliable provisionals on the caller's leg (RFC 3262): a caller requiring 100rel gets its
 * 180 with Require: 100rel and RSeq, its PRACK answered 200 in the early dialog, then the
 * call completes normally; a PRACK that acknowledges nothing gets 481. The callee leg then
 * requires 100rel as well and PRACKs the callee's reliable provisionals.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestServer } from '../helpers/server.ts';
import { runSipp, startSippServer } from '../helpers/sipp.ts';
import { api, assertIdle, cdrCount, defaultTrunk, did, inboundTrunk, nextCdr, route, startCallServer, trunkCall } from './call-fixtures.ts';

const DID = '+15554440000';

describe('100rel / PRACK (RFC 3262)', () => {
  let t: TestServer;
  let outTrunk: number;

  before(async () => {
    t = await startCallServer(22000);
    await inboundTrunk(t);
    outTrunk = await defaultTrunk(t, 9);
    await route(t, await did(t, DID), { action: 'forward', action_data: { number: '+15559990004' } });
  });
  after(() => t.close());

  test('reliable 180 (RSeq, Require: 100rel), PRACK 200, then the call is answered and ends', async () => {
    const uas = await startSippServer({ scenario: 'uas-ring-then-answer.xml' });
    await api(t, 'PUT', `/api/trunks/${outTrunk}`, { port: uas.port });
    const n = await cdrCount(t);
    const caller = await runSipp(trunkCall(t, DID, '+15550100900', { scenario: 'uac-100rel.xml', traceMessages: true }));
    assert.equal(caller.stats.successful, 1, `${caller.errors}\n${caller.stdout.slice(-600)}`);
    // The PRACK was answered 200 (CSeq 2 PRACK), not 481.
    assert.match(caller.messages ?? '', /SIP\/2\.0 200 OK\r?\n(?:[^\r\n]+\r?\n)*CSeq: 2 PRACK/);
    const far = await uas.stop();
    assert.equal(far.stats.successful, 1, `callee: ${far.errors}`);
    const cdr = await nextCdr(t, n);
    assert.deepEqual([cdr.disposition, cdr.hangup_by], ['answered', 'caller']);
    await assertIdle(t);
  });

  test('the callee leg asks for 100rel too: its reliable 180 gets our PRACK (RAck), then the call completes', async () => {
    const uas = await startSippServer({ scenario: 'uas-100rel.xml', traceMessages: true });
    await api(t, 'PUT', `/api/trunks/${outTrunk}`, { port: uas.port });
    const n = await cdrCount(t);
    const caller = await runSipp(trunkCall(t, DID, '+15550100901', { scenario: 'uac-100rel.xml' }));
    assert.equal(caller.stats.successful, 1, `${caller.errors}\n${caller.stdout.slice(-600)}`);
    const far = await uas.stop();
    // The callee scenario fails unless the INVITE said Require: 100rel and a PRACK with RAck 1 came.
    assert.equal(far.stats.successful, 1, `callee: ${far.errors}\n${far.messages?.slice(-2000)}`);
    assert.equal((far.messages?.match(/^PRACK /gm) ?? []).length, 1, 'one PRACK, none for the retransmitted 180');
    assert.equal((await nextCdr(t, n)).disposition, 'answered');
    await assertIdle(t);
  });
});
