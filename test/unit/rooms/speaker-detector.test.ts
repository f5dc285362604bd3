import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpeakerDetector } from '../../../src/rooms/speaker-detector.ts';

const m = (o: Record<string, number>) => new Map(Object.entries(o));

test('the loudest above the threshold speaks; a challenger needs the hysteresis margin', () => {
  const d = new SpeakerDetector({ thresholdDb: -50, hysteresisDb: 6, holdReports: 2 });
  assert.equal(d.update(m({ a: -70, b: -60 })), false, 'nobody above the threshold');
  assert.equal(d.speaker, null);
  assert.equal(d.update(m({ a: -20, b: -30 })), true);
  assert.equal(d.speaker, 'a');
  assert.equal(d.update(m({ a: -20, b: -16 })), false, '4 dB louder is not enough');
  assert.equal(d.update(m({ a: -20, b: -14 })), true, '6 dB louder takes over');
  assert.equal(d.speaker, 'b');
  assert.equal(d.update(m({ a: -20, b: -60 })), true, 'the speaker went quiet: the other one at once');
  assert.equal(d.speaker, 'a');
  assert.equal(d.update(m({ b: -30 })), true, 'the speaker left or was muted');
  assert.equal(d.speaker, 'b');
});

test('silence clears the speaker after the hold', () => {
  const d = new SpeakerDetector({ holdReports: 3 });
  d.update(m({ a: -20 }));
  assert.equal(d.update(m({ a: -90 })), false);
  assert.equal(d.update(m({ a: -90 })), false);
  assert.equal(d.update(m({ a: -90 })), true);
  assert.equal(d.speaker, null);
});
