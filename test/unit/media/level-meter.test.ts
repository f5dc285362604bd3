import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LevelMeter, LEVEL_FLOOR_DB } from '../../../src/media/level-meter.ts';

const sine = (peak: number) => Int16Array.from({ length: 160 }, (_, i) => Math.round(peak * 32767 * Math.sin((2 * Math.PI * 1000 * i) / 8000)));

test('RMS dBFS of a steady tone, fast attack, slower release, floor for silence', () => {
  const meter = new LevelMeter();
  assert.equal(meter.db, LEVEL_FLOOR_DB);
  const frame = sine(0.5); // -6 dBFS peak, -9 dBFS RMS
  meter.frame(frame);
  meter.frame(frame);
  assert.ok(meter.db > -11, `after two frames ${meter.db}`);
  for (let i = 0; i < 20; i++) meter.frame(frame);
  assert.ok(Math.abs(meter.db - -9.03) < 0.2, `steady ${meter.db}`);
  meter.frame(null);
  assert.ok(meter.db > -10, `one silent frame barely lowers it: ${meter.db}`);
  for (let i = 0; i < 200; i++) meter.frame(null);
  assert.equal(meter.db, LEVEL_FLOOR_DB);
});
