/**
 * NativeRelay's bookkeeping with a fake addon: which pairs it hands over, when it takes them
 * back, and that an unrelated graph change does not churn attached pairs.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NativeRelay, eligiblePeer } from '../../../src/media/native-relay.ts';
import type { NativeRelayAddon } from '../../../src/media/native-relay.ts';
import { RelayLeg, bridgeLegs } from '../../../src/media/relay-leg.ts';
import type { LegCodec } from '../../../src/media/leg-codec.ts';

const pcmu = (pt = 0): LegCodec => ({ pt, name: 'PCMU', clockRate: 8000, channels: 1, fmtp: null, telephoneEventPt: null, ptime: 20 });
const socket = { send: () => {} };

function leg(id: number): RelayLeg {
  const l = new RelayLeg(id, 20000 + 2 * id, socket, socket, 3000, 2000);
  l.setRemote({ address: '192.0.2.1', rtpPort: 4000 + id, rtcpPort: 4001 + id, rtcpMux: false }, 0);
  l.codec = pcmu();
  return l;
}

function fakeAddon() {
  const calls: string[] = [];
  let next = 1;
  const addon: NativeRelayAddon = {
    attach: () => { calls.push('attach'); return next++; },
    detach: (h) => { calls.push(`detach ${h}`); return ['', '', '', '']; },
    peek: () => ['', '', '', ''],
    rtcp: () => {},
    events: () => undefined,
    monotonicMs: () => 0,
    threadId: () => -1,
    layout: () => ({ stateSize: 35, counters: 24, addresses: 5 }),
    dupFd: () => -9,
  };
  return { addon, calls };
}

const handle = { fd: 3, recvStop: () => 0, recvStart: () => 0 };

describe('NativeRelay (fake addon)', () => {
  test('a plain bridged pair is attached once; reconciling again without a change keeps it', () => {
    const { addon, calls } = fakeAddon();
    const relay = new NativeRelay(addon, () => ({ rtp: handle, rtcp: handle }));
    const [a, b] = [leg(1), leg(2)];
    bridgeLegs(a, b, 0);
    assert.equal(eligiblePeer(a), b);
    relay.reconcile([a, b]);
    assert.deepEqual(calls, [], 'no RTP yet: nothing to hand over (a call being set up changes its legs again)');
    a.rtp.packetsIn = 1;
    relay.reconcile([a, b]);
    relay.reconcile([b, a]);
    relay.reconcile([a, b]);
    assert.deepEqual(calls, ['attach']);
    assert.equal(relay.pairs, 1);
    relay.detachAll();
  });

  test('a changed PT rewrite or remote re-attaches; an ineligible pair is taken back', () => {
    const { addon, calls } = fakeAddon();
    const relay = new NativeRelay(addon, () => ({ rtp: handle, rtcp: handle }));
    const [a, b] = [leg(1), leg(2)];
    bridgeLegs(a, b, 0);
    b.rtp.packetsIn = 1;
    relay.reconcile([a, b]);
    b.codec = { ...pcmu(), name: 'pcmu', pt: 0, telephoneEventPt: null };
    relay.reconcile([a, b]);
    assert.deepEqual(calls, ['attach'], 'same parameters');
    b.remote = { ...b.remote!, address: '192.0.2.9' };
    relay.reconcile([a, b]);
    assert.deepEqual(calls, ['attach', 'detach 1', 'attach']);
    b.setDirection('sendonly', 0);
    relay.reconcile([a, b]);
    assert.deepEqual(calls, ['attach', 'detach 1', 'attach', 'detach 2']);
    assert.equal(relay.pairs, 0);
  });

  test('no handles (Node hides them), no attach', () => {
    const { addon, calls } = fakeAddon();
    const relay = new NativeRelay(addon, () => null);
    const [a, b] = [leg(1), leg(2)];
    bridgeLegs(a, b, 0);
    relay.reconcile([a, b]);
    assert.deepEqual(calls, []);
  });
});
