/**
 * Whole B2BUA call flows on a recording endpoint, a recording media engine and fake timers:
 * answer, caller CANCEL, forking, ring timeout, re-INVITE relay both ways, session-timer
 * expiry, BYE from each side, late offer, and "answered means journaled".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSdp } from '../../../src/sdp/index.ts';
import type { LegCodec } from '../../../src/media/leg-codec.ts';
import { CALLER_SDP, calleeSdp, calleeTag, FakeMedia, fromCallee, fromCaller, incoming, startCall } from './call-harness.ts';

const finals = (h: { caller: { replies: Array<{ status: number }> } }) => h.caller.replies.filter((r) => r.status >= 200).map((r) => r.status);

test('answer: the callee gets our re-anchored offer, the caller our 200 pointing at its leg, CDR on BYE from the caller', async () => {
  const h = await startCall();
  const [invite] = h.endpoint.sent('INVITE');
  assert.ok(invite);
  const offer = parseSdp(invite.msg.body.toString());
  assert.equal(offer.media[0].port, 20002, 'callee sends to the callee-side leg');
  assert.equal(offer.connection?.address, '127.0.0.1');
  assert.deepEqual(h.media.remotes.get(1), { address: '192.0.2.10', rtpPort: 4000 });
  assert.deepEqual(h.media.bridged, [[1, 2]]);
  const tag = calleeTag();
  invite.respond(180, { toTag: tag });
  await h.settle();
  assert.deepEqual(h.caller.replies.map((r) => r.status), [180]);
  invite.respond(200, { toTag: tag, body: calleeSdp() });
  await h.settle();
  assert.equal(h.call.state, 'answered');
  assert.deepEqual(finals(h), [200]);
  const ok = h.caller.replies.at(-1)!;
  const answer = parseSdp(ok.body.toString());
  assert.equal(answer.media[0].port, 20000, 'caller sends to the caller-side leg');
  assert.deepEqual(answer.media[0].formats, ['8'], 'pass-through: the callee chose PCMA, which the caller offered');
  assert.deepEqual(h.media.remotes.get(2), { address: '198.51.100.7', rtpPort: 6000 });
  assert.equal(h.endpoint.statelessOf('ACK').length, 1, 'the callee 2xx was ACKed');
  assert.equal(h.call.codec, 'PCMA/8000');
  await h.call.onAck('a', fromCaller(h.call, 'ACK', 1));
  const bye = incoming(fromCaller(h.call, 'BYE', 2));
  h.call.byeFrom('a', bye);
  assert.equal(bye.replies[0].status, 200);
  assert.equal(h.endpoint.sent('BYE').length, 1, 'BYE to the callee');
  assert.equal(h.endpoint.sent('BYE')[0].msg.callId, invite.msg.callId);
  assert.equal(h.cdrs.length, 1);
  assert.deepEqual([h.cdrs[0].cdr.disposition, h.cdrs[0].cdr.hangup_cause, h.cdrs[0].cdr.hangup_by, h.cdrs[0].cdr.codec, h.cdrs[0].journalled], ['answered', 'caller_bye', 'caller', 'PCMA/8000', true]);
  assert.deepEqual(h.media.released.sort(), [1, 2]);
});

/**
 * A media engine whose replies arrive a turn after the requests, as a worker's do: `log` shows
 * which requests went before the first reply, i.e. travelled in one post.
 */
class RoundTripMedia extends FakeMedia {
  readonly log: string[] = [];
  private reply: Promise<void> | undefined;
  private trip(what: string): Promise<void> {
    this.log.push(what);
    this.reply ??= new Promise((resolve) => setImmediate(() => { this.log.push('reply'); this.reply = undefined; resolve(); }));
    return this.reply;
  }
  override async setRemote(legId: number, r: { address: string; rtpPort: number }): Promise<void> { await super.setRemote(legId, r); return this.trip(`remote ${legId}`); }
  override async setCodec(legId: number, codec: LegCodec | null): Promise<void> { await super.setCodec(legId, codec); return this.trip(`codec ${legId}`); }
  override async bridge(a: number, b: number): Promise<void> { await super.bridge(a, b); return this.trip(`bridge ${a} ${b}`); }
}

test('one round trip to the media worker for the offer (remote + bridge) and one for the answer (remote + both codecs)', async () => {
  const media = new RoundTripMedia();
  const h = await startCall({ env: { media } });
  const [invite] = h.endpoint.sent('INVITE');
  assert.deepEqual(media.log, ['bridge 1 2', 'remote 1', 'reply'], 'the bridge did not wait for the remote\'s reply');
  media.log.length = 0;
  invite.respond(200, { toTag: calleeTag(), body: calleeSdp() });
  await h.settle();
  assert.equal(h.call.state, 'answered');
  assert.deepEqual(media.log.slice(0, media.log.indexOf('reply') + 1).sort(), ['codec 1', 'codec 2', 'remote 2', 'reply'].sort());
});

test('answered means journaled: the 200 to the caller leaves only once the journal row is committed', async () => {
  const h = await startCall({ holdJournal: true });
  const [invite] = h.endpoint.sent('INVITE');
  invite.respond(200, { toTag: calleeTag(), body: calleeSdp() });
  await h.settle();
  assert.equal(h.journal.length, 1, 'journal row queued');
  assert.deepEqual(finals(h), [], 'no 200 before the commit');
  assert.notEqual(h.call.state, 'answered');
  h.commitJournal();
  await h.settle();
  assert.deepEqual(finals(h), [200]);
  assert.equal(h.call.state, 'answered');
});

test('caller CANCEL while ringing: CANCEL to the fork with the caller\'s Reason (RFC 3326), CDR cancelled 487', async () => {
  const h = await startCall();
  const [invite] = h.endpoint.sent('INVITE');
  invite.respond(180, { toTag: calleeTag() });
  await h.settle();
  h.caller.cancelled = true;
  const cancel = fromCaller(h.call, 'CANCEL', 1);
  cancel.addHeader('Reason', 'SIP;cause=200;text="Call completed elsewhere"');
  h.caller.onCancel?.(cancel);
  assert.equal(h.endpoint.sent('CANCEL').length, 1);
  assert.deepEqual(h.endpoint.sent('CANCEL')[0].msg.getHeaders('reason'), ['SIP;cause=200;text="Call completed elsewhere"']);
  assert.equal(h.cdrs[0].cdr.disposition, 'cancelled');
  assert.equal(h.cdrs[0].cdr.sip_code, 487);
  // The callee's 487 after our CANCEL changes nothing.
  invite.respond(487, { toTag: calleeTag() });
  assert.equal(h.cdrs.length, 1);
});

test('two forks, the second answers: the first is cancelled, a late 2xx of the first is ACKed and BYEd', async () => {
  const h = await startCall({ forks: 2 });
  const [first, second] = h.endpoint.sent('INVITE');
  assert.ok(first && second);
  assert.equal(first.msg.callId, second.msg.callId, 'forks share the callee-side Call-ID');
  assert.notEqual(first.target.address, second.target.address);
  first.respond(180, { toTag: calleeTag() });
  second.respond(200, { toTag: calleeTag(), body: calleeSdp() });
  await h.settle();
  assert.equal(h.call.state, 'answered');
  const cancels = h.endpoint.sent('CANCEL');
  assert.equal(cancels.length, 1);
  assert.equal(cancels[0].target.address, first.target.address);
  assert.deepEqual(cancels[0].msg.getHeaders('reason'), ['SIP;cause=200;text="Call completed elsewhere"'], 'the ringing phone logs no missed call');
  first.respond(200, { toTag: calleeTag(), body: calleeSdp() });
  await h.settle();
  assert.equal(h.endpoint.sent('BYE').length, 1, 'the crossing 2xx is hung up');
  assert.equal(h.endpoint.sent('BYE')[0].target.address, first.target.address);
  assert.equal(h.call.state, 'answered');
  assert.equal(h.call.snapshot().legs.b.peer, `udp:${second.target.address}:5060`);
});

test('a fork declines with 603: the others are cancelled with that cause (§16.7, RFC 3326)', async () => {
  const h = await startCall({ forks: 2 });
  const [first, second] = h.endpoint.sent('INVITE');
  first.respond(180, { toTag: calleeTag() });
  second.respond(603);
  await h.settle();
  const cancels = h.endpoint.sent('CANCEL');
  assert.equal(cancels.length, 1);
  assert.equal(cancels[0].target.address, first.target.address);
  assert.deepEqual(cancels[0].msg.getHeaders('reason'), ['SIP;cause=603;text="Decline"']);
});

test('every fork fails: the caller gets the best status (486 over 480)', async () => {
  const h = await startCall({ forks: 2 });
  const [first, second] = h.endpoint.sent('INVITE');
  first.respond(480);
  assert.deepEqual(finals(h), []);
  second.respond(486);
  assert.deepEqual(finals(h), [486]);
  assert.equal(h.cdrs[0].cdr.disposition, 'busy');
});

test('ring timeout: CANCEL to the callee, 480 to the caller, CDR no_answer', async () => {
  const h = await startCall({ ringTimeoutMs: 20_000 });
  const [invite] = h.endpoint.sent('INVITE');
  invite.respond(180, { toTag: calleeTag() });
  h.timers.advance(19_999);
  assert.deepEqual(finals(h), []);
  h.timers.advance(1);
  assert.deepEqual(finals(h), [480]);
  assert.equal(h.endpoint.sent('CANCEL').length, 1);
  assert.deepEqual([h.cdrs[0].cdr.disposition, h.cdrs[0].cdr.hangup_cause], ['no_answer', 'no_answer']);
});

async function answered(o: Parameters<typeof startCall>[0] = {}) {
  const h = await startCall(o);
  const [invite] = h.endpoint.sent('INVITE');
  const tag = calleeTag();
  invite.respond(200, { toTag: tag, body: calleeSdp() });
  await h.settle();
  await h.call.onAck('a', fromCaller(h.call, 'ACK', 1));
  return { ...h, invite, tag };
}

test('2xx retransmission to the caller until its ACK (§13.3.1.4), then silence', async () => {
  const h = await startCall();
  const [invite] = h.endpoint.sent('INVITE');
  invite.respond(200, { toTag: calleeTag(), body: calleeSdp() });
  await h.settle();
  h.timers.advance(500);
  h.timers.advance(1000);
  assert.equal(h.endpoint.statelessOf('200').length, 2);
  await h.call.onAck('a', fromCaller(h.call, 'ACK', 1));
  h.timers.advance(10_000);
  assert.equal(h.endpoint.statelessOf('200').length, 2);
});

test('re-INVITE from the caller (hold) reaches the callee sendonly; the 200 comes back re-anchored, ACK after the caller ACKs', async () => {
  const h = await answered();
  const hold = CALLER_SDP.replace('a=sendrecv', 'a=sendonly');
  const reinvite = incoming(fromCaller(h.call, 'INVITE', 2, hold));
  await h.call.inDialogUpdate('a', reinvite);
  const toCallee = h.endpoint.sent('INVITE')[1];
  assert.ok(toCallee);
  assert.equal(toCallee.msg.callId, h.invite.msg.callId);
  assert.match(toCallee.msg.body.toString(), /a=sendonly/);
  assert.match(toCallee.msg.body.toString(), /m=audio 20002 /);
  toCallee.respond(200, { toTag: h.tag, body: calleeSdp('8', ['a=rtpmap:8 PCMA/8000', 'a=recvonly']) });
  await h.settle();
  assert.equal(reinvite.replies[0].status, 200);
  assert.match(reinvite.replies[0].body.toString(), /a=recvonly/);
  assert.match(reinvite.replies[0].body.toString(), /m=audio 20000 /);
  const acks = () => h.endpoint.statelessOf('ACK').filter((a) => a.callId === h.invite.msg.callId).length;
  const before = acks();
  await h.call.onAck('a', fromCaller(h.call, 'ACK', 2));
  assert.equal(acks(), before + 1, 'the callee 2xx is ACKed once the caller ACKed ours');
});

test('re-INVITE from the callee reaches the caller; we ACK the caller 2xx ourselves', async () => {
  const h = await answered();
  const reinvite = incoming(fromCallee(h.call, h.invite.msg, h.tag, 'INVITE', 1, calleeSdp('8', ['a=rtpmap:8 PCMA/8000', 'a=sendonly'], 6002)));
  await h.call.inDialogUpdate('b', reinvite);
  const toCaller = h.endpoint.sent('INVITE').find((r) => r.msg.callId === h.caller.msg.callId);
  assert.ok(toCaller, 're-INVITE sent in the caller dialog');
  assert.match(toCaller.msg.body.toString(), /a=sendonly/);
  assert.deepEqual(h.media.remotes.get(2), { address: '198.51.100.7', rtpPort: 6002 });
  toCaller.respond(200, { toTag: 'x', body: CALLER_SDP.replace('a=sendrecv', 'a=recvonly') });
  await h.settle();
  assert.equal(reinvite.replies[0].status, 200);
  assert.ok(h.endpoint.statelessOf('ACK').some((a) => a.callId === h.caller.msg.callId && a.cseq.seq === toCaller.msg.cseq.seq));
});

test('a second re-INVITE while one is pending gets 491', async () => {
  const h = await answered();
  await h.call.inDialogUpdate('a', incoming(fromCaller(h.call, 'INVITE', 2, CALLER_SDP)));
  const second = incoming(fromCaller(h.call, 'INVITE', 3, CALLER_SDP));
  await h.call.inDialogUpdate('a', second);
  assert.equal(second.replies[0].status, 491);
});

test('session timer: no refresh from the caller ends the call with BYE both ways (RFC 4028 §10)', async () => {
  const h = await answered({ sessionTimer: { kind: 'on', interval: 90, refresher: 'uac' } });
  assert.match(String(h.caller.replies.at(-1)!.getHeader('session-expires')), /^90;refresher=uac/);
  h.timers.advance(59_999);
  assert.equal(h.cdrs.length, 0);
  h.timers.advance(1);
  assert.equal(h.endpoint.sent('BYE').length, 2);
  assert.deepEqual([h.cdrs[0].cdr.hangup_cause, h.cdrs[0].cdr.hangup_by], ['session_expired', 'system']);
});

test('session timer: a refresh re-INVITE restarts the wait', async () => {
  const h = await answered({ sessionTimer: { kind: 'on', interval: 90, refresher: 'uac' } });
  h.timers.advance(50_000);
  await h.call.inDialogUpdate('a', incoming(fromCaller(h.call, 'INVITE', 2, CALLER_SDP)));
  h.timers.advance(50_000);
  assert.equal(h.cdrs.length, 0, 'refreshed at 50 s: still up at 100 s');
  h.timers.advance(10_000);
  assert.equal(h.cdrs[0].cdr.hangup_cause, 'session_expired');
});

test('BYE from the callee: 200 to it, BYE to the caller, CDR callee_bye', async () => {
  const h = await answered();
  const bye = incoming(fromCallee(h.call, h.invite.msg, h.tag, 'BYE', 1));
  h.call.byeFrom('b', bye);
  assert.equal(bye.replies[0].status, 200);
  const byes = h.endpoint.sent('BYE');
  assert.equal(byes.length, 1);
  assert.equal(byes[0].msg.callId, h.caller.msg.callId);
  assert.equal(byes[0].msg.toTag, 'alice-tag');
  assert.deepEqual([h.cdrs[0].cdr.disposition, h.cdrs[0].cdr.hangup_by, h.cdrs[0].cdr.hangup_cause], ['answered', 'callee', 'callee_bye']);
});

test('hangup for a media failure: BYE to both parties, cause in the CDR', async () => {
  const h = await answered();
  h.call.hangup('system', 'media_failure');
  assert.equal(h.endpoint.sent('BYE').length, 2);
  assert.deepEqual([h.cdrs[0].cdr.disposition, h.cdrs[0].cdr.hangup_cause], ['answered', 'media_failure']);
});

test('late offer: INVITE without SDP, the callee offer goes to the caller in the 200, its answer rides on the ACK', async () => {
  const h = await startCall({ body: '' });
  const [invite] = h.endpoint.sent('INVITE');
  assert.equal(invite.msg.body.length, 0);
  invite.respond(200, { toTag: calleeTag(), body: calleeSdp('0 8', ['a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000']) });
  await h.settle();
  assert.equal(h.endpoint.statelessOf('ACK').length, 0, 'the callee ACK waits for the caller answer');
  const ok = h.caller.replies.at(-1)!;
  assert.equal(ok.status, 200);
  const offer = parseSdp(ok.body.toString());
  assert.equal(offer.media[0].port, 20000);
  assert.deepEqual(offer.media[0].formats.slice(0, 2), ['0', '8'], 'the callee codecs first');
  await h.call.onAck('a', fromCaller(h.call, 'ACK', 1, CALLER_SDP.replace('RTP/AVP 8 0 101', 'RTP/AVP 0')));
  const [ack] = h.endpoint.statelessOf('ACK');
  assert.ok(ack);
  assert.match(ack.body.toString(), /m=audio 20002 RTP\/AVP 0\r\n/);
  assert.equal(h.call.codec, 'PCMU/8000');
});

test('an offer with no codec we can decode is refused before anything is dialled (488 + Warning 305)', async () => {
  const g729 = CALLER_SDP.replace('RTP/AVP 8 0 101', 'RTP/AVP 18').replace(/a=rtpmap:[^\r]*\r\n/g, '').replace('a=fmtp:101 0-16\r\n', '');
  await assert.rejects(startCall({ body: g729 }), (err: Error & { sipStatus?: number; header?: (a: string) => string }) => {
    assert.equal(err.sipStatus, 488);
    assert.equal(err.header?.('strowger.test'), '305 strowger.test "Incompatible media format"');
    return true;
  });
});
