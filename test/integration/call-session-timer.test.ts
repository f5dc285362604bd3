/**
 * Session timers on the caller's leg (RFC 4028): an interval below our Min-SE gets 422 with
 * Min-SE (§8.1); a caller that supports timers gets its interval back with refresher=uac and
 * Require: timer (§9), and when it never refreshes we end the session with BYE to both legs
 * (§10) and a CDR with cause session_expired.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestServer } from '../helpers/server.ts';
import { runSipp, startSippServer, type SippServer } from '../helpers/sipp.ts';
import { api, assertIdle, cdrCount, defaultTrunk, did, inboundTrunk, nextCdr, route, startCallServer, trunkCall } from './call-fixtures.ts';

const DID = '+15553330000';

describe('session timers (RFC 4028)', () => {
  let t: TestServer;
  let outTrunk: number;
  let uas: SippServer | undefined;

  before(async () => {
    t = await startCallServer(21800, { STROWGER_SIP_MIN_SE: '3' });
    await inboundTrunk(t);
    outTrunk = await defaultTrunk(t, 9);
    await route(t, await did(t, DID), { action: 'forward', action_data: { number: '+15559990003' } });
  });
  after(() => t.close());
  afterEach(async () => {
    await uas?.stop();
    uas = undefined;
    await assertIdle(t);
  });

  test('Session-Expires below Min-SE: 422 with Min-SE, nothing rings', async () => {
    const n = await cdrCount(t);
    const r = await runSipp(trunkCall(t, DID, '+15550100700', { scenario: 'uac-session-too-small.xml', vars: { se: '2' }, traceMessages: true }));
    assert.equal(r.stats.successful, 1, `${r.errors}\n${r.stdout.slice(-600)}`);
    assert.match(r.messages ?? '', /SIP\/2\.0 422 [^\r\n]*\r?\n(?:[^\r\n]+\r?\n)*Min-SE: 3\r?\n/);
    assert.equal(await cdrCount(t), n, 'a 422 negotiation step is not a call attempt');
  });

  test('unrefreshed session: 200 carries Session-Expires;refresher=uac + Require: timer, then BYE to both legs', async () => {
    uas = await startSippServer({ scenario: 'uas-wait-bye.xml' });
    await api(t, 'PUT', `/api/trunks/${outTrunk}`, { port: uas.port });
    const n = await cdrCount(t);
    const started = Date.now();
    const caller = await runSipp(trunkCall(t, DID, '+15550100800', { scenario: 'uac-session-timer.xml', vars: { se: '3' }, timeoutMs: 20000 }));
    assert.equal(caller.stats.successful, 1, `caller: ${caller.errors}\n${caller.stdout.slice(-600)}`);
    // §10: the BYE comes SE - min(32, SE/3) = 2 s after the answer, not before.
    assert.ok(Date.now() - started >= 1900, `BYE after ${Date.now() - started} ms`);
    const far = await uas.stop();
    uas = undefined;
    assert.equal(far.stats.successful, 1, `callee must get a BYE: ${far.errors}`);
    const cdr = await nextCdr(t, n);
    assert.deepEqual([cdr.disposition, cdr.hangup_cause, cdr.hangup_by], ['answered', 'session_expired', 'system']);
  });
});
