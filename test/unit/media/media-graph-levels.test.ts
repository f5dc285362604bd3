/**
 * Levels of metered endpoints on the decode path (`MediaGraph.setMetered`), with fake codecs
 * and a hand-driven clock: a constant source reads its RMS in dBFS; an endpoint not decoded
 * (nobody hears it) or removed reads nothing stale; unmetered endpoints are not reported.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MediaGraph, type SourceEndpoint } from '../../../src/media/media-graph.ts';
import { LEVEL_FLOOR_DB } from '../../../src/media/level-meter.ts';
import { fakeCodecs, fakeResampler } from './fake-codecs.ts';
import { fakeLegCodec, makeLeg, manualClock } from './graph-fakes.ts';

const constant = (value: number): SourceEndpoint => ({
  rate: 8000, frame: new Int16Array(160), advance() { this.frame.fill(value); return true; }, close() {},
});

test('a metered source reads its RMS while decoded, the floor when nobody hears it; removal forgets it', () => {
  const g = new MediaGraph({ codecs: fakeCodecs, resampler: fakeResampler, clock: manualClock });
  const listener = makeLeg(g, fakeLegCodec('FAKE8', 96));
  g.addSource(50, constant(16384)); // half of full scale: -6.02 dBFS
  g.addSource(51, constant(1000));
  g.connect(listener.leg.id, [50, 51]);
  g.setMetered(50, true);
  assert.equal(g.meteredCount, 1);
  for (let i = 0; i < 20; i++) g.tick();
  const [[id, db]] = g.levels();
  assert.equal(id, 50);
  assert.ok(Math.abs(db - -6.0) < 0.2, `level ${db}`);
  g.connect(listener.leg.id, [51]);
  assert.deepEqual(g.levels(), [[50, LEVEL_FLOOR_DB]], 'out of every mix: silence, not the last level');
  assert.throws(() => g.setMetered(77, true), 'unknown endpoint');
  g.remove(50);
  assert.deepEqual(g.levels(), []);
  assert.equal(g.meteredCount, 0);
});
