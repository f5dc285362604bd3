import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isSipfragContentType, parseSipfragStatus, sipfragOfStatus, SIPFRAG_CONTENT_TYPE } from '../../../src/sip/sipfrag.ts';
import { formatEvent, formatSubscriptionState, parseEvent, parseSubscriptionState } from '../../../src/sip/header-event.ts';
import {
  createReferNotify,
  readReferNotify,
  referAcceptance,
  ReferNotifier,
  referRequestHeaders,
  referSubscriptionWanted,
} from '../../../src/sip/refer-subscription.ts';
import type { ReferNotify } from '../../../src/sip/refer-subscription.ts';
import { SipReferError } from '../../../src/sip/refer-errors.ts';
import { FakeTimers } from '../../../src/sip/timers.ts';
import { parseMessage } from '../../../src/sip/parse-message.ts';
import { Dialog } from '../../../src/sip/dialog.ts';
import { formatReferTo } from '../../../src/sip/header-refer-to.ts';

const isReferError = (code: string) => (e: unknown) => e instanceof SipReferError && e.code === code && e.sipStatus === 400;

describe('sipfrag (RFC 3420, RFC 3515 §2.4.5)', () => {
  const built: Array<[number, string | undefined, string]> = [
    [100, undefined, 'SIP/2.0 100 Trying\r\n'],
    [180, undefined, 'SIP/2.0 180 Ringing\r\n'],
    [200, undefined, 'SIP/2.0 200 OK\r\n'],
    [486, undefined, 'SIP/2.0 486 Busy Here\r\n'],
    [503, undefined, 'SIP/2.0 503 Service Unavailable\r\n'],
    [603, 'Declined', 'SIP/2.0 603 Declined\r\n'],
    [183, 'Session Progress', 'SIP/2.0 183 Session Progress\r\n'],
  ];
  for (const [status, reason, want] of built) {
    test(`build ${status}`, () => assert.equal(sipfragOfStatus(status, reason).toString('latin1'), want));
  }
  test('build refuses bad status and CRLF injection', () => {
    assert.throws(() => sipfragOfStatus(99), RangeError);
    assert.throws(() => sipfragOfStatus(700), RangeError);
    assert.throws(() => sipfragOfStatus(200, 'OK\r\nVia: x'), RangeError);
  });
  test('content type carries version=2.0', () => assert.equal(SIPFRAG_CONTENT_TYPE, 'message/sipfrag;version=2.0'));

  const parsed: Array<[string, string, number, string]> = [
    ['RFC 3515 §4.3 NOTIFY body', 'SIP/2.0 200 OK\r\n', 200, 'OK'],
    ['LF only', 'SIP/2.0 180 Ringing\n', 180, 'Ringing'],
    ['no line end', 'SIP/2.0 100 Trying', 100, 'Trying'],
    ['headers after the status line (RFC 3420 §2)', 'SIP/2.0 603 Declined\r\nWarning: 399 x "y"\r\n', 603, 'Declined'],
    ['empty reason', 'SIP/2.0 503 \r\n', 503, ''],
    ['no reason at all', 'SIP/2.0 503\r\n', 503, ''],
    ['reason with spaces', 'SIP/2.0 487 Request Terminated\r\n', 487, 'Request Terminated'],
  ];
  for (const [name, body, status, reason] of parsed) {
    test(`parse: ${name}`, () => {
      const s = parseSipfragStatus(Buffer.from(body));
      assert.deepEqual([s.version, s.status, s.reason], ['SIP/2.0', status, reason]);
    });
  }
  const bad: Array<[string, string]> = [
    ['empty', ''],
    ['request line (a sipfrag may, a refer NOTIFY may not, §2.4.5)', 'INVITE sip:a@b SIP/2.0\r\n'],
    ['status 099', 'SIP/2.0 099 x\r\n'],
    ['status 700', 'SIP/2.0 700 x\r\n'],
    ['two-digit status', 'SIP/2.0 20 OK\r\n'],
    ['leading blank line', '\r\nSIP/2.0 200 OK\r\n'],
  ];
  for (const [name, body] of bad) test(`parse rejects: ${name}`, () => assert.throws(() => parseSipfragStatus(body), isReferError('SIP_ERR_SIPFRAG_INVALID')));

  test('isSipfragContentType', () => {
    assert.equal(isSipfragContentType('message/sipfrag'), true);
    assert.equal(isSipfragContentType('Message/SIPfrag ; version=2.0'), true);
    assert.equal(isSipfragContentType('application/sdp'), false);
    assert.equal(isSipfragContentType(null), false);
  });
});

describe('Event and Subscription-State (RFC 6665 §8.2.1, §8.2.3)', () => {
  test('Event: refer;id=93809824 (RFC 3515 §2.4.6)', () => {
    const e = parseEvent('refer;id=93809824');
    assert.deepEqual([e.type, e.id], ['refer', '93809824']);
    assert.equal(formatEvent('refer', 93809824), 'refer;id=93809824');
    assert.equal(formatEvent('refer'), 'refer');
  });
  test('Event with a template and spaces', () => assert.equal(parseEvent(' presence.winfo ; id = 7').id, '7'));
  for (const bad of ['', ';id=1', 'refer;id', 'refer;id="1"', 'refer x']) {
    test(`Event rejects ${JSON.stringify(bad)}`, () => assert.throws(() => parseEvent(bad), isReferError('SIP_ERR_EVENT_INVALID')));
  }
  const states: Array<[string, { state: string; reason: string | null; expires: number | null; retryAfter: number | null }]> = [
    ['active;expires=60', { state: 'active', reason: null, expires: 60, retryAfter: null }],
    ['terminated;reason=noresource', { state: 'terminated', reason: 'noresource', expires: null, retryAfter: null }],
    ['Terminated;Reason=Timeout', { state: 'terminated', reason: 'timeout', expires: null, retryAfter: null }],
    ['pending;expires=10;retry-after=5;x=y', { state: 'pending', reason: null, expires: 10, retryAfter: 5 }],
  ];
  for (const [text, want] of states) {
    test(`Subscription-State: ${text}`, () => {
      const s = parseSubscriptionState(text);
      assert.deepEqual({ state: s.state, reason: s.reason, expires: s.expires, retryAfter: s.retryAfter }, want);
    });
  }
  for (const bad of ['', 'active;expires=-1', 'active;expires', 'active;expires=4294967296', 'terminated;reason', 'active garbage']) {
    test(`Subscription-State rejects ${JSON.stringify(bad)}`, () =>
      assert.throws(() => parseSubscriptionState(bad), isReferError('SIP_ERR_SUBSCRIPTION_STATE_INVALID')));
  }
  test('formatSubscriptionState', () => {
    assert.equal(formatSubscriptionState({ state: 'active', expires: 60 }), 'active;expires=60');
    assert.equal(formatSubscriptionState({ state: 'terminated', reason: 'noresource' }), 'terminated;reason=noresource');
  });
});

function message(text: string): ReturnType<typeof parseMessage> {
  return parseMessage(Buffer.from(text.replace(/\n/g, '\r\n')));
}

function refer(extra = ''): ReturnType<typeof parseMessage> {
  return message(
    'REFER sip:bob@192.0.2.4 SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\nMax-Forwards: 70\n' +
      `From: <sip:alice@example.com>;tag=1\nTo: <sip:bob@example.com>;tag=2\nCall-ID: c1\nCSeq: 93809824 REFER\nRefer-To: <sip:carol@h>\n${extra}Content-Length: 0\n\n`,
  );
}

describe('Refer-Sub (RFC 4488 §4)', () => {
  const cases: Array<[string, string, boolean, Array<[string, string]>]> = [
    ['absent: subscription', '', true, []],
    ['Refer-Sub: true', 'Refer-Sub: true\n', true, []],
    ['Refer-Sub: false -> none, and the 202 says Refer-Sub: false', 'Refer-Sub: false\nRequire: norefersub\n', false, [['Refer-Sub', 'false']]],
    ['case and extension params', 'Refer-Sub: FALSE;foo=1\n', false, [['Refer-Sub', 'false']]],
  ];
  for (const [name, hdr, want, headers] of cases) {
    test(name, () => {
      assert.equal(referSubscriptionWanted(refer(hdr)), want);
      assert.deepEqual(referAcceptance(refer(hdr)), { subscribe: want, headers });
    });
  }
  test('rejects other values (400)', () => {
    assert.throws(() => referSubscriptionWanted(refer('Refer-Sub: maybe\n')), isReferError('SIP_ERR_REFER_SUB_INVALID'));
    assert.throws(() => referSubscriptionWanted(refer('Refer-Sub: true\nRefer-Sub: false\n')), isReferError('SIP_ERR_REFER_SUB_INVALID'));
  });
});

const view = (n: ReferNotify | null) =>
  n === null ? null : { event: n.headers[0][1], state: n.headers[1][1], body: n.body.toString('latin1'), final: n.final };

describe('ReferNotifier (RFC 3515 §2.4.4-§2.4.7)', () => {
  test('blind transfer answered: Trying, Ringing (once), OK terminates with noresource', () => {
    const clock = new FakeTimers();
    const n = new ReferNotifier({ referCseq: 93809824, clock });
    assert.deepEqual(view(n.start()), { event: 'refer', state: 'active;expires=60', body: 'SIP/2.0 100 Trying\r\n', final: false });
    assert.equal(n.start(), null, 'start is once');
    assert.equal(n.progress(100), null, '100 was reported by start');
    clock.advance(2500);
    assert.deepEqual(view(n.progress(180)), { event: 'refer', state: 'active;expires=58', body: 'SIP/2.0 180 Ringing\r\n', final: false });
    assert.equal(n.progress(180), null, 'a second 180 is not repeated');
    assert.deepEqual(view(n.progress(200)), { event: 'refer', state: 'terminated;reason=noresource', body: 'SIP/2.0 200 OK\r\n', final: true });
    assert.equal(n.terminated, true);
    assert.equal(n.progress(200), null, 'nothing after the final NOTIFY');
    assert.equal(n.expire(), null);
  });

  const failures: Array<[string, number, string | undefined, string]> = [
    ['target busy', 486, undefined, 'SIP/2.0 486 Busy Here\r\n'],
    ['target unreachable (synthesised)', 503, undefined, 'SIP/2.0 503 Service Unavailable\r\n'],
    ['no answer, cancelled', 487, undefined, 'SIP/2.0 487 Request Terminated\r\n'],
    ['declined with own phrase', 603, 'Nope', 'SIP/2.0 603 Nope\r\n'],
  ];
  for (const [name, status, reason, body] of failures) {
    test(`failure: ${name}`, () => {
      const n = new ReferNotifier({ referCseq: 5, clock: new FakeTimers() });
      n.start();
      const last = n.progress(status, reason)!;
      assert.deepEqual(view(last), { event: 'refer', state: 'terminated;reason=noresource', body, final: true });
      assert.equal(last.contentType, 'message/sipfrag;version=2.0');
    });
  }

  test('a later REFER in the dialog: Event carries id=<REFER CSeq> (§2.4.6)', () => {
    const n = new ReferNotifier({ referCseq: 7, withId: true, expires: 30, clock: new FakeTimers() });
    assert.deepEqual(view(n.start()), { event: 'refer;id=7', state: 'active;expires=30', body: 'SIP/2.0 100 Trying\r\n', final: false });
  });

  test('Refer-Sub: false: no NOTIFY at all (RFC 4488 §4)', () => {
    const n = new ReferNotifier({ referCseq: 1, subscribe: false, clock: new FakeTimers() });
    assert.equal(n.start(), null);
    assert.equal(n.progress(180), null);
    assert.equal(n.progress(200), null);
    assert.equal(n.terminated, true);
  });

  test('expiry before a final status: terminated;reason=timeout with the last status', () => {
    const clock = new FakeTimers();
    const n = new ReferNotifier({ referCseq: 1, expires: 10, clock });
    n.start();
    n.progress(180);
    clock.advance(n.expiresAt - clock.now());
    assert.deepEqual(view(n.expire()), { event: 'refer', state: 'terminated;reason=timeout', body: 'SIP/2.0 180 Ringing\r\n', final: true });
    assert.equal(n.progress(200), null);
  });

  test('refresh by SUBSCRIBE: new expiry, current status again; Expires: 0 ends it', () => {
    const clock = new FakeTimers();
    const n = new ReferNotifier({ referCseq: 1, expires: 10, clock });
    n.start();
    clock.advance(9000);
    assert.deepEqual(view(n.refresh(120)), { event: 'refer', state: 'active;expires=120', body: 'SIP/2.0 100 Trying\r\n', final: false });
    assert.equal(n.expiresAt, clock.now() + 120_000);
    assert.equal(view(n.refresh(0))?.state, 'terminated;reason=timeout');
    assert.equal(n.refresh(60), null);
  });

  test('a final status before start still terminates the subscription', () => {
    const n = new ReferNotifier({ referCseq: 1, clock: new FakeTimers() });
    assert.equal(view(n.progress(404))?.state, 'terminated;reason=noresource');
    assert.equal(n.start(), null);
  });

  test('createReferNotify builds the in-dialog NOTIFY, and readReferNotify reads it back', () => {
    const dialog = Dialog.asUas(refer(), 'uas-tag');
    const n = new ReferNotifier({ referCseq: 93809824, withId: true, clock: new FakeTimers() });
    n.start();
    const notify = createReferNotify(dialog, n.progress(200)!, '<sip:pbx@192.0.2.4>');
    const wire = message(notify.toString().replace(/\r\n/g, '\n'));
    assert.equal(wire.method, 'NOTIFY');
    assert.equal(wire.getHeader('event'), 'refer;id=93809824');
    assert.equal(wire.getHeader('subscription-state'), 'terminated;reason=noresource');
    assert.equal(wire.contentType, 'message/sipfrag;version=2.0');
    assert.equal(wire.body.toString(), 'SIP/2.0 200 OK\r\n');
    assert.equal(wire.toTag, '1');
    assert.deepEqual(readReferNotify(wire), { id: 93809824, state: 'terminated', stateReason: 'noresource', status: 200, reason: 'OK', final: true });
  });
});

function notify(headers: string, body = 'SIP/2.0 100 Trying\n'): ReturnType<typeof parseMessage> {
  return message(
    'NOTIFY sip:alice@192.0.2.1 SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bK2\nMax-Forwards: 70\n' +
      `From: <sip:bob@example.com>;tag=2\nTo: <sip:alice@example.com>;tag=1\nCall-ID: c1\nCSeq: 1 NOTIFY\n${headers}Content-Length: ${body.replace(/\n/g, '\r\n').length}\n\n${body}`,
  );
}

describe('readReferNotify: the REFER sender reads the transferee\'s NOTIFYs', () => {
  test('RFC 3515 §4.3 style NOTIFY (active, no id)', () => {
    const r = readReferNotify(notify('Event: refer\nSubscription-State: active;expires=60\nContent-Type: message/sipfrag;version=2.0\n'));
    assert.deepEqual(r, { id: null, state: 'active', stateReason: null, status: 100, reason: 'Trying', final: false });
  });
  test('compact Event (o), terminated with 200', () => {
    const r = readReferNotify(notify('o: refer;id=3\nSubscription-State: terminated;reason=noresource\nc: message/sipfrag\n', 'SIP/2.0 200 OK\n'));
    assert.deepEqual([r?.id, r?.status, r?.final], [3, 200, true]);
  });
  test('terminated on a provisional still is final (the subscription is over)', () => {
    const r = readReferNotify(notify('Event: refer\nSubscription-State: terminated;reason=timeout\nContent-Type: message/sipfrag\n', 'SIP/2.0 180 Ringing\n'));
    assert.equal(r?.final, true);
  });
  test('another package: null (answer 489)', () => {
    assert.equal(readReferNotify(notify('Event: dialog\nSubscription-State: active\nContent-Type: message/sipfrag\n')), null);
  });
  const bad: Array<[string, string, string, string | undefined]> = [
    ['no Event', 'Subscription-State: active\nContent-Type: message/sipfrag\n', 'SIP_ERR_EVENT_INVALID', undefined],
    ['id not a number', 'Event: refer;id=abc\nSubscription-State: active\nContent-Type: message/sipfrag\n', 'SIP_ERR_EVENT_INVALID', undefined],
    ['no Subscription-State', 'Event: refer\nContent-Type: message/sipfrag\n', 'SIP_ERR_SUBSCRIPTION_STATE_INVALID', undefined],
    ['wrong body type', 'Event: refer\nSubscription-State: active\nContent-Type: text/plain\n', 'SIP_ERR_SIPFRAG_INVALID', undefined],
    ['body not a status line', 'Event: refer\nSubscription-State: active\nContent-Type: message/sipfrag\n', 'SIP_ERR_SIPFRAG_INVALID', 'hello\n'],
  ];
  for (const [name, headers, code, body] of bad) test(`rejects: ${name}`, () => assert.throws(() => readReferNotify(notify(headers, body)), isReferError(code)));
});

describe('referRequestHeaders (a REFER we send)', () => {
  test('attended transfer with Referred-By and no subscription (RFC 5589 §7, RFC 4488)', () => {
    const referTo = formatReferTo({ uri: 'sips:transfertarget@target.example', replaces: { callId: '090459243588173445', toTag: '7553452', fromTag: '31431', earlyOnly: false } });
    assert.deepEqual(referRequestHeaders({ referTo, referredBy: '<sips:transferor@atlanta.example>', noSubscription: true }), [
      ['Refer-To', '<sips:transfertarget@target.example?Replaces=090459243588173445%3Bto-tag%3D7553452%3Bfrom-tag%3D31431>'],
      ['Referred-By', '<sips:transferor@atlanta.example>'],
      ['Refer-Sub', 'false'],
    ]);
  });
});
