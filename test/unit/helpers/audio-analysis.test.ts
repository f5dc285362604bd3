/**
 * The audio checks that media tests rely on: if these were wrong, a tone test could pass on
 * silence or noise. Cross-checked against sox (an independent WAV writer and synthesiser)
 * and the G.711 reference values.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  alawToLinear, dbfs, decodeAlaw, decodeUlaw, dominantFrequency, goertzelPower, makeTone, makeToneWav, readWavPcm, rms, ulawToLinear, writeWavPcm,
} from '../../helpers/audio-analysis.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'audio-analysis-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Deterministic white noise (xorshift), amplitude `amp` of full scale. */
function noise(n: number, amp: number, seed = 1): Int16Array {
  const out = new Int16Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    out[i] = Math.round(((x >>> 0) / 0xffffffff - 0.5) * 2 * amp * 32767);
  }
  return out;
}

function mix(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts[0]!.length);
  for (const p of parts) for (let i = 0; i < out.length; i++) out[i] = Math.max(-32768, Math.min(32767, out[i]! + p[i]!));
  return out;
}

describe('goertzelPower', () => {
  test('a sine of amplitude A gives A²/2 at its frequency and almost nothing elsewhere', () => {
    const tone = makeTone({ freq: 1000, seconds: 1, rate: 8000, amplitude: 0.5 });
    const a = 0.5 * 32767;
    const p = goertzelPower(tone, 8000, 1000);
    assert.ok(Math.abs(p / (a * a / 2) - 1) < 0.01, `power ${p}`);
    assert.ok(Math.abs(p / rms(tone) ** 2 - 1) < 0.01);
    assert.ok(goertzelPower(tone, 8000, 700) < p * 1e-4);
  });

  test('the Hann window keeps the A²/2 scale', () => {
    const tone = makeTone({ freq: 697, seconds: 0.5, rate: 8000, amplitude: 0.25 });
    const a = 0.25 * 32767;
    const p = goertzelPower(tone, 8000, 697, { window: 'hann' });
    assert.ok(Math.abs(p / (a * a / 2) - 1) < 0.02, `power ${p}`);
  });

  test('an empty window is 0', () => {
    assert.equal(goertzelPower(new Int16Array(10), 8000, 1000, { from: 10 }), 0);
  });
});

describe('dominantFrequency', () => {
  const cases: Array<[string, number, number]> = [['1000 Hz at 8 kHz', 1000, 8000], ['700 Hz at 8 kHz', 700, 8000], ['1234.5 Hz at 16 kHz', 1234.5, 16000], ['440 Hz at 48 kHz', 440, 48000]];
  for (const [name, freq, rate] of cases) {
    test(`${name}, clean: within 0.5 Hz`, () => {
      const f = dominantFrequency(makeTone({ freq, seconds: 1, rate }), rate, { min: 100, max: 3400 });
      assert.ok(Math.abs(f - freq) < 0.5, `got ${f}`);
    });
  }

  test('a tone 14 dB over white noise and a weaker second tone: within 2 Hz of the strong one', () => {
    const rate = 8000;
    const s = mix(makeTone({ freq: 1000, seconds: 2, rate, amplitude: 0.4 }), makeTone({ freq: 1900, seconds: 2, rate, amplitude: 0.1 }), noise(2 * rate, 0.2));
    const f = dominantFrequency(s, rate, { min: 300, max: 3400 });
    assert.ok(Math.abs(f - 1000) < 2, `got ${f}`);
  });

  test('respects the range: the strongest tone outside it is ignored', () => {
    const rate = 8000;
    const s = mix(makeTone({ freq: 300, seconds: 1, rate, amplitude: 0.5 }), makeTone({ freq: 2000, seconds: 1, rate, amplitude: 0.05 }));
    assert.ok(Math.abs(dominantFrequency(s, rate, { min: 1000, max: 3000 }) - 2000) < 1);
  });

  test('too short to analyse: NaN', () => {
    assert.ok(Number.isNaN(dominantFrequency(new Int16Array(100), 8000, { min: 300, max: 3400 })));
  });
});

describe('levels', () => {
  test('rms and dbfs of a sine, a square and silence', () => {
    const sine = makeTone({ freq: 1000, seconds: 1, rate: 8000, amplitude: 1 });
    assert.ok(Math.abs(dbfs(sine) - -3.01) < 0.05, `sine ${dbfs(sine)}`);
    const square = new Int16Array(800).map((_, i) => (i % 8 < 4 ? 16384 : -16384));
    assert.equal(rms(square), 16384);
    assert.ok(Math.abs(dbfs(square) - -6.02) < 0.01);
    assert.equal(dbfs(new Int16Array(80)), -Infinity);
    assert.equal(rms(new Int16Array(0)), 0);
  });
});

describe('WAV files', () => {
  test('makeToneWav → readWavPcm round trip', () => {
    const p = path.join(dir, 'tone.wav');
    makeToneWav(p, { freq: 1000, seconds: 0.5, rate: 16000, amplitude: 0.3 });
    const wav = readWavPcm(p);
    assert.deepEqual([wav.sampleRate, wav.channels, wav.samples.length], [16000, 1, 8000]);
    assert.deepEqual(wav.samples, makeTone({ freq: 1000, seconds: 0.5, rate: 16000, amplitude: 0.3 }));
  });

  test("sox's stereo 16-bit WAV (extra chunks, another writer) reads as mono at the right pitch", () => {
    const p = path.join(dir, 'sox.wav');
    execFileSync('sox', ['-n', '-r', '16000', '-c', '2', '-b', '16', p, 'synth', '1', 'sine', '440', 'vol', '0.5']);
    const wav = readWavPcm(p);
    assert.deepEqual([wav.sampleRate, wav.channels, wav.samples.length], [16000, 2, 16000]);
    assert.ok(Math.abs(dominantFrequency(wav.samples, 16000, { min: 100, max: 3400 }) - 440) < 0.5);
  });

  test('stereo is averaged: opposite channels cancel', () => {
    const p = path.join(dir, 'stereo.wav');
    const hdr = Buffer.alloc(44);
    hdr.write('RIFF', 0); hdr.writeUInt32LE(36 + 8, 4); hdr.write('WAVEfmt ', 8); hdr.writeUInt32LE(16, 16);
    hdr.writeUInt16LE(1, 20); hdr.writeUInt16LE(2, 22); hdr.writeUInt32LE(8000, 24); hdr.writeUInt32LE(32000, 28);
    hdr.writeUInt16LE(4, 32); hdr.writeUInt16LE(16, 34); hdr.write('data', 36); hdr.writeUInt32LE(8, 40);
    const data = Buffer.alloc(8);
    data.writeInt16LE(1000, 0); data.writeInt16LE(-1000, 2); data.writeInt16LE(300, 4); data.writeInt16LE(100, 6);
    writeFileSync(p, Buffer.concat([hdr, data]));
    assert.deepEqual(Array.from(readWavPcm(p).samples), [0, 200]);
  });

  const bad: Array<[string, (b: Buffer) => Buffer, RegExp]> = [
    ['not RIFF', (b) => { b.write('RIFX', 0); return b; }, /not a RIFF\/WAVE/],
    ['8-bit samples', (b) => { b.writeUInt16LE(8, 34); return b; }, /8-bit/],
    ['IEEE float', (b) => { b.writeUInt16LE(3, 20); return b; }, /format 3/],
    ['six channels', (b) => { b.writeUInt16LE(6, 22); return b; }, /6 channels/],
    ['data size past the end (unfinalised header)', (b) => { b.writeUInt32LE(1_000_000, 40); return b; }, /runs past the end/],
    ['no data chunk', (b) => b.subarray(0, 36), /no data chunk/],
  ];
  for (const [name, corrupt, why] of bad) {
    test(`rejects ${name}`, () => {
      const good = path.join(dir, 'good.wav');
      writeWavPcm(good, new Int16Array(16), 8000);
      const p = path.join(dir, 'bad.wav');
      writeFileSync(p, corrupt(readFileSync(good)));
      assert.throws(() => readWavPcm(p), why);
    });
  }
});

describe('G.711', () => {
  test('µ-law reference values (G.711 table 2)', () => {
    assert.deepEqual([0xff, 0x7f, 0x80, 0x00, 0xfe, 0x7e, 0xef].map(ulawToLinear), [0, 0, 32124, -32124, 8, -8, 132]);
  });

  test('A-law reference values (G.711 table 1)', () => {
    assert.deepEqual([0xd5, 0x55, 0xaa, 0x2a, 0xd4, 0xc5].map(alawToLinear), [8, -8, 32256, -32256, 24, 264]);
  });

  test('every code decodes to a distinct value except µ-law\'s two zeros', () => {
    const u = new Set(Array.from({ length: 256 }, (_, i) => ulawToLinear(i)));
    const a = new Set(Array.from({ length: 256 }, (_, i) => alawToLinear(i)));
    assert.equal(u.size, 255);
    assert.equal(a.size, 256);
  });

  test('a µ-law / A-law tone encoded by sox decodes to the same tone', () => {
    for (const [enc, decode] of [['u-law', decodeUlaw], ['a-law', decodeAlaw]] as const) {
      const p = path.join(dir, `tone.${enc}.raw`);
      execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-e', enc, '-t', 'raw', p, 'synth', '0.5', 'sine', '1000', 'vol', '0.5']);
      const pcm = decode(new Uint8Array(readFileSync(p)));
      assert.equal(pcm.length, 4000);
      assert.ok(Math.abs(dominantFrequency(pcm, 8000, { min: 300, max: 3400 }) - 1000) < 0.5, enc);
      assert.ok(Math.abs(dbfs(pcm) - (20 * Math.log10(0.5) - 3.01)) < 0.3, `${enc} level ${dbfs(pcm)}`);
    }
  });
});
