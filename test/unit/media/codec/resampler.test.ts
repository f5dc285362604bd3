import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Resampler } from '../../../../src/media/codec/resampler.ts';
import { MediaError } from '../../../../src/media/errors.ts';
import { dominantFrequency, sine, toneAmplitude } from './audio-helpers.ts';

const PAIRS: [number, number][] = [
  [8000, 16000], [16000, 8000], [16000, 48000], [48000, 16000], [8000, 48000], [48000, 8000],
];

/** Converts `pcm` in 20 ms frames, the way a leg does. */
function framewise(r: Resampler, pcm: Int16Array): Int16Array {
  const frame = r.inRate / 50;
  const out = new Int16Array(r.maxOutput(pcm.length));
  const tmp = new Int16Array(r.maxOutput(frame));
  let w = 0;
  for (let i = 0; i < pcm.length; i += frame) {
    const n = r.process(pcm.subarray(i, i + frame), tmp);
    out.set(tmp.subarray(0, n), w);
    w += n;
  }
  return out.subarray(0, w);
}

describe('Resampler', () => {
  for (const [from, to] of PAIRS) {
    test(`${from} -> ${to}: a 1 kHz tone keeps its frequency and level, 20 ms frames give exact lengths`, () => {
      const pcm = sine(from / 2, from, 1000, 10000); // 0.5 s
      const out = framewise(new Resampler(from, to), pcm);
      assert.equal(out.length, to / 2);
      // Skip the filter's start-up (≤ 10 ms); measure the steady part over whole periods.
      const skip = to / 50;
      assert.equal(dominantFrequency(out.subarray(skip), to, 500, 1500, 10), 1000);
      const amp = toneAmplitude(out, to, 1000, skip, skip + to / 5);
      assert.ok(Math.abs(20 * Math.log10(amp / 10000)) < 0.1, `level ${amp}`);
    });

    test(`${from} -> ${to}: frame-by-frame output equals one-shot output`, () => {
      const pcm = sine(from / 5, from, 700, 8000, 3000, 3);
      const oneShot = new Int16Array(new Resampler(from, to).maxOutput(pcm.length));
      const n = new Resampler(from, to).process(pcm, oneShot);
      const frames = framewise(new Resampler(from, to), pcm);
      assert.equal(frames.length, n);
      assert.deepEqual(frames, oneShot.subarray(0, n));
      // Odd-sized pieces too (not multiples of the factor).
      const r = new Resampler(from, to);
      const odd = new Int16Array(r.maxOutput(pcm.length));
      let w = 0;
      const tmp = new Int16Array(r.maxOutput(1000));
      for (let i = 0, k = 0; i < pcm.length; k++) {
        const len = Math.min([7, 131, 1, 333][k % 4]!, pcm.length - i);
        const m = r.process(pcm.subarray(i, i + len), tmp);
        odd.set(tmp.subarray(0, m), w);
        w += m;
        i += len;
      }
      assert.deepEqual(odd.subarray(0, w), oneShot.subarray(0, n));
    });
  }

  test('16000 -> 8000 attenuates a 6 kHz tone by more than 40 dB (no alias at 2 kHz)', () => {
    const pcm = sine(16000, 16000, 6000, 20000);
    const out = framewise(new Resampler(16000, 8000), pcm);
    const level = Math.max(toneAmplitude(out, 8000, 2000, 400), toneAmplitude(out, 8000, 6000, 400));
    assert.ok(20 * Math.log10(level / 20000) < -40, `6 kHz leaked at ${(20 * Math.log10(level / 20000)).toFixed(1)} dB`);
  });

  test('48000 -> 8000 rejects 5-20 kHz, 8000 -> 48000 leaves no image of 1 kHz at 7 kHz', () => {
    for (const f of [5000, 9000, 13000, 20000]) {
      const out = framewise(new Resampler(48000, 8000), sine(48000, 48000, f, 20000));
      const alias = Math.abs(((f + 4000) % 8000) - 4000);
      assert.ok(toneAmplitude(out, 8000, alias, 400) < 200, `${f} Hz aliased`);
    }
    const up = framewise(new Resampler(8000, 48000), sine(8000, 8000, 1000, 20000));
    assert.ok(toneAmplitude(up, 48000, 7000, 2400) < 20);
    assert.ok(toneAmplitude(up, 48000, 9000, 2400) < 20);
  });

  test('refuses other rates and short output buffers', () => {
    assert.throws(() => new Resampler(8000, 44100), MediaError);
    const r = new Resampler(8000, 48000);
    assert.throws(() => r.process(new Int16Array(160), new Int16Array(959)), MediaError);
  });
});
