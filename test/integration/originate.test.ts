/**
 * PBX-originated calls (`src/pbx/originate.ts`) against sipp as the far end: a 401 challenge
 * answered with the given credentials (sipp's `verifyauth` checks the digest), ringing,
 * answer, our BYE; and a CANCEL before the answer. Asserts the bytes sipp received, the
 * events and the CDR rows.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestServer } from '../helpers/server.ts';
import { startSippServer } from '../helpers/sipp.ts';
import type { OriginatedCall } from '../../src/pbx/originate.ts';
import { cdrCount, eventually, nextCdr, startCallServer } from './call-fixtures.ts';

function record(call: OriginatedCall): Array<[string, any]> {
  const events: Array<[string, any]> = [];
  for (const name of ['ringing', 'earlyMedia', 'answered', 'ended'] as const) call.on(name, (e: unknown) => events.push([name, e]));
  return events;
}

/** SIP messages sipp received, from its `-trace_msg` log. */
function received(messages: string): string[] {
  return [...messages.matchAll(/message received \[\d+\] bytes :\n\n([\s\S]*?)(?=\n-{10,}|\n\n\S+ \d|$)/g)].map((m) => m[1]!);
}

describe('originate against sipp', () => {
  let t: TestServer;
  before(async () => { t = await startCallServer(26000); });
  after(async () => { await t.close(); });

  test('401 challenge → authenticated INVITE, 180 → ringing, 200 → answered, hangup → BYE; CDR answered', async () => {
    const uas = await startSippServer({ scenario: 'mock-invite-auth.xml', vars: { user: 'gw-user', pass: 'gw-pass' }, calls: 1 });
    const n = await cdrCount(t);
    const call = t.server.ctx.sip!.originator.originate({
      target: { kind: 'uri', uri: `sip:100@${uas.address}`, credentials: { username: 'gw-user', password: 'gw-pass' } },
      from: '+15550001111', group: 'test-room',
    });
    const events = record(call);
    await eventually('answered', () => events.some(([e]) => e === 'answered'), 8000);
    assert.deepEqual(events.map(([e]) => e), ['ringing', 'answered']);
    assert.equal(events[0]![1].status, 180);
    assert.equal(events[1]![1].codec, 'PCMU/8000');
    assert.equal(t.server.ctx.sip!.media.totals().legs, 1, 'our one local endpoint');
    call.hangup();
    assert.deepEqual(events.at(-1), ['ended', { reason: 'bye-local', sipCode: 200 }]);
    const r = await uas.process.done;
    assert.equal(r.exitCode, 0, r.errors + r.stdout.slice(-2000));
    assert.equal(r.stats.successful, 1);
    const msgs = received(r.messages);
    const invites = msgs.filter((m) => m.startsWith('INVITE '));
    assert.equal(invites.length, 2);
    assert.match(invites[0]!, new RegExp(`^INVITE sip:100@${uas.address.replace(/\./g, '\\.')} SIP/2\\.0\\r?\\n`));
    assert.doesNotMatch(invites[0]!, /Authorization:/i);
    assert.match(invites[0]!, /From: <sip:\+15550001111@127\.0\.0\.1>;tag=/);
    assert.match(invites[0]!, /m=audio \d+ RTP\/AVP 0 8 9 \d+ 101/);
    assert.match(invites[1]!, /Authorization: Digest username="gw-user", realm="sipp\.test", uri="sip:100@[^"]+", algorithm=MD5, nonce="5f0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d", nc=00000001, cnonce="[0-9a-f]+", qop=auth, response="[0-9a-f]{32}"/);
    assert.match(invites[1]!, /CSeq: 2 INVITE/);
    assert.ok(msgs.some((m) => m.startsWith('ACK ')), 'ACK for the 401 and for the 200');
    assert.ok(msgs.some((m) => m.startsWith('BYE ')), 'our BYE');
    const cdr = await nextCdr(t, n);
    assert.equal(cdr.call_id, call.id);
    assert.equal(cdr.direction, 'outbound');
    assert.equal(cdr.disposition, 'answered');
    assert.equal(cdr.hangup_cause, 'api_hangup');
    assert.equal(cdr.hangup_by, 'api');
    assert.equal(cdr.caller, '+15550001111');
    assert.equal(cdr.codec, 'PCMU/8000');
    await eventually('legs released', () => t.server.ctx.sip!.media.totals().legs === 0);
  });

  test('hangup while ringing sends CANCEL; the UAS answers 487; CDR cancelled', async () => {
    const uas = await startSippServer({ scenario: 'uas-no-answer.xml', calls: 1 });
    const n = await cdrCount(t);
    const call = t.server.ctx.sip!.originator.originate({ target: { kind: 'uri', uri: `sip:200@${uas.address}` }, from: 'gateway' });
    const events = record(call);
    await eventually('ringing', () => events.some(([e]) => e === 'ringing'), 8000);
    call.hangup();
    assert.deepEqual(events.at(-1), ['ended', { reason: 'cancelled', sipCode: 487 }]);
    const r = await uas.process.done;
    assert.equal(r.exitCode, 0, r.errors + r.stdout.slice(-2000));
    const msgs = received(r.messages);
    const cancel = msgs.find((m) => m.startsWith('CANCEL '));
    assert.ok(cancel, 'CANCEL received');
    const invite = msgs.find((m) => m.startsWith('INVITE '))!;
    const branch = (m: string) => /Via: [^\r\n]*branch=([^;\r\n]+)/.exec(m)?.[1];
    assert.equal(branch(cancel), branch(invite), 'CANCEL matches the INVITE transaction (RFC 3261 §9.1)');
    assert.match(cancel, /CSeq: 1 CANCEL/);
    assert.ok(msgs.some((m) => m.startsWith('ACK ')), 'ACK of the 487');
    const cdr = await nextCdr(t, n);
    assert.equal(cdr.disposition, 'cancelled');
    assert.equal(cdr.sip_code, 487);
    await eventually('legs released', () => t.server.ctx.sip!.media.totals().legs === 0);
  });
});
