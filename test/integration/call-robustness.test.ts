/**
 * Issue 5, acceptance 3 and 5: hang-up through DELETE /api/calls/{id} (BYE to both sides,
 * CDR hangup_by api), hold/resume by re-INVITE end to end (RFC 3264 §8.4), late offer
 * (RFC 3261 §13.2.1: offer in the 200, answer in the ACK), and a bad SDP refused with
 * 400/488 without leaking relay legs. Carrier in -> DID -> forward -> default trunk; the
 * default trunk is pointed at each test's own sipp UAS.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestServer } from '../helpers/server.ts';
import { runSipp, spawnSipp, startSippServer, type SippResult, type SippServer } from '../helpers/sipp.ts';
import {
  api, assertIdle, cdrCount, defaultTrunk, did, eventually, finalStatuses, inboundTrunk, nextCdr, route, startCallServer, trunkCall,
} from './call-fixtures.ts';

const DID = '+15552220000';

function assertSipp(r: SippResult, what: string): void {
  assert.equal(r.stats.successful, 1, `${what}: ${r.errors}\n${r.stdout.slice(-800)}`);
  assert.equal(r.stats.failed, 0, `${what}: ${r.errors}`);
}

describe('call control and robustness', () => {
  let t: TestServer;
  let outTrunk: number;
  let uas: SippServer | undefined;

  /** Starts the far end for one test and points the default trunk at it. */
  async function farEnd(scenario: string): Promise<SippServer> {
    uas = await startSippServer({ scenario });
    await api(t, 'PUT', `/api/trunks/${outTrunk}`, { port: uas.port });
    return uas;
  }

  before(async () => {
    t = await startCallServer(21400);
    await inboundTrunk(t);
    outTrunk = await defaultTrunk(t, 9);
    await route(t, await did(t, DID), { action: 'forward', action_data: { number: '+15559990001' } });
  });
  after(() => t.close());
  afterEach(async () => {
    await uas?.stop();
    uas = undefined;
    await assertIdle(t);
  });

  test('DELETE /api/calls/{id} sends BYE to both sides; CDR hangup_by api', async () => {
    const far = await farEnd('uas-wait-bye.xml');
    const n = await cdrCount(t);
    const caller = await spawnSipp(trunkCall(t, DID, '+15550100400', { scenario: 'uac-wait-bye.xml' }));
    const call = await eventually('an answered call', async () => (await api(t, 'GET', '/api/calls')).data.find((c: { state: string }) => c.state === 'answered'));
    const del = await t.request('DELETE', `/api/calls/${call.id}`, { cookie: t.adminCookie });
    assert.deepEqual([del.status, del.body], [200, { success: true }]);
    assertSipp(await caller.done, 'caller (uac-wait-bye: must get a BYE)');
    assertSipp(await far.stop(), 'callee (uas-wait-bye: must get a BYE)');
    uas = undefined;
    const gone = await t.request('GET', `/api/calls/${call.id}`, { cookie: t.adminCookie });
    assert.equal(gone.status, 404);
    const cdr = await nextCdr(t, n);
    assert.deepEqual([cdr.call_id, cdr.disposition, cdr.hangup_by, cdr.hangup_cause, cdr.sip_code], [call.id, 'answered', 'api', 'api_hangup', 200]);
  });

  test('hold and resume by re-INVITE pass through both dialogs', async () => {
    const far = await farEnd('uas-answer.xml');
    const n = await cdrCount(t);
    const caller = await runSipp(trunkCall(t, DID, '+15550100500', { scenario: 'uac-hold.xml' }));
    assertSipp(caller, 'caller (uac-hold)');
    // Two re-INVITEs crossed over to the callee, each answered and ACKed there.
    const callee = await far.stop();
    uas = undefined;
    assertSipp(callee, 'callee (uas-answer)');
    assert.equal((callee.messages.match(/message received \[\d+\] bytes :\s+INVITE /g) ?? []).length, 3, 'initial INVITE + hold + resume');
    assert.match(callee.messages, /a=sendonly/);
    const cdr = await nextCdr(t, n);
    assert.deepEqual([cdr.disposition, cdr.hangup_by, cdr.hangup_cause], ['answered', 'caller', 'caller_bye']);
  });

  test('late offer: INVITE without SDP, offer in the 200, answer in the ACK', async () => {
    const far = await farEnd('uas-200-only.xml');
    const n = await cdrCount(t);
    const caller = await runSipp(trunkCall(t, DID, '+15550100600', { scenario: 'uac-late-offer.xml', pauseMs: 300 }));
    assertSipp(caller, 'caller (uac-late-offer)');
    const callee = await far.stop();
    uas = undefined;
    assertSipp(callee, 'callee (uas-200-only)');
    // The callee's INVITE had no body and its ACK carried our re-anchored answer.
    const invite = /message received \[\d+\] bytes :\s+(INVITE [^]*?)\n\n-{10}/.exec(callee.messages)?.[1] ?? '';
    assert.match(invite, /Content-Length: *0/i);
    const ack = /message received \[\d+\] bytes :\s+(ACK [^]*?)\n\n-{10}/.exec(callee.messages)?.[1] ?? '';
    assert.match(ack, /m=audio \d+ RTP\/AVP 0/);
    assert.match(ack, /o=strowger /);
    const cdr = await nextCdr(t, n);
    assert.deepEqual([cdr.disposition, cdr.codec], ['answered', 'PCMU/8000']);
  });

  const badOffers: Array<[string, Record<string, string>]> = [
    ['an m= port that does not parse', { sdp_host: '127.0.0.1', sdp_port: 'notaport' }],
    ['a host name as media address (nothing to relay to)', { sdp_host: 'media.example.invalid', sdp_port: '4000' }],
  ];
  for (const [what, keys] of badOffers) {
    test(`an offer with ${what} gets 400 or 488, no fork, no relay leg left`, async () => {
      const far = await farEnd('uas-200-only.xml');
      const n = await cdrCount(t);
      const caller = await runSipp(trunkCall(t, DID, '+15550100700', { scenario: 'uac-bad-sdp.xml', keys }));
      assertSipp(caller, 'caller (uac-bad-sdp)');
      const [status] = finalStatuses(caller.messages);
      assert.ok(status === 400 || status === 488, `status ${status}`);
      await assertIdle(t);
      const callee = await far.stop();
      uas = undefined;
      assert.equal(callee.stats.incomingCalls, 0, 'nothing may be forked for a bad offer');
      const cdr = await nextCdr(t, n);
      assert.deepEqual([cdr.disposition, cdr.sip_code], ['failed', status]);
    });
  }
});
