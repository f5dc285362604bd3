import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodedProblems, inspectMohUpload, probeProblems, type MohLimits } from '../../../src/pbx/moh-inspect.ts';
import { DEFAULT_MOH_TOOLS, type MohTools } from '../../../src/pbx/moh-ffmpeg.ts';
import { MohToolError } from '../../../src/pbx/moh-errors.ts';
import { readWavInfo } from '../../../src/pbx/moh-wav.ts';

const LIMITS: MohLimits = { maxBytes: 1_000_000, maxSeconds: 10 };
const codes = (p: { code: string }[]) => p.map((x) => x.code);

describe('MOH checks from ffprobe and decoded lengths (pure)', () => {
  const audio = (duration: number | null) => ({ ok: true as const, format: 'mp3', formatDuration: duration, audio: { codec: 'mp3', sampleRate: 44100, channels: 2, duration } });
  const cases: Array<[string, Parameters<typeof probeProblems>[0], string[]]> = [
    ['fine', audio(3), []],
    ['unknown duration is decided after decoding', audio(null), []],
    ['declares more than the limit', audio(10.5), ['moh_too_long']],
    ['exactly the limit', audio(10), []],
    ['no audio stream', { ok: true, format: 'mov,mp4,m4a,3gp,3g2,mj2', formatDuration: 1, audio: null }, ['moh_no_audio_stream']],
    ['unrecognised bytes', { ok: false, timedOut: false, error: 'Invalid data found when processing input' }, ['moh_not_audio']],
    ['container cut in its header', { ok: false, timedOut: false, error: 'End of file' }, ['moh_corrupt']],
    ['probe killed', { ok: false, timedOut: true, error: 'ffprobe took longer than 15 s' }, ['moh_corrupt']],
  ];
  for (const [name, probe, want] of cases) test(`probe: ${name}`, () => assert.deepEqual(codes(probeProblems(probe, LIMITS)), want));

  const decoded: Array<[string, number | null, number, string[]]> = [
    ['complete', 3.03, 3030, []],
    ['encoder padding is not truncation', 3.05, 3000, []],
    ['half of it missing (cut MP3 with a Xing frame count)', 3.03, 1490, ['moh_corrupt']],
    ['short file, small gap', 0.8, 700, []],
    ['nothing decoded', 3, 0, ['moh_corrupt']],
    ['lied about its length', 2, 11_000, ['moh_too_long']],
    ['no declared length', null, 5000, []],
  ];
  for (const [name, declared, ms, want] of decoded) test(`decoded: ${name}`, () => assert.deepEqual(codes(decodedProblems(declared, ms, LIMITS)), want));
});

describe('inspectMohUpload with the real ffprobe/ffmpeg', () => {
  let dir: string;
  const f = (name: string) => join(dir, name);
  const ffmpeg = (...args: string[]) => execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
  const work = (name: string) => {
    const w = join(dir, `work-${name}`);
    mkdirSync(w);
    return w;
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'moh-inspect-'));
    ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=440:duration=3', '-ar', '44100', '-ac', '2', '-f', 'mp3', f('sine.mp3'));
    ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=440:duration=12', '-ar', '8000', '-f', 'wav', f('long.wav'));
    ffmpeg('-f', 'lavfi', '-i', 'anullsrc=r=8000:cl=mono', '-t', '0', '-f', 'wav', f('empty.wav'));
    const mp3 = readFileSync(f('sine.mp3'));
    writeFileSync(f('cut.mp3'), mp3.subarray(0, mp3.length >> 1));
    writeFileSync(f('text'), 'Hello,\nthis is a text file and no music at all.\n'.repeat(50));
    // A "tool" that never answers: the timeout must kill it.
    writeFileSync(f('hang.sh'), '#!/bin/sh\nexec sleep 30\n');
    chmodSync(f('hang.sh'), 0o755);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('MP3 stereo 44.1 kHz → WAV mono 16 kHz 16-bit, 3 s', async () => {
    const r = await inspectMohUpload(DEFAULT_MOH_TOOLS, f('sine.mp3'), work('ok'), LIMITS, false);
    assert.deepEqual(r.problems, []);
    assert.deepEqual([r.format, r.codec, r.sampleRate, r.channels], ['mp3', 'mp3', 44100, 2]);
    assert.ok(r.converted);
    const info = readWavInfo(readFileSync(r.converted.path))!;
    assert.deepEqual([info.format, info.channels, info.sampleRate, info.bitsPerSample, info.dataOffset], [1, 1, 16000, 16, 44]);
    assert.ok(Math.abs(info.durationMs - 3000) <= 60, `duration ${info.durationMs}`);
    assert.equal(r.converted.durationMs, info.durationMs);
  });

  const rejected: Array<[string, string, MohLimits, string]> = [
    ['a text file', 'text', LIMITS, 'moh_not_audio'],
    ['an MP3 cut in half', 'cut.mp3', LIMITS, 'moh_corrupt'],
    ['a WAV with no samples', 'empty.wav', LIMITS, 'moh_corrupt'],
    ['12 s over a 10 s limit', 'long.wav', LIMITS, 'moh_too_long'],
  ];
  for (const [name, file, limits, code] of rejected) {
    test(`rejects ${name} (${code}) and converts nothing`, async () => {
      const w = work(file);
      const r = await inspectMohUpload(DEFAULT_MOH_TOOLS, f(file), w, limits, false);
      assert.deepEqual(codes(r.problems), [code], JSON.stringify(r.problems));
      assert.equal(r.converted, null);
      assert.ok(r.problems[0]!.message.length > 10);
    });
  }

  test('too large: no tool runs on a partial file', async () => {
    const tools: MohTools = { ...DEFAULT_MOH_TOOLS, ffprobe: '/nonexistent/ffprobe', ffmpeg: '/nonexistent/ffmpeg' };
    const r = await inspectMohUpload(tools, f('sine.mp3'), work('big'), LIMITS, true);
    assert.deepEqual(codes(r.problems), ['moh_too_large']);
  });

  test('a hung ffprobe is killed at its timeout and the file reported, not the server', async () => {
    const tools: MohTools = { ...DEFAULT_MOH_TOOLS, ffprobe: f('hang.sh'), probeTimeoutMs: 300 };
    const t0 = Date.now();
    const r = await inspectMohUpload(tools, f('sine.mp3'), work('hang'), LIMITS, false);
    assert.ok(Date.now() - t0 < 5000);
    assert.deepEqual(codes(r.problems), ['moh_corrupt']);
    assert.match(r.problems[0]!.message, /longer than 0.3 s/);
  });

  test('ffmpeg not installed → MohToolError (a server problem, not a bad file)', async () => {
    const tools: MohTools = { ...DEFAULT_MOH_TOOLS, ffprobe: '/nonexistent/ffprobe' };
    await assert.rejects(inspectMohUpload(tools, f('sine.mp3'), work('missing'), LIMITS, false), MohToolError);
  });

  test('an HLS playlist pointing at a local file is refused, not followed', async () => {
    writeFileSync(f('list'), `#EXTM3U\n#EXT-X-TARGETDURATION:3\n#EXTINF:3,\n${f('sine.mp3')}\n#EXT-X-ENDLIST\n`);
    const r = await inspectMohUpload(DEFAULT_MOH_TOOLS, f('list'), work('hls'), LIMITS, false);
    assert.deepEqual(codes(r.problems), ['moh_not_audio']);
    assert.equal(existsSync(join(dir, 'work-hls', 'converted.wav')), false);
  });
});
