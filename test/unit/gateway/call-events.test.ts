/** Wire formats of the call gateway (proto/callgw.proto and JSON) and its JWTs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ActionError, decodeAction, decodeEvent, decodeHookAnswer, encodeAction, encodeEvent, encodeHookAnswer, type CallEvent } from '../../../src/gateway/call-events.ts';
import { CallTokens } from '../../../src/gateway/call-token.ts';
import { signHook, verifyHook } from '../../../src/gateway/hook-signature.ts';
import { sipUriOf } from '../../../src/gateway/call-gateway.ts';

const EVENT: CallEvent = { timestamp: 1796396657251, call_id: 'c1', event: 'ended', direction: 'outgoing', app_id: 'a', from_number: '+1', to_number: '2', reason: 'bye-remote', sip_code: 200 };

test('an event round-trips through protobuf with the JSON field names', () => {
  const bin = encodeEvent(EVENT, 'protobuf') as Buffer;
  assert.deepEqual(decodeEvent(bin), EVENT);
  assert.deepEqual(JSON.parse(encodeEvent(EVENT, 'json') as string), EVENT);
});

test('actions: JSON and protobuf, bad ones refused with a reason', () => {
  for (const a of [{ action: 'end' }, { action: 'dtmf', digits: '12#' }, { action: 'mute', muted: true }] as const) {
    assert.deepEqual(decodeAction(JSON.stringify(a), false), a);
    assert.deepEqual(decodeAction(encodeAction(a), true), a);
  }
  const refused: Array<[string, RegExp]> = [
    ['nope', /not JSON/], ['{"action":"dtmf","digits":"x"}', /dtmf needs/], ['{"action":"mute"}', /mute needs/],
    ['{"action":"webrtc_offer"}', /webrtc_offer needs "sdp"/], ['{"action":"webrtc_offer","sdp":"hello"}', /webrtc_offer needs "sdp"/],
    ['{"action":"x"}', /unknown action "x"/],
  ];
  assert.deepEqual(decodeAction('{"action":"webrtc_offer","sdp":"v=0\\r\\n"}', false), { action: 'webrtc_offer', sdp: 'v=0\r\n' });
  for (const [frame, re] of refused) assert.throws(() => decodeAction(frame, false), (e: Error) => e instanceof ActionError && re.test(e.message));
  assert.throws(() => decodeAction(Buffer.from([0xff, 0xff, 0xff]), true), ActionError);
});

test('hook answers: JSON and protobuf; junk gives no action', () => {
  assert.deepEqual(decodeHookAnswer(Buffer.from('{"action":"Accept","stream":{"room":"r"}}'), 'json'), { action: 'Accept', stream: { room: 'r' } });
  assert.deepEqual(decodeHookAnswer(encodeHookAnswer({ action: 'Ring' }), 'protobuf'), { action: 'Ring' });
  assert.deepEqual(decodeHookAnswer(Buffer.from('<html>'), 'json'), {});
  assert.deepEqual(decodeHookAnswer(Buffer.alloc(0), 'json'), {});
});

test('call tokens: HS256 with the claims, expiry honoured, tampering refused', async () => {
  let now = 1_800_000_000_000;
  const tokens = new CallTokens(Buffer.alloc(32, 7), 3600, () => now);
  const jwt = await tokens.sign({ kind: 'call', call_id: 'c1', direction: 'outgoing', app_id: 'a' });
  assert.equal(JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()).alg, 'HS256');
  assert.deepEqual(await tokens.verify(jwt), { kind: 'call', call_id: 'c1', direction: 'outgoing', app_id: 'a', iat: 1_800_000_000, exp: 1_800_003_600 });
  assert.equal(await new CallTokens(Buffer.alloc(32, 8), 3600, () => now).verify(jwt), null, 'another key');
  assert.equal(await tokens.verify(`${jwt.slice(0, -2)}AA`), null);
  now += 3601_000;
  assert.equal(await tokens.verify(jwt), null, 'expired');
});

test('hook signature: HMAC over timestamp and body', () => {
  const sig = signHook('s3cret', 1700000000, '{"a":1}');
  assert.match(sig, /^sha256=[0-9a-f]{64}$/);
  assert.ok(verifyHook('s3cret', 1700000000, '{"a":1}', sig));
  assert.ok(!verifyHook('s3cret', 1700000001, '{"a":1}', sig));
  assert.ok(!verifyHook('other', 1700000000, '{"a":1}', sig));
});

test('sip_server forms become URIs', () => {
  assert.equal(sipUriOf('127.0.0.1:5080', '100'), 'sip:100@127.0.0.1:5080');
  assert.equal(sipUriOf('sips:carrier.example', '+1555'), 'sips:+1555@carrier.example');
  assert.equal(sipUriOf('sip:old@[2001:db8::1]:5070'), 'sip:[2001:db8::1]:5070');
});
