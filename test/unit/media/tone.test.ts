import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CADENCES,
  CadencePlayer,
  DTMF_FREQUENCIES,
  ToneGenerator,
  dbm0ToPeak,
  dtmfTone,
  isDtmfDigit,
} from '../../../src/media/tone.ts';
import { InbandDtmfDetector } from '../../../src/media/dtmf/inband-detector.ts';
import { goertzelPower } from '../../../src/media/dtmf/goertzel.ts';

const rms = (a: Int16Array, from = 0, to = a.length): number => {
  let e = 0;
  for (let i = from; i < to; i++) e += a[i] * a[i];
  return Math.sqrt(e / (to - from));
};

describe('ToneGenerator', () => {
  test('DTMF table of ITU-T Q.23', () => {
    assert.deepEqual(DTMF_FREQUENCIES['1'], [697, 1209]);
    assert.deepEqual(DTMF_FREQUENCIES['0'], [941, 1336]);
    assert.deepEqual(DTMF_FREQUENCIES['#'], [941, 1477]);
    assert.deepEqual(DTMF_FREQUENCIES.D, [941, 1633]);
    assert.deepEqual(DTMF_FREQUENCIES['8'], [852, 1336]);
    assert.equal(isDtmfDigit('B'), true);
    assert.equal(isDtmfDigit('b'), false);
    assert.equal(isDtmfDigit('12'), false);
  });

  for (const rate of [8000, 16000, 48000]) {
    test(`1 kHz at 0 dBm0, ${rate} Hz: peak ${Math.round(dbm0ToPeak(0))}, energy at 1 kHz only`, () => {
      const pcm = new Int16Array(rate / 10);
      new ToneGenerator({ sampleRate: rate, frequencies: [1000], level: { dbm0: 0 } }).fill(pcm);
      const peak = dbm0ToPeak(0);
      assert.ok(Math.abs(rms(pcm) - peak / Math.SQRT2) < 2, `rms ${rms(pcm)}`);
      assert.ok(goertzelPower(pcm, 1000, rate) > 0.99 * (peak * peak) / 2);
      assert.ok(goertzelPower(pcm, 1300, rate) < 1e-4 * (peak * peak) / 2);
    });
  }

  test('phase-continuous: 20 ms frames equal one long fill, sample for sample', () => {
    const a = new ToneGenerator({ sampleRate: 8000, frequencies: [697, 1209], level: { peak: 8000 } });
    const b = new ToneGenerator({ sampleRate: 8000, frequencies: [697, 1209], level: { peak: 8000 } });
    const whole = new Int16Array(8000);
    a.fill(whole);
    const frame = new Int16Array(160);
    for (let i = 0; i < 50; i++) {
      b.fill(frame);
      for (let k = 0; k < 160; k++) {
        assert.ok(Math.abs(frame[k] - whole[i * 160 + k]) <= 1, `frame ${i} sample ${k}`);
      }
    }
  });

  test('amplitude stays stable over 60 s of frames (phasor renormalised)', () => {
    const g = new ToneGenerator({ sampleRate: 48000, frequencies: [425], level: { peak: 10000 } });
    const frame = new Int16Array(960);
    for (let i = 0; i < 3000; i++) g.fill(frame);
    assert.ok(Math.abs(rms(frame) - 10000 / Math.SQRT2) < 5, `rms ${rms(frame)}`);
  });

  test('two tones sum without wrapping (saturation at full scale)', () => {
    const pcm = new Int16Array(800);
    new ToneGenerator({ sampleRate: 8000, frequencies: [500, 1000], level: { peak: 30000 } }).fill(pcm);
    assert.equal(Math.max(...pcm), 32767);
    assert.equal(Math.min(...pcm), -32768);
  });

  test('dtmfTone: Q.23 levels, high tone 2 dB above low', () => {
    const pcm = new Int16Array(800);
    dtmfTone('5', 8000).fill(pcm);
    const lo = goertzelPower(pcm, 770, 8000);
    const hi = goertzelPower(pcm, 1336, 8000);
    assert.ok(Math.abs(10 * Math.log10(hi / lo) - 2) < 0.2);
    const expected = dbm0ToPeak(-7) ** 2 / 2;
    assert.ok(Math.abs(lo - expected) / expected < 0.02);
  });

  test('bad arguments', () => {
    assert.throws(() => new ToneGenerator({ sampleRate: 8000, frequencies: [] }), RangeError);
    assert.throws(() => new ToneGenerator({ sampleRate: 8000, frequencies: [1, 2, 3] }), RangeError);
    assert.throws(() => new ToneGenerator({ sampleRate: 8000, frequencies: [4000] }), RangeError);
  });
});

describe('CadencePlayer', () => {
  test('ringback: 425 Hz for 1 s, silence for 4 s, then again', () => {
    const p = new CadencePlayer(CADENCES.ringback, 8000);
    assert.equal(p.loopSamples, 40000);
    const out = new Int16Array(8000 * 6);
    const frame = new Int16Array(160);
    for (let i = 0; i < out.length; i += 160) {
      p.fill(frame);
      out.set(frame, i);
    }
    assert.ok(goertzelPower(out, 425, 8000, 400, 7200) > 0.9 * dbm0ToPeak(-10) ** 2 / 2);
    assert.equal(rms(out, 8000, 40000), 0);
    assert.ok(rms(out, 40000 + 400, 48000 - 400) > 1000);
    // ramps: first sample 0, no click at the cut
    assert.equal(out[0], 0);
    assert.ok(Math.abs(out[7999]) < 200);
  });

  test('default music on hold: loops 8 s, stays below -10 dBm0, contains no DTMF pair', () => {
    const p = new CadencePlayer(CADENCES.musicOnHold, 8000);
    assert.equal(p.loopSamples, 64000);
    const out = new Int16Array(64000);
    p.fill(out);
    assert.ok(rms(out) > 500 && rms(out) < dbm0ToPeak(-10));
    const digits: string[] = [];
    const det = new InbandDtmfDetector({ sampleRate: 8000, onDigit: (d) => digits.push(d) });
    det.process(out);
    assert.deepEqual(digits, []);
  });
});
