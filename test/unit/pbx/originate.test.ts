/**
 * PBX-originated calls (`src/pbx/originate.ts`) without sockets or sleeps: a recording SIP
 * endpoint, a recording media engine and FakeTimers. Each test plays the far end by feeding
 * responses to the recorded INVITE transactions and reads what the call sent and emitted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import pino from 'pino';
import { FakeTimers } from '../../../src/sip/timers.ts';
import { createRequest, randomBranch } from '../../../src/sip/message-build.ts';
import type { IncomingRequest } from '../../../src/sip/endpoint.ts';
import type { RouteDecision, CallTarget } from '../../../src/pbx/call-router.ts';
import { Originator, type OriginateRequest, type OriginatedCall } from '../../../src/pbx/originate.ts';
import { calleeSdp, FakeEndpoint, FakeMedia, incoming } from './call-harness.ts';

class OriginateMedia extends FakeMedia {
  readonly events = new EventEmitter();
  readonly created: Array<{ group?: string }> = [];
  readonly dtmf: Array<[number, string]> = [];
  private next = 40;
  async createLeg(o: { group?: string } = {}) {
    this.created.push(o);
    return { id: this.next++, rtpPort: 20000, rtcpPort: 20001, address: '127.0.0.1', worker: 0, family: 4 as const };
  }
  async sendDtmf(legId: number, digits: string): Promise<void> { this.dtmf.push([legId, digits]); }
  on(name: string, fn: (...a: any[]) => void) { this.events.on(name, fn); return this as any; }
  off(name: string, fn: (...a: any[]) => void) { this.events.off(name, fn); return this as any; }
}

const trunk = { kind: 'trunk', number: '+15557654321', trunk: { id: 7, host: '198.51.100.9', port: 5080, transport: 'udp', caller_id: null, from_domain: null } } as unknown as CallTarget;

function setup(route?: RouteDecision) {
  const endpoint = new FakeEndpoint();
  const media = new OriginateMedia();
  const timers = new FakeTimers();
  const dialogs = new Map<string, (r: IncomingRequest) => void>();
  const originator = new Originator({
    endpoint: endpoint as any, media: media as any, timers, logger: pino({ level: 'silent' }), domain: 'strowger.test',
    advertise: () => ({ host: '127.0.0.1', port: 5060 }), ringTimeoutMs: 30000, maxCallMs: 3_600_000,
    dialing: {
      route: async () => route ?? { kind: 'reject', status: 404, reason: 'Not Found', disposition: 'failed', cause: 'no_route', direction: 'internal' },
      sendTargetsFor: async () => [{ protocol: 'udp', address: '198.51.100.9', port: 5080 }],
      locate: async (req) => [{ protocol: 'udp', address: req.host, port: req.port ?? 5060, serverName: req.host }],
      trunkCredentials: async () => ({ username: 'trunkuser', password: 'trunkpass' }),
      bindDialog: (k, h) => { dialogs.set(k, h); },
      unbindDialog: (k) => { dialogs.delete(k); },
    },
  });
  return { endpoint, media, timers, dialogs, originator };
}

function record(call: OriginatedCall) {
  const events: Array<[string, unknown]> = [];
  for (const name of ['ringing', 'earlyMedia', 'answered', 'ended', 'dtmf'] as const) call.on(name, (e: unknown) => events.push([name, e]));
  return events;
}

const tick = () => new Promise((r) => setImmediate(r));
async function until(fn: () => boolean) { for (let i = 0; i < 50 && !fn(); i++) await tick(); assert.ok(fn(), 'condition not reached'); }

const URI_CALL: OriginateRequest = {
  target: { kind: 'uri', uri: 'sip:100@192.0.2.50:5070', credentials: { username: 'gw', password: 's3cret' } }, from: '+15550001111', group: 'room-1',
};

test('URI call: 401 answered with the credentials, 180 → ringing, 200 → ACK + answered, hangup → BYE', async () => {
  const h = setup();
  const call = h.originator.originate(URI_CALL);
  const events = record(call);
  await until(() => h.endpoint.sent('INVITE').length === 1);
  const first = h.endpoint.sent('INVITE')[0]!;
  assert.equal(first.msg.requestUriText, 'sip:100@192.0.2.50:5070');
  assert.equal(first.target.address, '192.0.2.50');
  assert.equal(first.target.port, 5070);
  assert.match(first.msg.getHeader('from')!, /^<sip:\+15550001111@127\.0\.0\.1>;tag=/);
  assert.deepEqual(h.media.created, [{ group: 'room-1', family: 4 }]);
  // Our own offer: every codec we transcode, telephone-event.
  const offer = first.msg.body.toString();
  assert.match(offer, /m=audio 20000 RTP\/AVP 0 8 9 \d+ 101/);
  assert.match(offer, /a=rtpmap:101 telephone-event\/8000/);
  first.respond(401, { toTag: 't1', headers: { 'WWW-Authenticate': 'Digest realm="far.test", nonce="abc123", algorithm=MD5, qop="auth"' } });
  await until(() => h.endpoint.sent('INVITE').length === 2);
  const second = h.endpoint.sent('INVITE')[1]!;
  const auth = second.msg.getHeader('authorization')!;
  assert.match(auth, /^Digest username="gw", realm="far.test", uri="sip:100@192.0.2.50:5070", algorithm=MD5, nonce="abc123", nc=00000001, cnonce="[0-9a-f]+", qop=auth, response="[0-9a-f]{32}"$/);
  assert.equal(second.msg.cseq.seq, 2);
  assert.equal(second.msg.callId, first.msg.callId);
  second.respond(180, { toTag: 'far' });
  await until(() => events.length === 1);
  assert.deepEqual(events[0], ['ringing', { status: 180 }]);
  second.respond(200, { toTag: 'far', body: calleeSdp('0 101', ['a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000']) });
  await until(() => events.length === 2);
  assert.deepEqual(events[1], ['answered', { legId: 40, codec: 'PCMU/8000' }]);
  assert.equal(h.endpoint.statelessOf('ACK').length, 1);
  assert.deepEqual(h.media.remotes.get(40), { address: '198.51.100.7', rtpPort: 6000 });
  assert.equal(h.dialogs.size, 1);
  await call.sendDtmf('12#');
  assert.deepEqual(h.media.dtmf, [[40, '12#']]);
  h.media.events.emit('dtmf', { legId: 40, digit: '5', durationMs: 120, source: 'rfc4733' });
  assert.deepEqual(events[2], ['dtmf', { digit: '5', durationMs: 120, via: 'rfc4733' }]);
  call.hangup();
  assert.equal(h.endpoint.sent('BYE').length, 1);
  assert.deepEqual(events[3], ['ended', { reason: 'bye-local', sipCode: 200 }]);
  assert.deepEqual(h.media.released, [40]);
  assert.equal(h.dialogs.size, 0);
  assert.equal(h.originator.activeCalls, 0);
});

test('hangup before the answer sends CANCEL and ends "cancelled" 487', async () => {
  const h = setup();
  const call = h.originator.originate({ ...URI_CALL, target: { kind: 'uri', uri: 'sip:100@192.0.2.50' } });
  const events = record(call);
  await until(() => h.endpoint.sent('INVITE').length === 1);
  h.endpoint.sent('INVITE')[0]!.respond(180, { toTag: 'far' });
  await until(() => events.length === 1);
  call.hangup();
  assert.equal(h.endpoint.sent('CANCEL').length, 1);
  assert.deepEqual(events[1], ['ended', { reason: 'cancelled', sipCode: 487 }]);
  call.hangup();
  assert.equal(h.endpoint.sent('CANCEL').length, 1, 'idempotent');
});

test('no answer within the ring timeout: CANCEL, "timeout" 408 (fake clock)', async () => {
  const h = setup();
  const call = h.originator.originate({ ...URI_CALL, ringTimeoutMs: 5000 });
  const events = record(call);
  await until(() => h.endpoint.sent('INVITE').length === 1);
  h.endpoint.sent('INVITE')[0]!.respond(180, { toTag: 'far' });
  h.timers.advance(4999);
  assert.equal(h.endpoint.sent('CANCEL').length, 0);
  h.timers.advance(1);
  assert.equal(h.endpoint.sent('CANCEL').length, 1);
  assert.deepEqual(events.at(-1), ['ended', { reason: 'timeout', sipCode: 408 }]);
});

test('a final failure ends "rejected" with its status; early media is reported', async () => {
  const h = setup();
  const call = h.originator.originate(URI_CALL);
  const events = record(call);
  await until(() => h.endpoint.sent('INVITE').length === 1);
  const inv = h.endpoint.sent('INVITE')[0]!;
  inv.respond(183, { toTag: 'far', body: calleeSdp() });
  await until(() => events.length === 2);
  assert.deepEqual(events.slice(0, 2), [['earlyMedia', { legId: 40 }], ['ringing', { status: 183 }]]);
  inv.respond(486, { toTag: 'far' });
  assert.deepEqual(events.at(-1), ['ended', { reason: 'rejected', sipCode: 486 }]);
});

test('BYE from the far end ends "bye-remote"; RTP timeout ends "media-timeout" with our BYE', async () => {
  for (const ending of ['bye', 'rtp'] as const) {
    const h = setup();
    const call = h.originator.originate(URI_CALL);
    const events = record(call);
    await until(() => h.endpoint.sent('INVITE').length === 1);
    const inv = h.endpoint.sent('INVITE')[0]!;
    inv.respond(200, { toTag: 'far', body: calleeSdp() });
    await until(() => events.length === 1);
    if (ending === 'bye') {
      const bye = incoming(createRequest({
        method: 'BYE', uri: 'sip:strowger@127.0.0.1:5060', from: `${inv.msg.getHeader('to')};tag=far`, to: inv.msg.getHeader('from')!,
        callId: inv.msg.callId, cseq: 1, headers: { Via: `SIP/2.0/UDP 192.0.2.50:5070;branch=${randomBranch()}` },
      }));
      const [handler] = [...h.dialogs.values()];
      handler!(bye);
      assert.equal(bye.replies[0]!.status, 200);
      assert.deepEqual(events.at(-1), ['ended', { reason: 'bye-remote', sipCode: 200 }]);
      assert.equal(h.endpoint.sent('BYE').length, 0);
    } else {
      h.media.events.emit('timeout', 40);
      assert.equal(h.endpoint.sent('BYE').length, 1);
      assert.deepEqual(events.at(-1), ['ended', { reason: 'media-timeout', sipCode: 200 }]);
    }
  }
});

test('a number is routed like a dialled number (trunk target, trunk credentials); no route → "rejected"', async () => {
  const h = setup({ kind: 'dial', targets: [trunk], direction: 'outbound', ringTimeoutMs: 30000, didId: null, didNumber: null, calleeDeviceId: null, callerId: '+1555' });
  const call = h.originator.originate({ target: { kind: 'number', number: '+15557654321' }, from: '+15550001111' });
  await until(() => h.endpoint.sent('INVITE').length === 1);
  const inv = h.endpoint.sent('INVITE')[0]!;
  assert.equal(inv.msg.requestUriText, 'sip:+15557654321@198.51.100.9:5080');
  inv.respond(407, { toTag: 'x', headers: { 'Proxy-Authenticate': 'Digest realm="carrier", nonce="n1"' } });
  await until(() => h.endpoint.sent('INVITE').length === 2);
  assert.match(h.endpoint.sent('INVITE')[1]!.msg.getHeader('proxy-authorization')!, /username="trunkuser"/);
  call.hangup();

  const none = setup();
  const refused = none.originator.originate({ target: { kind: 'number', number: '999' }, from: 'x' });
  const events = record(refused);
  await until(() => events.length === 1);
  assert.deepEqual(events[0], ['ended', { reason: 'rejected', sipCode: 404 }]);
  assert.equal(none.endpoint.sent('INVITE').length, 0);
  assert.deepEqual(none.media.created, [], 'no media endpoint for a call that was never placed');
});

test('a bad URI ends "failed" 400 without sending anything; a proxy gets the INVITE with a Route', async () => {
  const h = setup();
  const bad = h.originator.originate({ target: { kind: 'uri', uri: 'not a uri' }, from: 'x' });
  const events = record(bad);
  await until(() => events.length === 1);
  assert.deepEqual(events[0], ['ended', { reason: 'failed', sipCode: 400 }]);

  const viaProxy = h.originator.originate({ target: { kind: 'uri', uri: 'sip:100@far.example', proxy: 'sip:192.0.2.60:5090' }, from: 'x' });
  await until(() => h.endpoint.sent('INVITE').length === 1);
  const inv = h.endpoint.sent('INVITE')[0]!;
  assert.equal(inv.target.address, '192.0.2.60');
  assert.equal(inv.target.port, 5090);
  assert.equal(inv.msg.requestUriText, 'sip:100@far.example');
  assert.equal(inv.msg.getHeader('route'), '<sip:192.0.2.60:5090;lr>');
  viaProxy.hangup();
});
