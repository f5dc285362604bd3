import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MediaClock } from '../../../src/media/media-clock.ts';
import type { ClockDriver } from '../../../src/media/media-clock.ts';

/** A driver whose time moves only when the test says so. */
class FakeDriver implements ClockDriver {
  t = 1000;
  pending: { at: number; fn: () => void } | null = null;
  now(): number {
    return this.t;
  }
  schedule(fn: () => void, ms: number): () => void {
    const entry = { at: this.t + ms, fn };
    this.pending = entry;
    return () => {
      if (this.pending === entry) this.pending = null;
    };
  }
  /** Advances to `t` and fires the timer if due (a late timer fires at `t`, not at its due time). */
  runTo(t: number): void {
    this.t = t;
    const p = this.pending;
    if (p !== null && p.at <= t) {
      this.pending = null;
      p.fn();
    }
  }
}

describe('MediaClock', () => {
  test('ticks every 20 ms against the monotonic clock: timer lateness does not accumulate', () => {
    const d = new FakeDriver();
    let ticks = 0;
    const clock = new MediaClock(() => ticks++, d);
    clock.start();
    // Each timer fires 3 ms late; the next one is scheduled for the original grid.
    for (let i = 1; i <= 50; i++) d.runTo(1000 + i * 20 + 3);
    assert.equal(ticks, 50);
    assert.equal(d.pending!.at, 1000 + 51 * 20);
    assert.deepEqual([clock.lateTicks, clock.skippedTicks], [0, 0]);
  });

  test('after a stall it catches up at most maxCatchUp frames and counts late and skipped ticks', () => {
    const d = new FakeDriver();
    let ticks = 0;
    const clock = new MediaClock(() => ticks++, d, 3);
    clock.start();
    d.runTo(1020);
    assert.equal(ticks, 1);
    d.runTo(1040 + 200); // 200 ms stall: 11 frames due
    assert.equal(ticks, 1 + 3);
    assert.equal(clock.skippedTicks, 8);
    assert.equal(clock.lateTicks, 2, 'the two catch-up frames before the current one are late');
    d.runTo(1260);
    assert.equal(ticks, 5);
  });

  test('with 4 phases it ticks every 5 ms, phases 0-3 in turn, and skips in phase ticks after a stall', () => {
    const d = new FakeDriver();
    const phases: number[] = [];
    const clock = new MediaClock((p) => phases.push(p), d, 3, 10, 4);
    clock.start();
    for (let i = 1; i <= 8; i++) d.runTo(1000 + i * 5);
    assert.deepEqual(phases, [0, 1, 2, 3, 0, 1, 2, 3]);
    assert.equal(d.pending!.at, 1045);
    phases.length = 0;
    d.runTo(1045 + 100); // 100 ms stall: 21 phase ticks due, 3 frames (12) run, the oldest 9 skipped
    assert.equal(clock.skippedTicks, 9);
    assert.equal(phases.length, 12);
    assert.deepEqual(phases.slice(0, 4), [1, 2, 3, 0], 'phases stay in turn across the skip');
    assert.equal(clock.lateTicks, 9, 'the ticks more than 10 ms behind (all but the last 3)');
  });

  test('stop cancels the timer', () => {
    const d = new FakeDriver();
    const clock = new MediaClock(() => {}, d);
    clock.start();
    clock.stop();
    assert.equal(d.pending, null);
    assert.equal(clock.running, false);
  });
});
