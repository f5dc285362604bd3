import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { G722 } from '../../../../src/media/codec/g722.ts';
import { bestDelay, bytes, dominantFrequency, ffmpeg, s16, sine, snrDb, sweep, toneAmplitude } from './audio-helpers.ts';

/** 1 s of a 1 kHz sine (plus a little noise), then 1 s of a 100 Hz → 7 kHz sweep, at 16 kHz. */
const SIGNAL = new Int16Array(32000);
SIGNAL.set(sine(16000, 16000, 1000, 12000, 500, 5));
SIGNAL.set(sweep(16000, 16000, 100, 7000, 12000), 16000);

function encodeAll(pcm: Int16Array): Buffer {
  const enc = G722.createEncoder();
  const out = Buffer.alloc(pcm.length / 2);
  for (let i = 0; i < pcm.length; i += 320) enc.encode(pcm.subarray(i, i + 320), out.subarray(i / 2, i / 2 + 160));
  return out;
}

function decodeAll(coded: Uint8Array): Int16Array {
  const dec = G722.createDecoder();
  const out = new Int16Array(coded.length * 2);
  const frame = new Int16Array(1920);
  for (let i = 0; i < coded.length; i += 160) {
    const n = dec.decode(coded.subarray(i, i + 160), frame);
    assert.equal(n, 320);
    out.set(frame.subarray(0, n), i * 2);
  }
  return out;
}

const ffEncode = (pcm: Int16Array): Buffer => ffmpeg(bytes(pcm), ['-f', 's16le', '-ar', '16000', '-ac', '1', '-i', 'IN', '-c:a', 'g722', '-f', 'g722', 'OUT']);
const ffDecode = (coded: Uint8Array): Int16Array => s16(ffmpeg(coded, ['-f', 'g722', '-i', 'IN', '-f', 's16le', '-ar', '16000', '-ac', '1', 'OUT']));

describe('G.722 64 kbit/s (ITU-T G.722, RFC 3551 §4.5.2)', () => {
  test('info: G722/8000, static PT 9, 16 kHz PCM; 320 samples ↔ 160 octets', () => {
    assert.deepEqual(G722.info, { name: 'G722', clockRate: 8000, channels: 1, staticPt: 9, sampleRate: 16000 });
    assert.equal(G722.createEncoder().encode(new Int16Array(320), Buffer.alloc(200)), 160);
  });

  test('encodes byte-exact with ffmpeg adpcm_g722', () => {
    const ours = encodeAll(SIGNAL);
    const ref = ffEncode(SIGNAL);
    assert.equal(ref.length, ours.length);
    let same = 0;
    for (let i = 0; i < ours.length; i++) if (ours[i] === ref[i]) same++;
    assert.equal(same, ours.length, `${same}/${ours.length} octets equal`);
  });

  test("decodes ffmpeg's bitstream sample-exact with ffmpeg's decoder", () => {
    const coded = ffEncode(SIGNAL);
    const ours = decodeAll(coded);
    const ref = ffDecode(coded);
    assert.equal(ref.length, ours.length);
    assert.deepEqual(ours, ref);
  });

  test('round trip: SNR > 30 dB on the tone, same dominant frequency, sweep keeps its energy', () => {
    const out = decodeAll(encodeAll(SIGNAL));
    const delay = bestDelay(SIGNAL, out, 40);
    assert.ok(delay > 0, `QMF delay ${delay}`);
    const snr = snrDb(SIGNAL, out, delay, 1600, 15000);
    assert.ok(snr > 30, `tone SNR ${snr.toFixed(1)} dB`);
    assert.equal(dominantFrequency(out.subarray(1600, 16000), 16000, 500, 1500, 10), 1000);
    assert.ok(Math.abs(toneAmplitude(out, 16000, 1000, 1600, 16000) - 12000) < 600);
    const sweepSnr = snrDb(SIGNAL, out, delay, 16000, 31900);
    assert.ok(sweepSnr > 20, `sweep SNR ${sweepSnr.toFixed(1)} dB`);
  });

  test('encoder and decoder are stateful: frame-by-frame equals one call', () => {
    const one = Buffer.alloc(16000);
    G722.createEncoder().encode(SIGNAL, one);
    assert.ok(one.equals(encodeAll(SIGNAL)));
  });
});
