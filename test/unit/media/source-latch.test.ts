import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SourceLatch } from '../../../src/media/source-latch.ts';

const SDP = '192.0.2.10';

function latch(): SourceLatch {
  const l = new SourceLatch(3000, 2000);
  l.reset(SDP, 4000);
  return l;
}

describe('SourceLatch (symmetric RTP, RFC 4961)', () => {
  test('step 1: the first packet latches, from wherever it comes (NAT)', () => {
    const l = latch();
    assert.equal(l.latched, false);
    assert.equal(l.accept('203.0.113.5', 61000, 0xaaaa, 100), true);
    assert.deepEqual([l.latched, l.address, l.port, l.ssrc], [true, '203.0.113.5', 61000, 0xaaaa]);
  });

  test('step 2: the latched source is accepted with any SSRC, at any time', () => {
    const l = latch();
    l.accept('203.0.113.5', 61000, 1, 0);
    assert.equal(l.accept('203.0.113.5', 61000, 2, 60_000), true);
    assert.equal(l.dropped, 0);
  });

  test('step 3: inside the window the same SSRC from a new port moves the latch', () => {
    const l = latch();
    l.accept('203.0.113.5', 61000, 7, 0);
    assert.equal(l.accept('203.0.113.5', 61002, 7, 2999), true);
    assert.deepEqual([l.address, l.port, l.moves], ['203.0.113.5', 61002, 1]);
  });

  test('step 3: inside the window the SDP address wins over a guessed first source', () => {
    const l = latch();
    l.accept('198.51.100.66', 5555, 0xbad, 0); // attacker raced the first packet
    assert.equal(l.accept(SDP, 4000, 0x600d, 10), true);
    assert.deepEqual([l.address, l.port], [SDP, 4000]);
  });

  test('step 3: inside the window another SSRC from another source is dropped', () => {
    const l = latch();
    l.accept('203.0.113.5', 61000, 7, 0);
    assert.equal(l.accept('198.51.100.66', 5555, 8, 100), false);
    assert.equal(l.dropped, 1);
    assert.equal(l.port, 61000);
  });

  test('step 4: after the window even the same SSRC from elsewhere is dropped while the source talks', () => {
    const l = latch();
    l.accept('203.0.113.5', 61000, 7, 0);
    l.accept('203.0.113.5', 61000, 7, 3500);
    assert.equal(l.accept('198.51.100.66', 5555, 7, 3600), false);
    assert.equal(l.accept(SDP, 4000, 7, 3700), false);
    assert.equal(l.dropped, 2);
  });

  test('step 4: after relatchAfterMs of silence a new source takes over and opens a new window', () => {
    const l = latch();
    l.accept('203.0.113.5', 61000, 7, 0);
    l.accept('203.0.113.5', 61000, 7, 4000);
    assert.equal(l.accept('198.51.100.9', 7000, 9, 5999), false);
    assert.equal(l.accept('198.51.100.9', 7000, 9, 6000), true);
    assert.deepEqual([l.address, l.port, l.ssrc], ['198.51.100.9', 7000, 9]);
    // New window: the new stream may move once more with its SSRC.
    assert.equal(l.accept('198.51.100.9', 7002, 9, 6100), true);
    assert.equal(l.port, 7002);
  });

  test('reset forgets the latch', () => {
    const l = latch();
    l.accept('203.0.113.5', 61000, 7, 0);
    l.reset('192.0.2.99', 8000);
    assert.deepEqual([l.latched, l.address, l.port], [false, '', 0]);
    assert.equal(l.accept('198.51.100.9', 7000, 1, 10), true);
  });

  test('exportState / importState: a latch continued elsewhere takes the same decisions (native relay hand-over)', () => {
    const l = latch();
    l.accept('203.0.113.5', 61000, 0xaaaa, 100);
    l.accept('203.0.113.9', 62000, 0xbbbb, 200); // dropped: foreign, inside the window
    const copy = new SourceLatch(3000, 2000);
    copy.importState(l.exportState());
    assert.deepEqual(copy.exportState(), l.exportState());
    for (const [address, port, ssrc, now] of [['203.0.113.6', 61001, 0xaaaa, 300], [SDP, 4000, 1, 400], ['198.51.100.1', 1, 2, 5000], ['198.51.100.1', 1, 2, 9000]] as const) {
      assert.equal(copy.accept(address, port, ssrc, now), l.accept(address, port, ssrc, now));
    }
    assert.deepEqual(copy.exportState(), l.exportState());
  });
});
