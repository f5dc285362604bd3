/**
 * The room's video router (issue 13, SFU forwarding) with fake peers: who sees whom, key-frame
 * gating and requests, the publisher cap, and nothing kept after a participant leaves.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RtpHeader, RtpPacket } from 'werift';
import { VideoRouter } from '../../../src/rooms/video-router.ts';
import type { ForwardSlot, VideoPeer } from '../../../src/media/webrtc/index.ts';

class FakeSlot implements ForwardSlot {
  ready = true;
  sent: string[] = [];
  switches = 0;
  handler: (() => void) | null = null;
  constructor(readonly mid: string) {}
  switchSource() { this.switches++; }
  send(rtp: RtpPacket) { this.sent.push(rtp.payload.subarray(2).toString()); }
  onKeyframeRequest(h: (() => void) | null) { this.handler = h; }
}

class FakePeer implements VideoPeer {
  readonly slots: FakeSlot[];
  handler: ((rtp: RtpPacket) => void) | null = null;
  plis = 0;
  constructor(readonly name: string, readonly hasCamera: boolean, slots: number) {
    this.slots = Array.from({ length: slots }, (_, i) => new FakeSlot(`${name}${i}`));
  }
  onCamera(h: ((rtp: RtpPacket) => void) | null) { this.handler = h; }
  requestKeyframe() { this.plis++; return true; }
  /** A VP8 packet (RFC 7741 descriptor S=1 PID=0, key or delta) tagged `<name><n>`. */
  frame(n: number, keyframe: boolean) {
    this.handler?.(new RtpPacket(new RtpHeader({ payloadType: 96, sequenceNumber: n, ssrc: 1 }), Buffer.concat([Buffer.from([0x10, keyframe ? 0 : 1]), Buffer.from(`${this.name}${n}`)])));
  }
}

function router(maxPublishers = 8, slots = 4) {
  let now = 0;
  const r = new VideoRouter({ maxPublishers, slotsPerSubscriber: slots, keyframeGapMs: 500, now: () => now });
  const events: [string, (string | null)[]][] = [];
  r.on('slots', (id, s) => events.push([id, s.map((x) => x.participant)]));
  return { r, events, tick: (ms: number) => { now += ms; } };
}

describe('VideoRouter', () => {
  test('a publisher fills the others\' free slots, never its own; the page is told', () => {
    const { r, events } = router();
    const a = new FakePeer('a', true, 2);
    const b = new FakePeer('b', true, 2);
    assert.deepEqual(r.add('a', a), { publishing: true });
    assert.deepEqual(r.slotsOf('a').map((s) => s.participant), [null, null], 'alone: nothing to show');
    r.add('b', b);
    assert.deepEqual(r.slotsOf('a').map((s) => s.participant), ['b', null]);
    assert.deepEqual(r.slotsOf('b').map((s) => s.participant), ['a', null]);
    assert.deepEqual(events, [['a', ['b', null]], ['b', ['a', null]]]);
    assert.equal(r.add('a', a).publishing, true, 'adding twice changes nothing');
  });

  test('a new slot waits for a key frame and asks for one; deltas before it are held back', () => {
    const { r, tick } = router();
    const a = new FakePeer('a', true, 0);
    const b = new FakePeer('b', false, 1);
    r.add('a', a);
    r.add('b', b);
    assert.equal(a.plis, 1, 'mapping asks the publisher for a key frame');
    assert.equal(b.slots[0]!.switches, 1);
    a.frame(1, false);
    assert.deepEqual(b.slots[0]!.sent, [], 'delta before the key frame');
    a.frame(2, true);
    a.frame(3, false);
    assert.deepEqual(b.slots[0]!.sent, ['a2', 'a3']);
    assert.equal(r.stats().packets_waiting_keyframe, 1);
    // A subscriber's PLI goes to the publisher, at most one per 500 ms.
    b.slots[0]!.handler!();
    assert.equal(a.plis, 1, 'too soon after the mapping request');
    tick(600);
    b.slots[0]!.handler!();
    b.slots[0]!.handler!();
    assert.equal(a.plis, 2);
    assert.deepEqual([r.stats().keyframe_requests_received, r.stats().keyframe_requests_sent], [3, 2]);
  });

  test('a key frame before the subscriber\'s DTLS is up does not count; the router asks again', () => {
    const { r, tick } = router();
    const a = new FakePeer('a', true, 0);
    const b = new FakePeer('b', false, 1);
    r.add('a', a);
    r.add('b', b);
    b.slots[0]!.ready = false;
    a.frame(1, true);
    tick(1100);
    a.frame(2, false);
    assert.equal(a.plis, 2, 'asked again while the slot waits');
    b.slots[0]!.ready = true;
    a.frame(3, false);
    a.frame(4, true);
    assert.deepEqual(b.slots[0]!.sent, ['a4']);
  });

  test('a publisher that leaves frees its slots for the next one; the last one leaving empties them', () => {
    const { r } = router(8, 1);
    const a = new FakePeer('a', true, 0);
    const b = new FakePeer('b', false, 3);
    const c = new FakePeer('c', true, 0);
    r.add('a', a);
    r.add('b', b);
    r.add('c', c);
    assert.deepEqual(r.slotsOf('b').map((s) => s.participant), ['a'], 'only STROWGER_ROOMS_VIDEO_SLOTS slots are used');
    r.remove('a');
    assert.deepEqual(r.slotsOf('b').map((s) => s.participant), ['c']);
    assert.equal(b.slots[0]!.switches, 2, 'sequence numbers continue across the switch');
    assert.equal(a.handler, null, 'the camera handler is gone');
    c.frame(1, true);
    r.remove('c');
    assert.deepEqual(r.slotsOf('b').map((s) => s.participant), [null]);
    c.frame(2, true);
    assert.deepEqual(b.slots[0]!.sent, ['c1']);
    r.remove('b');
    assert.equal(b.slots[0]!.handler, null);
    assert.deepEqual([r.stats().publishers, r.stats().subscribers], [0, 0]);
    assert.equal(r.remove('b'), false);
  });

  test('the publisher cap refuses a camera; the participant still sees the others', () => {
    const { r } = router(1);
    r.add('a', new FakePeer('a', true, 1));
    assert.deepEqual(r.add('b', new FakePeer('b', true, 1)), { publishing: false });
    assert.deepEqual(r.slotsOf('b').map((s) => s.participant), ['a']);
    assert.deepEqual(r.slotsOf('a').map((s) => s.participant), [null]);
    assert.equal(r.stats().publishers_refused, 1);
  });
});
