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
import { api, assertIdle, cdrCount, defaultTrunk, did, eventually, inboundTrunk, nextCdr, route, startCallServer, trunkCall } from './call-fixtures.ts';

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
