/**
 * Issue 5, acceptance 1: a carrier call through the B2BUA with real media. sipp (from the
 * inbound trunk's host) dials a DID whose route forwards to a number; the default trunk is a
 * sipp UAS that echoes RTP. The caller plays g711a.pcap; the relay's counters, read through
 * GET /api/calls/{id} while the call is up, prove each packet crossed our relay both ways.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { TestServer } from '../helpers/server.ts';
import { runSipp, spawnSipp, startSippServer, type SippServer } from '../helpers/sipp.ts';
import { api, assertIdle, cdrCount, defaultTrunk, device, did, eventually, finalStatuses, inboundTrunk, nextCdr, route, startCallServer, trunkCall } from './call-fixtures.ts';

const DID = '+15551230000';
const FORWARD_TO = '+15559990000';
/** RTP packets in /usr/share/sip-tester/g711a.pcap (PT 8, 20 ms each, spread over 7.05 s). */
const PCAP_PACKETS = 236;

describe('trunk -> DID -> forward -> default trunk', () => {
  let t: TestServer;
  let uas: SippServer;
  let inTrunk: number;
  let outTrunk: number;
  let didId: number;

  before(async () => {
    t = await startCallServer(21000);
    uas = await startSippServer({ scenario: 'uas-answer.xml', rtpEcho: true });
    inTrunk = await inboundTrunk(t);
    outTrunk = await defaultTrunk(t, uas.port);
    didId = await did(t, DID);
    await route(t, didId, { action: 'forward', action_data: { number: FORWARD_TO } });
  });
  after(async () => {
    await uas.stop();
    await t.close();
  });
  afterEach(() => assertIdle(t));

  test('connects, relays every packet both ways, CDR answered with billsec of the pause', async () => {
    const n = await cdrCount(t);
    const pauseMs = 8000;
    const caller = await spawnSipp(trunkCall(t, DID, '+15550100100', { pauseMs, timeoutMs: 20000 }));
    const call = await eventually('an answered call', async () => {
      const list = await api(t, 'GET', '/api/calls');
      return list.data.find((c: { state: string }) => c.state === 'answered');
    });
    assert.equal(call.direction, 'inbound');
    assert.equal(call.caller, '+15550100100');
    assert.equal(call.callee, DID);
    assert.equal(call.did_number, DID);
    assert.equal(call.codec, 'PCMA/8000');
    // The pcap spans 7.05 s (236 packets with silence gaps); read the counters after it and before the BYE.
    await new Promise((r) => setTimeout(r, 7500));
    const live = await api(t, 'GET', `/api/calls/${call.id}`);
    const a = live.legs.a.media;
    const b = live.legs.b.media;
    // Caller -> A leg -> B leg -> UAS, echoed UAS -> B leg -> A leg -> caller: no loss on loopback.
    assert.deepEqual(
      { aIn: a.packets_in, bOut: b.packets_out, bIn: b.packets_in, aOut: a.packets_out },
      { aIn: PCAP_PACKETS, bOut: PCAP_PACKETS, bIn: PCAP_PACKETS, aOut: PCAP_PACKETS },
    );
    assert.equal(a.bytes_in, b.bytes_out);
    assert.equal(b.bytes_in, a.bytes_out);
    const r = await caller.done;
    assert.equal(r.exitCode, 0, r.errors);
    assert.equal(r.stats.successful, 1);

    const cdr = await nextCdr(t, n);
    assert.equal(cdr.call_id, call.id);
    assert.equal(cdr.disposition, 'answered');
    assert.equal(cdr.hangup_cause, 'caller_bye');
    assert.equal(cdr.hangup_by, 'caller');
    assert.equal(cdr.sip_code, 200);
    assert.equal(cdr.direction, 'inbound');
    assert.equal(cdr.did_id, didId);
    assert.equal(cdr.trunk_id, inTrunk);
    assert.equal(cdr.codec, 'PCMA/8000');
    assert.ok(Math.abs(cdr.billsec - pauseMs / 1000) <= 1, `billsec ${cdr.billsec}`);
    assert.ok(outTrunk > 0);
  });

  test('a finished call is not kept alive by its lingering transactions (Timer L/M/J hold them 32 s)', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const n = await cdrCount(t);
    const sip = t.server.ctx.sip!;
    const caller = await spawnSipp({ ...trunkCall(t, DID), scenario: 'uac', calls: 1, pauseMs: 1000, traceMessages: false });
    // Only a weak reference may outlive this line: a local would itself keep the call alive.
    const ref = new WeakRef(await eventually('the call', () => sip.b2bua.calls.values().next().value));
    const r = await caller.done;
    assert.equal(r.stats.successful, 1);
    await nextCdr(t, n);
    await assertIdle(t);
    // The INVITE server (Accepted, Timer L), INVITE client (Accepted, Timer M) and BYE
    // transactions of the call are still there, absorbing retransmissions...
    assert.ok(sip.endpoint.transactions.size >= 3, `lingering transactions: ${sip.endpoint.transactions.size}`);
    // ...but hold neither the call nor its dialogs and messages.
    await new Promise((res) => setImmediate(res));
    gc();
    assert.equal(ref.deref(), undefined, 'the ended call is still reachable');
  });

  test('ten calls in a row at 5 cps all answered, one CDR each', async () => {
    const n = await cdrCount(t);
    const r = await runSipp({ ...trunkCall(t, DID), scenario: 'uac', calls: 10, rate: 5, timeoutMs: 20000, traceMessages: false });
    assert.equal(r.exitCode, 0, r.errors);
    assert.equal(r.stats.successful, 10);
    const list = await eventually('10 CDRs', async () => { const b = await api(t, 'GET', '/api/cdrs?limit=20'); return b.pagination.total === n + 10 ? b.data : undefined; });
    assert.deepEqual(new Set(list.slice(0, 10).map((c: { disposition: string }) => c.disposition)), new Set(['answered']));
  });
});

/**
 * Issue 10, "events in one typed catalogue": API writes reach the call router's cache through
 * the event bus at once, not after a TTL. Each call runs right after the write that changes its
 * outcome, with the old outcome cached by the call before it.
 */
describe('API changes reach the call router at once', () => {
  let t: TestServer;

  before(async () => {
    t = await startCallServer(22200);
    await inboundTrunk(t);
  });
  after(async () => { await t.close(); });
  afterEach(() => assertIdle(t));

  const call = async (dialed: string) => {
    const n = await cdrCount(t);
    const r = await runSipp(trunkCall(t, dialed, '+15550100400', { scenario: 'uac-rejected.xml', traceMessages: true }));
    const cdr = await nextCdr(t, n);
    return { statuses: finalStatuses(r.messages), cause: cdr.hangup_cause };
  };

  test('a renumbered DID stops answering on its old number and answers on the new one (pbx.dids.changed)', async () => {
    const OLD = '+15552220000';
    const NEW = '+15552220001';
    const didId = await did(t, OLD);
    await route(t, didId, { action: 'reject', action_data: { code: 603, reason: 'Decline' } });
    assert.deepEqual(await call(OLD), { statuses: [603], cause: 'rejected' }, 'the DID is now cached under its old number');
    await api(t, 'PUT', `/api/dids/${didId}`, { phone_number: NEW });
    assert.deepEqual(await call(OLD), { statuses: [404], cause: 'no_route' });
    assert.deepEqual(await call(NEW), { statuses: [603], cause: 'rejected' });
  });

  test('a user\'s Do Not Disturb stops their devices ringing at once (pbx.dnd.changed)', async () => {
    const didId = await did(t, '+15552220002');
    const desk = await device(t, 'dnd-desk'); // owned by the admin, whose DND this test sets
    await route(t, didId, { action: 'ring', action_data: { device_ids: [desk] } });
    assert.deepEqual(await call('+15552220002'), { statuses: [480], cause: 'unavailable' }, 'not registered: the users\' DND set is now cached');
    await api(t, 'PUT', '/api/dnd', { enabled: true });
    assert.deepEqual(await call('+15552220002'), { statuses: [486], cause: 'dnd' });
    await api(t, 'PUT', '/api/dnd', { enabled: false });
    assert.deepEqual(await call('+15552220002'), { statuses: [480], cause: 'unavailable' });
  });
});
