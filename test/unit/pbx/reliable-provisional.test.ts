import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReliableProvisionals } from '../../../src/pbx/reliable-provisional.ts';
import type { SipMessage } from '../../../src/sip/message.ts';

function fakeMsg(headers: Record<string, string>): SipMessage {
  return { headers } as unknown as SipMessage;
}

test('RSeq increments, one outstanding at a time, PRACK must match RSeq and CSeq (RFC 3262 §3, §7.2)', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const sent: SipMessage[] = [];
  let timedOut = false;
  const rel = new ReliableProvisionals({ t1: 500, send: (m) => sent.push(m), onTimeout: () => { timedOut = true; } });
  const built: Array<Record<string, string>> = [];
  const build = (h: Record<string, string>) => { built.push(h); return fakeMsg(h); };
  rel.provisional(build, false);
  assert.equal(built.length, 1);
  assert.equal(built[0]!.Require, '100rel');
  const first = Number(built[0]!.RSeq);
  assert.ok(first >= 2 && first <= 2 ** 31);
  rel.provisional(build, false); // a second 180 while one is unacknowledged: dropped
  rel.provisional(build, true); // one with SDP: queued
  assert.equal(built.length, 1);
  t.mock.timers.tick(500);
  t.mock.timers.tick(1000);
  assert.equal(sent.length, 2, 'retransmitted at T1, 2*T1');
  assert.equal(rel.prack(`${first} 2 INVITE`, 1), false, 'wrong CSeq');
  assert.equal(rel.prack(`${first + 1} 1 INVITE`, 1), false, 'wrong RSeq');
  assert.equal(rel.prack(`${first} 1 INVITE`, 1), true);
  assert.equal(built.length, 2, 'queued provisional sent after the PRACK');
  assert.equal(Number(built[1]!.RSeq), first + 1);
  for (let i = 0; i < 64; i++) t.mock.timers.tick(500);
  assert.equal(timedOut, true, 'no PRACK within 64*T1');
});
