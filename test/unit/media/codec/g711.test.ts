import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ALAW_TO_LINEAR, LINEAR_TO_ALAW, LINEAR_TO_ULAW, PCMA, PCMU, ULAW_TO_LINEAR } from '../../../../src/media/codec/g711.ts';
import { bytes, ffmpeg, s16, sine, toneAmplitude } from './audio-helpers.ts';

const ulaw = (s: number): number => LINEAR_TO_ULAW[(s + 32768) >> 2]!;
const alaw = (s: number): number => LINEAR_TO_ALAW[(s + 32768) >> 2]!;

/** Two seconds of a 440 Hz sine plus noise, loud enough to reach every segment. */
const SIGNAL = sine(16000, 8000, 440, 20000, 6000, 7);

function encodeAll(codec: typeof PCMU, pcm: Int16Array): Buffer {
  const enc = codec.createEncoder();
  const out = Buffer.alloc(pcm.length);
  for (let i = 0; i < pcm.length; i += 160) enc.encode(pcm.subarray(i, i + 160), out.subarray(i, i + 160));
  return out;
}

describe('G.711 tables (ITU-T G.711 Tables 1, 2)', () => {
  test('known codes: µ-law 0 → 0xFF, A-law 0 → 0xD5, extremes, sign', () => {
    assert.equal(ulaw(0), 0xff);
    assert.equal(alaw(0), 0xd5);
    assert.equal(ulaw(32767), 0x80);
    assert.equal(ulaw(-32768), 0x00);
    assert.equal(alaw(32767), 0xaa);
    assert.equal(alaw(-32768), 0x2a);
    assert.equal(ULAW_TO_LINEAR[0xff], 0);
    assert.equal(ULAW_TO_LINEAR[0x7f], 0);
    assert.equal(ULAW_TO_LINEAR[0x80], 32124);
    assert.equal(ULAW_TO_LINEAR[0x00], -32124);
    assert.equal(ALAW_TO_LINEAR[0xd5], 8);
    assert.equal(ALAW_TO_LINEAR[0x55], -8);
    assert.equal(ALAW_TO_LINEAR[0xaa], 32256);
    assert.equal(ALAW_TO_LINEAR[0x2a], -32256);
  });

  test('every code decodes and re-encodes to itself (except µ-law -0 0x7F → +0 0xFF)', () => {
    for (let c = 0; c < 256; c++) {
      if (c !== 0x7f) assert.equal(ulaw(ULAW_TO_LINEAR[c]!), c, `µ-law ${c.toString(16)}`);
      assert.equal(alaw(ALAW_TO_LINEAR[c]!), c, `A-law ${c.toString(16)}`);
    }
  });

  test('round trip error is within half a quantisation step of the segment', () => {
    for (let s = -32768; s < 32768; s += 7) {
      const u = ULAW_TO_LINEAR[ulaw(s)]!;
      const a = ALAW_TO_LINEAR[alaw(s)]!;
      // Step is 2^(seg+3) for µ-law (≤ 1024 at the top), half-step + 4 for the 14-bit index.
      const mag = Math.abs(s);
      assert.ok(Math.abs(u - s) <= Math.max(8, mag / 16) + 4 || mag > 32124, `µ-law ${s} → ${u}`);
      assert.ok(Math.abs(a - s) <= Math.max(16, mag / 16) + 4 || mag > 32256, `A-law ${s} → ${a}`);
    }
  });
});

describe('PCMU / PCMA against ffmpeg', () => {
  for (const [codec, fmt] of [[PCMU, 'mulaw'], [PCMA, 'alaw']] as const) {
    test(`${codec.info.name} encodes byte-exact with ffmpeg -f ${fmt}`, () => {
      const ref = ffmpeg(bytes(SIGNAL), ['-f', 's16le', '-ar', '8000', '-ac', '1', '-i', 'IN', '-f', fmt, 'OUT']);
      const ours = encodeAll(codec, SIGNAL);
      assert.equal(ref.length, ours.length);
      assert.ok(ours.equals(ref), 'payload bytes differ from ffmpeg');
    });

    test(`${codec.info.name} decodes ffmpeg's bytes to ffmpeg's samples`, () => {
      const coded = encodeAll(codec, SIGNAL);
      const ref = s16(ffmpeg(coded, ['-f', fmt, '-ar', '8000', '-ac', '1', '-i', 'IN', '-f', 's16le', 'OUT']));
      const dec = codec.createDecoder();
      const out = new Int16Array(SIGNAL.length);
      const frame = new Int16Array(960);
      for (let i = 0; i < coded.length; i += 160) {
        assert.equal(dec.decode(coded.subarray(i, i + 160), frame), 160);
        out.set(frame.subarray(0, 160), i);
      }
      assert.deepEqual(out, ref);
      assert.ok(Math.abs(toneAmplitude(out, 8000, 440) - 20000) < 400);
    });
  }

  test('conceal repeats the last frame, fading to silence within 60 ms', () => {
    const dec = PCMU.createDecoder();
    const pcm = sine(160, 8000, 1000, 10000);
    const payload = Buffer.alloc(160);
    PCMU.createEncoder().encode(pcm, payload);
    const out = new Int16Array(960);
    dec.decode(payload, out);
    const first = out.slice(0, 160);
    assert.equal(dec.conceal(out, 160), 160);
    assert.equal(out[0], first[0]);
    assert.ok(toneAmplitude(out.subarray(0, 160), 8000, 1000) > 5000);
    dec.conceal(out, 160);
    dec.conceal(out, 160);
    dec.conceal(out, 160);
    assert.ok(out.subarray(0, 160).every((v) => v === 0));
  });
});
