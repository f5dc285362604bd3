/**
 * Transfers on the fake harness (no sockets, no sleeps): a phone's blind REFER (NOTIFY
 * progress, the swap of media and parties, the transferor's BYE, the CDRs), a REFER whose
 * target is busy (the call goes on), and the API's attended transfer with cancel and blind
 * transfer to a failing target.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { parseSdp, codecs } from '../../../src/sdp/index.ts';
import { escapeUriHeaderValue, formatReplaces, parseSipfragStatus } from '../../../src/sip/index.ts';
import { dialogKey } from '../../../src/sip/dialog.ts';
import type { SipMessage } from '../../../src/sip/message.ts';
import { CallTransfers, transferTargetUser } from '../../../src/pbx/call-transfer.ts';
import type { TransferEnv } from '../../../src/pbx/call-transfer-attempt.ts';
import type { CallEndpoint } from '../../../src/pbx/leg-sip.ts';
import type { CallTarget, RouteDecision } from '../../../src/pbx/call-router.ts';
import type { NewCdr } from '../../../src/store/cdrs.ts';
import { CALLER_CALL_ID, CALLER_TAG, calleeSdp, calleeTag, fromCallee, fromCaller, incoming, startCall, type Harness } from './call-harness.ts';

const TARGET: CallTarget = { kind: 'trunk', number: '2000', trunk: { id: 7, host: '198.51.100.50', port: 5060, transport: 'udp', caller_id: null, from_domain: null } as unknown as Extract<CallTarget, { kind: 'trunk' }>['trunk'] };

/** An answered call (caller PCMA+PCMU, callee answered PCMA) and a transfer service on the same fakes. */
async function answered(o: { reject?: RouteDecision; findDialog?: TransferEnv['findDialog'] } = {}) {
  const h = await startCall();
  const [invite] = h.endpoint.sent('INVITE');
  invite!.respond(200, { toTag: calleeTag(), body: calleeSdp() });
  await h.settle();
  await h.call.onAck('a', fromCaller(h.call, 'ACK', 1));
  const swaps: Array<{ cdr: NewCdr; oldLegId: number; newLegId: number }> = [];
  const routed: Array<{ dialed: string; side: string | null }> = [];
  const nears: Array<number | undefined> = [];
  const media = Object.assign(h.media, {
    createLeg: async (opts: { near?: number }) => {
      nears.push(opts.near);
      return { id: 3, rtpPort: 20004, rtcpPort: 20005, address: '127.0.0.1', worker: 0, family: 4 as const };
    },
  });
  const env: TransferEnv = {
    endpoint: h.endpoint as unknown as CallEndpoint,
    media: media as unknown as TransferEnv['media'],
    timers: h.timers, logger: pino({ level: 'silent' }), domain: 'strowger.test', t1: 500,
    advertise: () => ({ host: '127.0.0.1', port: 5060 }),
    route: async (dialed, _call, side) => {
      routed.push({ dialed, side });
      return o.reject ?? { kind: 'dial', targets: [TARGET], direction: 'internal', ringTimeoutMs: 20_000, didId: null, didNumber: null, calleeDeviceId: null, callerId: 'x' };
    },
    sendTargetsFor: async () => [{ protocol: 'udp', address: '198.51.100.50', port: 5060 }],
    trunkCredentials: async () => undefined,
    swapped: async (_call, cdr, oldLegId, newLegId) => { swaps.push({ cdr, oldLegId, newLegId }); },
    findDialog: (key) => o.findDialog?.(key),
  };
  return { h, transfers: new CallTransfers(env, { graceMs: 2000 }), swaps, routed, nears, calleeInvite: invite! };
}

function refer(h: Harness, referTo: string): ReturnType<typeof incoming> {
  const msg = fromCaller(h.call, 'REFER', 3);
  msg.addHeader('Refer-To', referTo);
  msg.addHeader('Referred-By', '<sip:+15551234567@192.0.2.10>');
  return incoming(msg);
}

const frags = (notifies: Array<{ msg: SipMessage }>) => notifies.map((n) => parseSipfragStatus(n.msg.body).status);

test('blind REFER from the caller: 202, NOTIFY 100/180/200, the callee is bridged to the target, the caller is let go, CDRs', async () => {
  const { h, transfers, swaps, routed, nears } = await answered();
  const req = refer(h, '<sip:2000@strowger.test>');
  const done = transfers.refer(h.call, 'a', req);
  await h.settle();
  assert.equal(req.replies[0]!.status, 202);
  assert.deepEqual(routed, [{ dialed: '2000', side: 'a' }], 'routed as if the caller dialled it');
  assert.deepEqual(nears, [2], "the target's endpoint is created next to the kept party's");
  const toTarget = h.endpoint.sent('INVITE')[1]!;
  assert.ok(toTarget, 'INVITE to the target');
  assert.equal(toTarget.msg.getHeader('referred-by'), '<sip:+15551234567@192.0.2.10>');
  const offer = parseSdp(toTarget.msg.body.toString());
  assert.equal(offer.media[0]!.port, 20004, 'the target sends to the new endpoint');
  assert.equal(codecs(offer.media[0]!)[0]!.name, 'PCMA', "the kept party's codec first: pass-through possible");
  const tag = calleeTag();
  toTarget.respond(180, { toTag: tag });
  await h.settle();
  toTarget.respond(200, { toTag: tag, body: calleeSdp('0', ['a=rtpmap:0 PCMU/8000'], 7000) });
  await done;
  await h.settle();
  const notifies = h.endpoint.sent('NOTIFY');
  assert.deepEqual(frags(notifies), [100, 180, 200]);
  assert.ok(notifies.every((n) => n.msg.callId === h.call.aCallId), 'NOTIFYs in the REFER dialog');
  assert.match(notifies[2]!.msg.getHeader('subscription-state') ?? '', /^terminated/);
  assert.match(notifies[0]!.msg.getHeader('subscription-state') ?? '', /^active/);
  assert.deepEqual(h.media.bridged.at(-1), [2, 3], "the callee's endpoint is bridged with the target's");
  assert.equal(h.media.codecs.get(3)?.name, 'PCMU', 'the target leg carries what the target answered (transcoded against PCMA)');
  assert.deepEqual(h.media.remotes.get(3), { address: '198.51.100.7', rtpPort: 7000 });
  assert.equal(swaps.length, 1);
  assert.deepEqual([swaps[0]!.oldLegId, swaps[0]!.newLegId], [1, 3]);
  assert.deepEqual([swaps[0]!.cdr.hangup_cause, swaps[0]!.cdr.hangup_by, swaps[0]!.cdr.disposition, swaps[0]!.cdr.call_id], ['transferred', 'caller', 'answered', h.call.id]);
  assert.equal(h.call.state, 'answered');
  assert.equal(h.call.cdrId, `${h.call.id}-t1`);
  assert.equal(h.call.snapshot().legs.a.sipCallId, toTarget.msg.callId, 'side a is now the target');
  assert.deepEqual([h.call.origin.caller, h.call.origin.callee], ['+15557654321', '2000']);
  // The transferor did not hang up: our BYE after the grace.
  assert.equal(h.endpoint.sent('BYE').length, 0);
  h.timers.advance(2000);
  const byes = h.endpoint.sent('BYE');
  assert.equal(byes.length, 1);
  assert.equal(byes[0]!.msg.callId, h.call.aCallId, 'BYE to the transferor');
  // The target hangs up: the callee gets BYE, the continuing call's CDR is written.
  const targetBye = incoming(fromCallee(h.call, toTarget.msg, tag, 'BYE', 2));
  h.call.byeFrom('a', targetBye);
  assert.equal(h.endpoint.sent('BYE').length, 2);
  assert.equal(h.endpoint.sent('BYE')[1]!.msg.callId, h.endpoint.sent('INVITE')[0]!.msg.callId);
  assert.equal(h.cdrs.length, 1);
  assert.deepEqual([h.cdrs[0]!.cdr.call_id, h.cdrs[0]!.cdr.caller, h.cdrs[0]!.cdr.callee, h.cdrs[0]!.cdr.hangup_cause, h.cdrs[0]!.cdr.a_call_id], [`${h.call.id}-t1`, '+15557654321', '2000', 'caller_bye', toTarget.msg.callId]);
  assert.ok(h.media.released.includes(3) && h.media.released.includes(2));
});

test('the transferor BYEs first (RFC 5589 §6): answered by the detached dialog, the call goes on, no BYE of ours', async () => {
  const { h, transfers } = await answered();
  const done = transfers.refer(h.call, 'a', refer(h, '<sip:2000@strowger.test>'));
  await h.settle();
  const toTarget = h.endpoint.sent('INVITE')[1]!;
  toTarget.respond(200, { toTag: calleeTag(), body: calleeSdp() });
  await done;
  const bye = incoming(fromCaller(h.call, 'BYE', 4));
  assert.equal(transfers.byeDetached(bye), true);
  assert.equal(bye.replies[0]!.status, 200);
  h.timers.advance(5000);
  assert.equal(h.endpoint.sent('BYE').length, 0);
  assert.equal(h.call.state, 'answered');
});

test('blind REFER to a busy target: final NOTIFY 486 (terminated), the call goes on untouched', async () => {
  const { h, transfers, swaps } = await answered();
  const done = transfers.refer(h.call, 'a', refer(h, '<sip:2000@strowger.test>'));
  await h.settle();
  h.endpoint.sent('INVITE')[1]!.respond(486);
  await done;
  await h.settle();
  const notifies = h.endpoint.sent('NOTIFY');
  assert.deepEqual(frags(notifies), [100, 486]);
  assert.match(notifies[1]!.msg.getHeader('subscription-state') ?? '', /^terminated/);
  assert.equal(swaps.length, 0);
  assert.equal(h.call.state, 'answered');
  assert.ok(h.media.released.includes(3), 'the unused endpoint is released');
  assert.ok(!h.media.released.includes(1));
  assert.equal(h.endpoint.sent('BYE').length, 0);
});

test('REFER refused by the router (blocklist): NOTIFY with its status; bad Refer-To: 400; second REFER while one rings: 491', async () => {
  const { h, transfers } = await answered({ reject: { kind: 'reject', status: 603, reason: 'Decline', disposition: 'blocked', cause: 'blocked', direction: 'internal' } });
  await transfers.refer(h.call, 'a', refer(h, '<sip:2000@strowger.test>'));
  assert.deepEqual(frags(h.endpoint.sent('NOTIFY')), [100, 603]);
  const bad = refer(h, 'not a uri <<');
  await transfers.refer(h.call, 'a', bad);
  assert.equal(bad.replies[0]!.status, 400);
  const { h: h2, transfers: t2 } = await answered();
  void t2.refer(h2.call, 'a', refer(h2, '<sip:2000@strowger.test>'));
  await h2.settle();
  const second = refer(h2, '<sip:2001@strowger.test>');
  await t2.refer(h2.call, 'a', second);
  assert.equal(second.replies[0]!.status, 491);
});

test('API attended transfer: the target rings while the parties talk; cancel → CANCEL, 487, the call goes on', async () => {
  const { h, transfers, routed } = await answered();
  const pending = transfers.transfer(h.call, '2000', 'attended');
  await h.settle();
  assert.deepEqual(routed, [{ dialed: '2000', side: null }]);
  assert.equal(transfers.isPending(h.call.id), true);
  assert.equal(h.endpoint.sent('BYE').length, 0, 'nobody is hung up while the target rings');
  assert.equal(transfers.cancel(h.call.id), true);
  const r = await pending;
  assert.deepEqual(r, { ok: false, status: 487, reason: 'Request Terminated' });
  assert.equal(h.endpoint.sent('CANCEL').length, 1);
  assert.equal(h.call.state, 'answered');
  assert.equal(transfers.cancel(h.call.id), false, 'nothing pending any more');
});

test('API attended transfer answered: the callee is hung up and the caller bridged to the target', async () => {
  const { h, transfers, swaps, calleeInvite } = await answered();
  const pending = transfers.transfer(h.call, '2000', 'attended');
  await h.settle();
  h.endpoint.sent('INVITE')[1]!.respond(200, { toTag: calleeTag(), body: calleeSdp() });
  const r = await pending;
  assert.ok('ok' in r && r.ok);
  assert.deepEqual(h.media.bridged.at(-1), [1, 3]);
  const byes = h.endpoint.sent('BYE');
  assert.equal(byes.length, 1);
  assert.equal(byes[0]!.msg.callId, calleeInvite.msg.callId);
  assert.deepEqual([swaps[0]!.cdr.hangup_cause, swaps[0]!.cdr.hangup_by, swaps[0]!.oldLegId], ['transferred', 'api', 2]);
  assert.equal(h.call.codec, 'PCMA/8000');
});

test('API blind transfer to a busy target: the callee was hung up at once, the call ends transfer_failed', async () => {
  const { h, transfers, calleeInvite } = await answered();
  const pending = transfers.transfer(h.call, '2000', 'blind');
  await h.settle();
  assert.equal(h.endpoint.sent('BYE')[0]!.msg.callId, calleeInvite.msg.callId, 'the callee goes first');
  h.endpoint.sent('INVITE')[1]!.respond(486);
  const r = await pending;
  assert.deepEqual(r, { ok: false, status: 486, reason: 'Busy Here' });
  assert.equal(h.call.state, 'ended');
  assert.equal(h.cdrs[0]!.cdr.hangup_cause, 'transfer_failed');
  assert.equal(h.endpoint.sent('BYE').at(-1)!.msg.callId, h.call.aCallId, 'the caller gets BYE');
  const unanswered = await startCall();
  assert.deepEqual(await transfers.transfer(unanswered.call, '2000', 'blind'), { refused: 'not_answered' });
});

test('transfer targets: numbers, usernames, sip: and tel: URIs; junk is refused', () => {
  assert.equal(transferTargetUser('2000'), '2000');
  assert.equal(transferTargetUser('+15551234567'), '+15551234567');
  assert.equal(transferTargetUser('sip:bob@example.com;transport=udp'), 'bob');
  assert.equal(transferTargetUser('tel:+15551234567'), '+15551234567');
  assert.equal(transferTargetUser('a b'), null);
  assert.equal(transferTargetUser('sip:@x'), null);
});

test('attended REFER with Replaces: Y is joined with Z of the consultation call, X leaves both calls, NOTIFY 100/200, CDRs transferred', async () => {
  // Call 2 (consultation): X called Z; X is its caller, Z its answered callee.
  const c2 = await startCall();
  c2.endpoint.sent('INVITE')[0]!.respond(200, { toTag: calleeTag(), body: calleeSdp('0', ['a=rtpmap:0 PCMU/8000'], 8000) });
  await c2.settle();
  await c2.call.onAck('a', fromCaller(c2.call, 'ACK', 1));
  const z = c2.call.partyB!;
  const key2 = dialogKey(CALLER_CALL_ID, c2.call.caller.tag, CALLER_TAG);
  const { h, transfers, swaps } = await answered({ findDialog: (key) => (key === key2 ? { call: c2.call, side: 'a' } : undefined) });
  const replaces = escapeUriHeaderValue(formatReplaces({ callId: CALLER_CALL_ID, toTag: c2.call.caller.tag, fromTag: CALLER_TAG, earlyOnly: false }));
  const req = refer(h, `<sip:z@strowger.test?Replaces=${replaces}>`);
  await transfers.refer(h.call, 'a', req);
  await h.settle();
  assert.equal(req.replies[0]!.status, 202);
  assert.deepEqual(frags(h.endpoint.sent('NOTIFY')), [100, 200]);
  assert.equal(h.call.partyA, z, "Z's leg took X's place in call 1");
  assert.equal(h.endpoint.sent('INVITE').length, 1, 'nothing new is dialled');
  assert.deepEqual(h.media.bridged.at(-1), [2, z.media.endpoint.id]);
  assert.equal(c2.call.state, 'ended');
  assert.deepEqual([c2.cdrs[0]!.cdr.hangup_cause, c2.cdrs[0]!.cdr.hangup_by], ['transferred', 'caller']);
  assert.equal(c2.endpoint.sent('BYE').length, 1, 'X gets BYE in the consultation call; Z does not');
  assert.equal(c2.endpoint.sent('BYE')[0]!.msg.callId, CALLER_CALL_ID);
  assert.deepEqual(c2.media.released, [1], "Z's endpoint stays");
  assert.equal(swaps[0]!.cdr.hangup_cause, 'transferred');
  h.timers.advance(2000);
  assert.equal(h.endpoint.sent('BYE').length, 1, 'X gets BYE in call 1 after the grace');
});

test('attended REFER naming no dialog of ours: final NOTIFY 481, the call goes on', async () => {
  const { h, transfers } = await answered();
  const replaces = escapeUriHeaderValue(formatReplaces({ callId: 'nope@x', toTag: 'a', fromTag: 'b', earlyOnly: false }));
  await transfers.refer(h.call, 'a', refer(h, `<sip:z@strowger.test?Replaces=${replaces}>`));
  assert.deepEqual(frags(h.endpoint.sent('NOTIFY')), [100, 481]);
  assert.equal(h.call.state, 'answered');
});
