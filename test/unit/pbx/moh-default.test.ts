import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHORD_SECONDS, DEFAULT_MOH_CHORDS, DEFAULT_MOH_SECONDS, defaultMohSamples, ensureDefaultMoh } from '../../../src/pbx/moh-default.ts';
import { readWavInfo } from '../../../src/pbx/moh-wav.ts';

const RATE = 16000;

/** Goertzel power of `freq` over `x[from, to)`, normalised so a full-scale sine gives ~0.25. */
function power(x: Int16Array, from: number, to: number, freq: number): number {
  const k = 2 * Math.cos((2 * Math.PI * freq) / RATE);
  let s1 = 0, s2 = 0;
  for (let i = from; i < to; i++) {
    const s0 = x[i]! / 32768 + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const n = to - from;
  return (s1 * s1 + s2 * s2 - k * s1 * s2) / (n * n);
}

describe('default music on hold (src/pbx/moh-default.ts)', () => {
  const x = defaultMohSamples();

  test('documented frequencies: C–Am–F–G triads in equal temperament (A4 = 440 Hz)', () => {
    const rounded = DEFAULT_MOH_CHORDS.map((c) => c.map((f) => Math.round(f * 100) / 100));
    assert.deepEqual(rounded, [
      [523.25, 659.26, 783.99],
      [440, 523.25, 659.26],
      [349.23, 440, 523.25],
      [392, 493.88, 587.33],
    ]);
    assert.equal(DEFAULT_MOH_SECONDS, 16);
  });

  test('16 s at 16 kHz, peak below −6 dBFS, silent at both ends so the loop has no seam', () => {
    assert.equal(x.length, DEFAULT_MOH_SECONDS * RATE);
    let peak = 0;
    for (const v of x) peak = Math.max(peak, Math.abs(v));
    assert.ok(peak > 0.3 * 32767 && peak < 0.5 * 32767, `peak ${peak}`);
    assert.ok(Math.abs(x[0]!) <= 1 && Math.abs(x[x.length - 1]!) <= 20, `ends ${x[0]} … ${x[x.length - 1]}`);
    // No click at the chord boundaries either: neighbouring samples stay close.
    for (let c = 1; c < DEFAULT_MOH_CHORDS.length; c++) {
      const i = c * CHORD_SECONDS * RATE;
      assert.ok(Math.abs(x[i]! - x[i - 1]!) < 50, `jump at chord ${c}`);
    }
  });

  test('each 4 s segment holds its chord tones and not the others', () => {
    const all = [...new Set(DEFAULT_MOH_CHORDS.flat().map((f) => Math.round(f * 100) / 100))];
    for (let c = 0; c < DEFAULT_MOH_CHORDS.length; c++) {
      // The steady middle of the chord: after the attack, before the release.
      const from = c * CHORD_SECONDS * RATE + RATE, to = from + 2 * RATE;
      const mine = DEFAULT_MOH_CHORDS[c]!.map((f) => Math.round(f * 100) / 100);
      for (const f of all) {
        const p = power(x, from, to, f);
        if (mine.includes(f)) assert.ok(p > 0.004, `chord ${c}: ${f} Hz missing (${p})`);
        else assert.ok(p < 0.00004, `chord ${c}: ${f} Hz present (${p})`);
      }
    }
  });

  test('ensureDefaultMoh writes a 16 kHz mono 16-bit WAV once, that ffprobe reads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moh-default-'));
    try {
      const path = await ensureDefaultMoh(join(dir, 'moh'));
      const info = readWavInfo(readFileSync(path));
      assert.deepEqual(info && { f: info.format, ch: info.channels, r: info.sampleRate, b: info.bitsPerSample, ms: info.durationMs }, { f: 1, ch: 1, r: 16000, b: 16, ms: 16000 });
      const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_streams', path], { encoding: 'utf8' }));
      assert.equal(probe.streams[0].codec_name, 'pcm_s16le');
      assert.equal(probe.streams[0].sample_rate, '16000');
      const mtime = statSync(path).mtimeMs;
      assert.equal(await ensureDefaultMoh(join(dir, 'moh')), path);
      assert.equal(statSync(path).mtimeMs, mtime, 'reused, not rewritten');
      const samples = new Int16Array(readFileSync(path).buffer.slice(44));
      assert.deepEqual(samples, x);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
