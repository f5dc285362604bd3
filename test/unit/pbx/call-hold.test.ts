/**
 * Hold on the fake harness (no sockets, no sleeps): the re-INVITE we originate for the API
 * (RFC 3264 §8.4: last SDP, a=sendonly / a=sendrecv, o= version + 1), the state rules, 491
 * glare (RFC 3261 §14.1), and the engine calls that give the held party music on hold — for
 * API holds and for a phone's own sendonly re-INVITE.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSdp, getDirection } from '../../../src/sdp/index.ts';
import type { CreatePlayerOptions, EndpointInfo } from '../../../src/media/media-engine.ts';
import type { MediaDirection } from '../../../src/media/relay-protocol.ts';
import { HoldError } from '../../../src/pbx/call-hold.ts';
import { CALLER_SDP, FakeMedia, calleeSdp, calleeTag, fromCaller, incoming, startCall } from './call-harness.ts';

const MOH = '/data/moh/default-v1.wav';

/** FakeMedia plus what hold uses; `ops` lists engine calls in order. */
class HoldMedia extends FakeMedia {
  readonly ops: string[] = [];
  private next = 100;
  async createPlayer(o: CreatePlayerOptions): Promise<EndpointInfo> {
    const id = this.next++;
    this.ops.push(`player ${id} near ${o.near} ${'file' in o.source ? o.source.file : 'tone'} loop=${o.loop}`);
    return { id, worker: 0 };
  }
  async connect(sink: number, sources: readonly number[]): Promise<void> { this.ops.push(`connect ${sink} <- [${sources.join(',')}]`); }
  async setDirection(legId: number, d: MediaDirection): Promise<void> { this.ops.push(`direction ${legId} ${d}`); }
  override async bridge(a: number, b: number): Promise<void> { await super.bridge(a, b); this.ops.push(`bridge ${a} ${b}`); }
  override async releaseLeg(id: number): Promise<boolean> { this.ops.push(`release ${id}`); return super.releaseLeg(id); }
}

async function answered(o: { moh?: string | null } = {}) {
  const media = new HoldMedia();
  const h = await startCall({ env: { media, hold: { media, mohFile: async () => (o.moh === undefined ? MOH : o.moh) } } });
  const [invite] = h.endpoint.sent('INVITE');
  const tag = calleeTag();
  invite.respond(200, { toTag: tag, body: calleeSdp() });
  await h.settle();
  await h.call.onAck('a', fromCaller(h.call, 'ACK', 1));
  media.ops.length = 0;
  return { ...h, media, invite, tag };
}

const origin = (body: string) => parseSdp(body).origin;
const audioOf = (body: string) => { const sd = parseSdp(body); return { sd, m: sd.media[0] }; };

test('API hold of the callee: re-INVITE with our last SDP, a=sendonly, o= version + 1; MOH to the callee, silence to the caller', async () => {
  const h = await answered();
  const offered = h.invite.msg.body.toString();
  const pending = h.call.hold.request(true);
  await h.settle();
  const re = h.endpoint.sent('INVITE')[1];
  assert.ok(re, 're-INVITE sent');
  assert.equal(re.msg.callId, h.invite.msg.callId, 'in the callee dialog');
  assert.equal(re.msg.cseq.seq, h.invite.msg.cseq.seq + 1);
  const body = re.msg.body.toString();
  const { sd, m } = audioOf(body);
  assert.equal(getDirection(m, sd), 'sendonly');
  assert.equal((body.match(/a=(sendrecv|sendonly|recvonly|inactive)/g) ?? []).length, 1, 'exactly one direction attribute');
  assert.equal(origin(body).sessionId, origin(offered).sessionId, 'same o= session id (RFC 3264 §8)');
  assert.equal(BigInt(origin(body).sessionVersion), BigInt(origin(offered).sessionVersion) + 1n, 'o= version + 1');
  assert.equal(m.port, 20002, 'still our callee-side endpoint');
  assert.deepEqual(m.formats, ['8'], 'narrowed to the codec the leg carries (PCMA)');
  assert.deepEqual(h.media.ops, [], 'no media change before the answer');
  re.respond(200, { toTag: h.tag, body: calleeSdp('8', ['a=rtpmap:8 PCMA/8000', 'a=recvonly']) });
  await pending;
  assert.ok(h.endpoint.statelessOf('ACK').some((a) => a.callId === h.invite.msg.callId && a.cseq.seq === re.msg.cseq.seq), 'the 2xx is ACKed');
  assert.deepEqual(h.media.ops, ['connect 1 <- []', `player 100 near 2 ${MOH} loop=true`, 'connect 2 <- [100]', 'direction 2 sendonly']);
  assert.deepEqual(h.call.snapshot().hold, { onHold: true, heldBy: 'api', heldParty: 'callee' });

  h.media.ops.length = 0;
  const resume = h.call.hold.request(false);
  await h.settle();
  const re2 = h.endpoint.sent('INVITE')[2];
  assert.ok(re2);
  const body2 = re2.msg.body.toString();
  const a2 = audioOf(body2);
  assert.equal(getDirection(a2.m, a2.sd), 'sendrecv');
  assert.equal(BigInt(origin(body2).sessionVersion), BigInt(origin(body).sessionVersion) + 1n);
  re2.respond(200, { toTag: h.tag, body: calleeSdp() });
  await resume;
  assert.deepEqual(h.media.ops, ['release 100', 'bridge 1 2', 'direction 2 sendrecv']);
  assert.deepEqual(h.call.snapshot().hold, { onHold: false, heldBy: null, heldParty: null });
});

test('API hold of the caller: re-INVITE in the caller dialog from our 200 answer, sendonly; a new answer address moves the leg', async () => {
  const h = await answered();
  const ours = h.caller.replies.find((r) => r.status === 200)!.body.toString();
  const pending = h.call.hold.request(true, 'caller');
  await h.settle();
  const re = h.endpoint.sent('INVITE').find((r) => r.msg.callId === h.caller.msg.callId);
  assert.ok(re);
  const body = re.msg.body.toString();
  assert.match(body, /a=sendonly/);
  assert.doesNotMatch(body, /a=sendrecv/);
  assert.equal(BigInt(origin(body).sessionVersion), BigInt(origin(ours).sessionVersion) + 1n);
  assert.equal(audioOf(body).m.port, 20000);
  re.respond(200, { toTag: 'x', body: CALLER_SDP.replace('a=sendrecv', 'a=recvonly').replace('m=audio 4000', 'm=audio 4100') });
  await pending;
  assert.deepEqual(h.media.remotes.get(1), { address: '192.0.2.10', rtpPort: 4100 });
  assert.deepEqual(h.media.ops, [`player 100 near 1 ${MOH} loop=true`, 'connect 1 <- [100]', 'direction 1 sendonly', 'connect 2 <- []']);
  assert.deepEqual(h.call.snapshot().hold, { onHold: true, heldBy: 'api', heldParty: 'caller' });
});

test('MOH disabled: the held party hears silence (no player)', async () => {
  const h = await answered({ moh: null });
  const pending = h.call.hold.request(true);
  await h.settle();
  h.endpoint.sent('INVITE')[1].respond(200, { toTag: h.tag, body: calleeSdp() });
  await pending;
  assert.deepEqual(h.media.ops, ['connect 1 <- []', 'connect 2 <- []', 'direction 2 sendonly']);
});

test('state rules: not answered, same state (idempotent, no re-INVITE), other party held, resume of a phone hold', async () => {
  const ringing = await startCall();
  await assert.rejects(ringing.call.hold.request(true), (e: unknown) => e instanceof HoldError && e.code === 'HOLD_ERR_NOT_ANSWERED');

  const h = await answered();
  await h.call.hold.request(false);
  assert.equal(h.endpoint.sent('INVITE').length, 1, 'resume of a call not held: nothing sent');
  const p = h.call.hold.request(true);
  await h.settle();
  await assert.rejects(h.call.hold.request(false), (e: unknown) => e instanceof HoldError && e.code === 'HOLD_ERR_BUSY', 'a second change while one is in flight');
  h.endpoint.sent('INVITE')[1].respond(200, { toTag: h.tag, body: calleeSdp() });
  await p;
  await h.call.hold.request(true);
  assert.equal(h.endpoint.sent('INVITE').length, 2, 'hold of a held party: idempotent, nothing sent');
  await assert.rejects(h.call.hold.request(true, 'caller'), (e: unknown) => e instanceof HoldError && e.code === 'HOLD_ERR_OTHER_PARTY');

  h.call.hangup('api', 'api_hangup');
  assert.ok(h.media.ops.includes('release 100'), 'the player goes with the call');
  await assert.rejects(h.call.hold.request(false), (e: unknown) => e instanceof HoldError && e.code === 'HOLD_ERR_NOT_ANSWERED');
});

test('re-INVITE rejected (488): HOLD_ERR_REJECTED with the status, nothing changed', async () => {
  const h = await answered();
  const p = h.call.hold.request(true);
  await h.settle();
  h.endpoint.sent('INVITE')[1].respond(488, { toTag: h.tag });
  await assert.rejects(p, (e: unknown) => e instanceof HoldError && e.code === 'HOLD_ERR_REJECTED' && e.status === 488);
  assert.deepEqual(h.media.ops, []);
  assert.equal(h.call.snapshot().hold.onHold, false);
  assert.equal(h.call.hold.pending, false);
});

test('491 glare (RFC 3261 §14.1): one retry after 2.1-4 s towards the callee (we own its Call-ID); twice 491 fails', async () => {
  const h = await answered();
  const p = h.call.hold.request(true);
  await h.settle();
  h.endpoint.sent('INVITE')[1].respond(491, { toTag: h.tag });
  await h.settle();
  h.timers.advance(2099);
  await h.settle();
  assert.equal(h.endpoint.sent('INVITE').length, 2, 'no retry before 2.1 s');
  h.timers.advance(1902);
  await h.settle();
  const retry = h.endpoint.sent('INVITE')[2];
  assert.ok(retry, 'retried by 4 s');
  assert.match(retry.msg.body.toString(), /a=sendonly/);
  retry.respond(200, { toTag: h.tag, body: calleeSdp() });
  await p;
  assert.equal(h.call.snapshot().hold.onHold, true);

  const q = h.call.hold.request(false);
  await h.settle();
  h.endpoint.sent('INVITE')[3].respond(491, { toTag: h.tag });
  await h.settle();
  h.timers.advance(4001);
  await h.settle();
  h.endpoint.sent('INVITE')[4].respond(491, { toTag: h.tag });
  await assert.rejects(q, (e: unknown) => e instanceof HoldError && e.code === 'HOLD_ERR_GLARE');
  assert.equal(h.call.snapshot().hold.onHold, true, 'still held');
});

test('a party re-INVITE while our hold re-INVITE is pending gets 491', async () => {
  const h = await answered();
  const p = h.call.hold.request(true);
  await h.settle();
  const theirs = incoming(fromCaller(h.call, 'INVITE', 2, CALLER_SDP));
  await h.call.inDialogUpdate('a', theirs);
  assert.equal(theirs.replies[0].status, 491);
  h.endpoint.sent('INVITE')[1].respond(200, { toTag: h.tag, body: calleeSdp() });
  await p;
});

test('phone hold: the caller re-INVITEs sendonly, relayed as before; once answered the callee hears MOH, the caller silence; sendrecv resumes', async () => {
  const h = await answered();
  const hold = incoming(fromCaller(h.call, 'INVITE', 2, CALLER_SDP.replace('a=sendrecv', 'a=sendonly')));
  await h.call.inDialogUpdate('a', hold);
  const relayed = h.endpoint.sent('INVITE')[1];
  assert.match(relayed.msg.body.toString(), /a=sendonly/, 'the holder\'s sendonly reaches the held party');
  assert.deepEqual(h.media.ops.filter((o) => !o.startsWith('bridge')), [], 'nothing before the answer');
  relayed.respond(200, { toTag: h.tag, body: calleeSdp('8', ['a=rtpmap:8 PCMA/8000', 'a=recvonly']) });
  await h.settle();
  assert.match(hold.replies[0].body.toString(), /a=recvonly/, 'the held party\'s recvonly reaches the holder');
  assert.deepEqual(h.media.ops, ['connect 1 <- []', `player 100 near 2 ${MOH} loop=true`, 'connect 2 <- [100]', 'direction 2 sendonly']);
  assert.deepEqual(h.call.snapshot().hold, { onHold: true, heldBy: 'caller', heldParty: 'callee' });
  await assert.rejects(h.call.hold.request(false), (e: unknown) => e instanceof HoldError && e.code === 'HOLD_ERR_PHONE_HOLD');

  await h.call.onAck('a', fromCaller(h.call, 'ACK', 2));
  h.media.ops.length = 0;
  const resume = incoming(fromCaller(h.call, 'INVITE', 3, CALLER_SDP));
  await h.call.inDialogUpdate('a', resume);
  h.endpoint.sent('INVITE')[2].respond(200, { toTag: h.tag, body: calleeSdp() });
  await h.settle();
  assert.equal(resume.replies[0].status, 200);
  assert.deepEqual(h.media.ops, ['release 100', 'bridge 1 2', 'direction 2 sendrecv']);
  assert.equal(h.call.snapshot().hold.onHold, false);
});

test('phone hold rejected by the other party: no MOH', async () => {
  const h = await answered();
  const hold = incoming(fromCaller(h.call, 'INVITE', 2, CALLER_SDP.replace('a=sendrecv', 'a=inactive')));
  await h.call.inDialogUpdate('a', hold);
  h.endpoint.sent('INVITE')[1].respond(488, { toTag: h.tag });
  await h.settle();
  assert.equal(hold.replies[0].status, 488);
  assert.deepEqual(h.media.ops, []);
  assert.equal(h.call.snapshot().hold.onHold, false);
});
