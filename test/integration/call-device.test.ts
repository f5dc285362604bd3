/**
 * Issue 5, acceptance 2: device -> device calls with digest (407, RFC 3261 §22.3) and the
 * outcomes a PBX must tell apart, each with its CDR disposition: forking to two contacts
 * (first 200 wins, the other is CANCELled, §16.7 / §9.1), busy, ring timeout, caller
 * CANCEL, blocklisted caller, DND, time-window routes, unknown number.
 *
 * Every test uses its own callee device: bindings of earlier tests' sipp UASes stay
 * registered and would otherwise be forked to.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestServer } from '../helpers/server.ts';
import { runSipp, type SippResult } from '../helpers/sipp.ts';
import {
  api, assertIdle, cdrCount, device, deviceCall, did, finalStatuses, inboundTrunk, nextCdr, registeredUas, route, startCallServer, trunkCall,
} from './call-fixtures.ts';

const RING_TIMEOUT_S = 2;

function assertSipp(r: SippResult, what: string, successful = 1): void {
  assert.equal(r.stats.successful, successful, `${what}: ${r.errors}\n${r.stdout.slice(-800)}`);
  assert.equal(r.stats.failed, 0, `${what}: ${r.errors}`);
}

/** "HH:MM" in UTC, `minutes` from now (wrapping at midnight). */
function utcClock(minutes: number): string {
  const d = new Date(Date.now() + minutes * 60000);
  return `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
}

describe('device calls', () => {
  let t: TestServer;
  let alice: number;

  before(async () => {
    t = await startCallServer(21200, { STROWGER_RING_TIMEOUT_SECONDS: String(RING_TIMEOUT_S) });
    alice = await device(t, 'alice');
  });
  after(() => t.close());
  afterEach(() => assertIdle(t));

  test('two contacts ring, the first 200 wins, the other gets CANCEL; CDR answered', async () => {
    const bob = await device(t, 'bob');
    const answers = await registeredUas(t, 'bob', 'uas-answer.xml');
    const rings = await registeredUas(t, 'bob', 'uas-no-answer.xml');
    const n = await cdrCount(t);
    const caller = await runSipp(deviceCall(t, 'alice', 'bob', { pauseMs: 1000 }));
    assertSipp(caller, 'caller');
    const answered = await answers.stop();
    const rang = await rings.stop();
    assertSipp(answered, 'answering contact');
    // uas-no-answer.xml only succeeds after CANCEL, 200, 487, ACK.
    assertSipp(rang, 'ringing contact');
    assert.deepEqual([answered.stats.incomingCalls, rang.stats.incomingCalls], [1, 1]);
    const cdr = await nextCdr(t, n);
    assert.equal(cdr.disposition, 'answered');
    assert.equal(cdr.direction, 'internal');
    assert.equal(cdr.caller, 'alice');
    assert.equal(cdr.callee, 'bob');
    assert.equal(cdr.caller_device_id, alice);
    assert.equal(cdr.callee_device_id, bob);
    assert.equal(cdr.hangup_by, 'caller');
    assert.equal(cdr.sip_code, 200);
    assert.ok(Math.abs(cdr.billsec - 1) <= 1, `billsec ${cdr.billsec}`);
  });

  test('busy callee: 486 to the caller, CDR busy', async () => {
    await device(t, 'busy1');
    const busy = await registeredUas(t, 'busy1', 'uas-busy.xml');
    const n = await cdrCount(t);
    const caller = await runSipp(deviceCall(t, 'alice', 'busy1', { scenario: 'uac-rejected.xml' }));
    assertSipp(caller, 'caller');
    assert.deepEqual(finalStatuses(caller.messages), [486]);
    assertSipp(await busy.stop(), 'callee');
    const cdr = await nextCdr(t, n);
    assert.deepEqual([cdr.disposition, cdr.sip_code, cdr.hangup_cause, cdr.answer_time, cdr.billsec], ['busy', 486, 'busy', null, 0]);
  });

  test('no answer within the ring timeout: callee CANCELled, 480 to the caller, CDR no_answer', async () => {
    await device(t, 'sleepy');
    const sleepy = await registeredUas(t, 'sleepy', 'uas-no-answer.xml');
    const n = await cdrCount(t);
    const started = Date.now();
    const caller = await runSipp(deviceCall(t, 'alice', 'sleepy', { scenario: 'uac-rejected.xml' }));
    const took = Date.now() - started;
    assertSipp(caller, 'caller');
    assert.deepEqual(finalStatuses(caller.messages), [480]);
    assert.ok(took >= RING_TIMEOUT_S * 1000 && took < RING_TIMEOUT_S * 1000 + 3000, `took ${took} ms`);
    assertSipp(await sleepy.stop(), 'callee');
    const cdr = await nextCdr(t, n);
    assert.deepEqual([cdr.disposition, cdr.sip_code, cdr.hangup_cause, cdr.hangup_by], ['no_answer', 480, 'no_answer', 'system']);
  });

  test('caller CANCELs while it rings: 487, callee CANCELled, CDR cancelled', async () => {
    await device(t, 'carol');
    const carol = await registeredUas(t, 'carol', 'uas-no-answer.xml');
    const n = await cdrCount(t);
    const caller = await runSipp(deviceCall(t, 'alice', 'carol', { scenario: 'uac-cancel.xml' }));
    assertSipp(caller, 'caller');
    assert.deepEqual(finalStatuses(caller.messages), [487]);
    assertSipp(await carol.stop(), 'callee');
    const cdr = await nextCdr(t, n);
    assert.deepEqual([cdr.disposition, cdr.sip_code, cdr.hangup_cause, cdr.hangup_by], ['cancelled', 487, 'caller_cancel', 'caller']);
  });

  test('DND on the callee device: 486 without ringing it, CDR busy', async () => {
    const id = await device(t, 'dave');
    const dave = await registeredUas(t, 'dave', 'uas-answer.xml');
    await api(t, 'PUT', '/api/dnd', { enabled: true, device_id: id });
    const n = await cdrCount(t);
    const caller = await runSipp(deviceCall(t, 'alice', 'dave', { scenario: 'uac-rejected.xml' }));
    assertSipp(caller, 'caller');
    assert.deepEqual(finalStatuses(caller.messages), [486]);
    const uas = await dave.stop();
    assert.equal(uas.stats.incomingCalls, 0, 'the DND device must not ring');
    const cdr = await nextCdr(t, n);
    assert.deepEqual([cdr.disposition, cdr.sip_code, cdr.hangup_cause], ['busy', 486, 'dnd']);
  });

  test('unknown number: 404, CDR failed / no_route', async () => {
    const n = await cdrCount(t);
    const caller = await runSipp(deviceCall(t, 'alice', 'nobody-here', { scenario: 'uac-rejected.xml' }));
    assertSipp(caller, 'caller');
    assert.deepEqual(finalStatuses(caller.messages), [404]);
    const cdr = await nextCdr(t, n);
    assert.deepEqual([cdr.disposition, cdr.sip_code, cdr.hangup_cause, cdr.caller_device_id], ['failed', 404, 'no_route', alice]);
  });

  describe('from the carrier', () => {
    let trunkId: number;
    before(async () => { trunkId = await inboundTrunk(t); });

    test('blocklisted caller: 603, CDR blocked', async () => {
      const didId = await did(t, '+15551110001');
      const target = await device(t, 'erin');
      await route(t, didId, { action: 'forward', action_data: { device_id: target } });
      await api(t, 'POST', '/api/blocklist', { phone_number: '+15550666666', reason: 'spam' });
      const n = await cdrCount(t);
      const caller = await runSipp(trunkCall(t, '+15551110001', '+15550666666', { scenario: 'uac-rejected.xml' }));
      assertSipp(caller, 'caller');
      assert.deepEqual(finalStatuses(caller.messages), [603]);
      const cdr = await nextCdr(t, n);
      assert.deepEqual([cdr.disposition, cdr.sip_code, cdr.hangup_cause, cdr.direction, cdr.trunk_id], ['blocked', 603, 'blocked', 'inbound', trunkId]);
    });

    test('two time-window routes on one DID: the one covering now rings its device', async () => {
      const didId = await did(t, '+15551110002');
      const dayId = await device(t, 'day-desk');
      const nightId = await device(t, 'night-desk');
      const day = await registeredUas(t, 'day-desk', 'uas-answer.xml');
      const night = await registeredUas(t, 'night-desk', 'uas-answer.xml');
      // The route that must not match comes first: only its window keeps it out.
      await route(t, didId, { name: 'not now', priority: 1, conditions: { time_start: utcClock(120), time_end: utcClock(180) }, action: 'ring', action_data: { device_ids: [nightId] } });
      await route(t, didId, { name: 'now', priority: 2, conditions: { time_start: utcClock(-60), time_end: utcClock(60) }, action: 'ring', action_data: { device_ids: [dayId] } });
      const n = await cdrCount(t);
      const caller = await runSipp({ ...trunkCall(t, '+15551110002'), scenario: 'uac', pauseMs: 200 });
      assertSipp(caller, 'caller');
      assertSipp(await day.stop(), 'day device');
      const nightRun = await night.stop();
      assert.equal(nightRun.stats.incomingCalls, 0, 'the out-of-window device must not ring');
      const cdr = await nextCdr(t, n);
      assert.equal(cdr.callee_device_id, dayId);
    });

    test('unknown DID: 404, CDR failed / no_route', async () => {
      const n = await cdrCount(t);
      const caller = await runSipp(trunkCall(t, '+15551119999', '+15550100300', { scenario: 'uac-rejected.xml' }));
      assertSipp(caller, 'caller');
      assert.deepEqual(finalStatuses(caller.messages), [404]);
      const cdr = await nextCdr(t, n);
      assert.deepEqual([cdr.disposition, cdr.sip_code, cdr.hangup_cause, cdr.direction], ['failed', 404, 'no_route', 'inbound']);
    });
  });

});
