import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage } from '../../../src/sip/parse-message.ts';
import { expiryDelayMs, negotiateSessionTimer, sessionTimerHeaders } from '../../../src/pbx/session-timer.ts';

function invite(extra: string): ReturnType<typeof parseMessage> {
  return parseMessage(Buffer.from(`INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nMax-Forwards: 70\r\nTo: <sip:bob@example.com>\r\nFrom: <sip:a@example.com>;tag=1\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n${extra}Content-Length: 0\r\n\r\n`));
}

test('no timer support and no Session-Expires: timers off', () => {
  assert.deepEqual(negotiateSessionTimer(invite('')), { kind: 'off' });
});

test('Session-Expires below Min-SE gets 422 with the larger of both Min-SE (RFC 4028 §8.1)', () => {
  assert.deepEqual(negotiateSessionTimer(invite('Supported: timer\r\nSession-Expires: 60\r\n')), { kind: 'too_small', minSe: 90 });
  assert.deepEqual(negotiateSessionTimer(invite('Session-Expires: 100\r\nMin-SE: 120\r\n')), { kind: 'too_small', minSe: 120 });
});

test('caller supports timers: its interval, refresher uac unless it asked for uas (§9)', () => {
  const d = negotiateSessionTimer(invite('Supported: timer\r\nSession-Expires: 1800\r\n'));
  assert.deepEqual(d, { kind: 'on', interval: 1800, refresher: 'uac' });
  assert.deepEqual(sessionTimerHeaders(d as never), { 'Session-Expires': '1800;refresher=uac', Require: 'timer' });
  assert.deepEqual(negotiateSessionTimer(invite('Supported: timer\r\nSession-Expires: 600;refresher=uas\r\n')), { kind: 'on', interval: 600, refresher: 'uas' });
  assert.deepEqual(negotiateSessionTimer(invite('Supported: 100rel, timer\r\n'.replace('100rel, timer', 'timer'))), { kind: 'on', interval: 1800, refresher: 'uac' });
});

test('expiry: SE minus min(32, SE/3) (§10)', () => {
  assert.equal(expiryDelayMs(1800), (1800 - 32) * 1000);
  assert.equal(expiryDelayMs(90), 60_000);
});
