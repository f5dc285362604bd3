/** When a WebRTC peer counts as gone (`peer-liveness.ts`), on an injected clock. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PeerLiveness, type PeerGoneReason } from '../../../../src/media/webrtc/peer-liveness.ts';

function harness(): { l: PeerLiveness; at: (ms: number) => void; gone: PeerGoneReason[] } {
  let now = 0;
  const gone: PeerGoneReason[] = [];
  // tickMs huge: the test drives `check` by moving the clock and calling the private tick.
  const l = new PeerLiveness((r) => gone.push(r), { now: () => now, tickMs: 3_600_000 });
  const at = (ms: number) => { now = ms; (l as unknown as { check(): void }).check(); };
  return { l, at, gone };
}

describe('PeerLiveness', () => {
  test('not connected 10 s after signalling: connect-timeout', () => {
    const { l, at, gone } = harness();
    at(30_000); // ringing before the descriptions are complete does not count
    assert.deepEqual(gone, []);
    l.signalled();
    at(39_999);
    assert.deepEqual(gone, []);
    at(40_000);
    assert.deepEqual(gone, ['connect-timeout']);
    l.stop();
  });

  test('connected, then silent for 8 s: no-media; anything heard resets it', () => {
    const { l, at, gone } = harness();
    l.signalled();
    l.connectionState('connected');
    at(7_000);
    l.heard();
    at(14_000);
    assert.deepEqual(gone, []);
    at(15_000);
    assert.deepEqual(gone, ['no-media']);
    at(30_000);
    assert.deepEqual(gone, ['no-media'], 'reported once');
  });

  test('ICE disconnected for 4 s ends it; a recovery in time does not', () => {
    const { l, at, gone } = harness();
    l.connectionState('connected');
    l.iceState('disconnected');
    l.heard();
    at(3_000);
    l.iceState('connected');
    l.heard();
    at(5_000);
    assert.deepEqual(gone, []);
    l.iceState('disconnected');
    at(9_000);
    assert.deepEqual(gone, ['ice-disconnected']);
  });

  test('ICE failed, DTLS failed before connecting, peer closed', () => {
    const a = harness();
    a.l.iceState('failed');
    assert.deepEqual(a.gone, ['ice-failed']);
    const b = harness();
    b.l.connectionState('failed');
    assert.deepEqual(b.gone, ['dtls-failed']);
    const c = harness();
    c.l.connectionState('connected');
    c.l.connectionState('closed');
    assert.deepEqual(c.gone, ['peer-closed']);
  });
});
