/**
 * The subscription table of MWI (RFC 6665 notifier side) with a recording endpoint and fake
 * time: expiry → final NOTIFY `terminated;reason=timeout` (§4.2.2), one NOTIFY in flight per
 * subscription (changes meanwhile coalesce into one), 481/408 end it, CSeq and route set.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { Dialog } from '../../../src/sip/dialog.ts';
import { parseMessage } from '../../../src/sip/parse-message.ts';
import { createResponse } from '../../../src/sip/message-build.ts';
import type { SipMessage } from '../../../src/sip/message.ts';
import { FakeTimers } from '../../../src/sip/timers.ts';
import { MwiSubscriptions } from '../../../src/pbx/mwi-subscriptions.ts';
import { subscriptionExpiry } from '../../../src/pbx/mwi-subscribe.ts';

const SUBSCRIBE = [
  'SUBSCRIBE sip:1001@pbx.test SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK1',
  'Record-Route: <sip:proxy.test;lr>',
  'From: <sip:1001@pbx.test>;tag=sub1',
  'To: <sip:1001@pbx.test>',
  'Call-ID: c1@test',
  'CSeq: 7 SUBSCRIBE',
  'Contact: <sip:1001@192.0.2.10:5062>',
  'Event: message-summary;id=4',
  'Content-Length: 0', '', '',
].join('\r\n');

function harness() {
  const timers = new FakeTimers();
  const sent: Array<{ req: SipMessage; answer(status: number): void }> = [];
  let counts = { new: 0, old: 0 };
  const subs = new MwiSubscriptions({
    endpoint: { request: (req, _target, h) => { sent.push({ req, answer: (s) => h.onResponse(createResponse(req, s), undefined as never) }); return undefined as never; } },
    timers, counts: async () => counts, log: pino({ level: 'silent' }),
  });
  const dialog = Dialog.asUas(parseMessage(Buffer.from(SUBSCRIBE)), 'ours1');
  const add = (seconds: number) => subs.add({
    key: dialog.key, deviceId: 1, username: '1001', mailbox: 'device:1', account: 'sip:1001@pbx.test', dialog,
    target: { protocol: 'udp', address: '192.0.2.10', port: 5062 }, contact: '<sip:strowger@192.0.2.1:5060>', eventId: '4',
  }, seconds);
  const flush = () => new Promise((r) => setImmediate(r));
  return { timers, sent, subs, add, flush, setCounts: (c: typeof counts) => { counts = c; } };
}

test('subscriptionExpiry: default, 0, 423 below the minimum, capped at the maximum', () => {
  const p = { minExpires: 60, maxExpires: 3600, defaultExpires: 3600 };
  assert.deepEqual(subscriptionExpiry(null, p), { ok: true, seconds: 3600 });
  assert.deepEqual(subscriptionExpiry(0, p), { ok: true, seconds: 0 });
  assert.deepEqual(subscriptionExpiry(59, p), { ok: false, minExpires: 60 });
  assert.deepEqual(subscriptionExpiry(60, p), { ok: true, seconds: 60 });
  assert.deepEqual(subscriptionExpiry(86400, p), { ok: true, seconds: 3600 });
});

test('first NOTIFY in the dialog: CSeq 1, Route from Record-Route, Event id echoed, remaining expiry', async () => {
  const h = harness();
  h.add(600);
  await h.flush();
  assert.equal(h.sent.length, 1);
  const n = h.sent[0]!.req;
  assert.equal(n.requestUriText, 'sip:1001@192.0.2.10:5062');
  assert.equal(n.cseq.seq, 1);
  assert.deepEqual(n.getHeaders('route'), ['<sip:proxy.test;lr>']);
  assert.equal(n.getHeader('event'), 'message-summary;id=4');
  assert.equal(n.getHeader('subscription-state'), 'active;expires=600');
  assert.equal(n.getHeader('contact'), '<sip:strowger@192.0.2.1:5060>');
  assert.equal(n.fromTag, 'ours1');
  assert.equal(n.toTag, 'sub1');
});

test('changes while a NOTIFY is in flight coalesce into one NOTIFY with the latest counts', async () => {
  const h = harness();
  const s = h.add(600);
  await h.flush();
  h.setCounts({ new: 1, old: 0 });
  h.subs.notify(s);
  h.setCounts({ new: 2, old: 0 });
  h.subs.notify(s);
  await h.flush();
  assert.equal(h.sent.length, 1, 'nothing more until the first NOTIFY is answered');
  h.sent[0]!.answer(200);
  await h.flush();
  assert.equal(h.sent.length, 2);
  assert.match(h.sent[1]!.req.body.toString(), /Voice-Message: 2\/0 \(0\/0\)/);
  assert.equal(h.sent[1]!.req.cseq.seq, 2);
});

test('expiry without refresh: final NOTIFY terminated;reason=timeout, and the subscription is gone', async () => {
  const h = harness();
  h.add(120);
  await h.flush();
  h.sent[0]!.answer(200);
  h.timers.advance(60_000);
  await h.flush();
  assert.equal(h.sent.length, 1);
  assert.equal(h.subs.size, 1);
  h.timers.advance(60_000);
  await h.flush();
  assert.equal(h.sent.length, 2);
  assert.equal(h.sent[1]!.req.getHeader('subscription-state'), 'terminated;reason=timeout');
  assert.equal(h.subs.size, 0);
});

test('a refresh re-arms the expiry and reports the new remaining time', async () => {
  const h = harness();
  const s = h.add(120);
  await h.flush();
  h.sent[0]!.answer(200);
  h.timers.advance(100_000);
  h.subs.refresh(s, 300, s.target);
  await h.flush();
  assert.equal(h.sent[1]!.req.getHeader('subscription-state'), 'active;expires=300');
  h.sent[1]!.answer(200);
  h.timers.advance(200_000);
  await h.flush();
  assert.equal(h.subs.size, 1, 'still alive 300 s after the original expiry would have fired');
});

for (const status of [481, 408]) {
  test(`a NOTIFY answered ${status} ends the subscription without a final NOTIFY`, async () => {
    const h = harness();
    const s = h.add(600);
    await h.flush();
    h.sent[0]!.answer(status);
    await h.flush();
    assert.equal(h.subs.size, 0);
    h.subs.notify(s);
    h.timers.advance(700_000);
    await h.flush();
    assert.equal(h.sent.length, 1);
  });
}
