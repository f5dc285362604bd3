/**
 * The Ogg-Opus recorder through the media engine: a tone player recorded to `.opus` at the
 * rates the engine accepts; the file is checked with ffprobe (container, codec, channels,
 * duration) and decoded with ffmpeg, and the decoded audio must peak at the tone's frequency.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMediaEngine } from '../../src/media/index.ts';
import type { MediaEngine } from '../../src/media/index.ts';
import { dominantFrequency, rms } from '../helpers/audio-analysis.ts';

const run = promisify(execFile);
const HOST = '127.0.0.1';
const BASE = 36000 + 2 * Math.floor(Math.random() * 2000);

/** ffprobe's view of the file (throws when ffprobe rejects it). */
async function probe(path: string): Promise<{ format: string; codec: string; channels: number; sampleRate: number; duration: number }> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', path]);
  const j = JSON.parse(stdout) as { format: { format_name: string; duration: string }; streams: { codec_name: string; channels: number; sample_rate: string }[] };
  assert.equal(j.streams.length, 1);
  const s = j.streams[0];
  return { format: j.format.format_name, codec: s.codec_name, channels: s.channels, sampleRate: Number(s.sample_rate), duration: Number(j.format.duration) };
}

/** The file decoded by ffmpeg (its own libopus) to 16-bit mono PCM at `rate`. */
async function decode(path: string, rate: number): Promise<Int16Array> {
  const { stdout } = await run('ffmpeg', ['-v', 'error', '-i', path, '-f', 's16le', '-ac', '1', '-ar', String(rate), '-'], { encoding: 'buffer', maxBuffer: 64 << 20 });
  const buf = stdout as unknown as Buffer;
  return new Int16Array(buf.buffer, buf.byteOffset, buf.length >> 1);
}

describe('Ogg-Opus recorder', () => {
  let engine: MediaEngine;
  let dir: string;
  before(async () => {
    engine = await createMediaEngine({ portRange: [BASE, BASE + 99], bindAddress: HOST, workers: 1 });
    dir = await mkdtemp(join(tmpdir(), 'strowger-ogg-'));
  });
  after(async () => {
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  });

  for (const [rate, freq] of [[48000, 1000], [8000, 700], [16000, 1500]] as const) {
    test(`a ${freq} Hz tone recorded at ${rate} Hz: ffprobe sees mono Opus in Ogg, ffmpeg decodes the tone`, async () => {
      const path = join(dir, `tone-${rate}.opus`);
      const player = await engine.createPlayer({ group: `ogg-${rate}`, source: { tone: { frequencies: [freq] } }, loop: true });
      const rec = await engine.createRecorder({ group: `ogg-${rate}`, path, format: 'ogg-opus', rate });
      await engine.connect(rec.id, [player.id]);
      await sleep(1500);
      await engine.stopRecorder(rec.id);
      await engine.releaseLeg(player.id);

      const info = await probe(path);
      assert.equal(info.format, 'ogg');
      assert.equal(info.codec, 'opus');
      assert.equal(info.channels, 1);
      assert.equal(info.sampleRate, 48000, 'Opus in Ogg always decodes at 48 kHz (RFC 7845 §5.1)');
      // Ticks a loaded machine skips are missing from the file (the clock skips, never queues).
      assert.ok(info.duration > 0.6 && info.duration < 2, `duration ${info.duration} s for ~1.5 s recorded`);

      const pcm = await decode(path, 16000);
      assert.ok(Math.abs(pcm.length / 16000 - info.duration) < 0.05, `decoded ${pcm.length} samples`);
      const body = pcm.subarray(1600); // past the encoder's start-up
      const f = dominantFrequency(body, 16000, { min: 200, max: 3600 });
      assert.ok(Math.abs(f - freq) <= 10, `dominant ${f.toFixed(1)} Hz, want ${freq}`);
      assert.ok(rms(body) > 1000, `rms ${rms(body).toFixed(0)}: not silence`);
    });
  }

  test('an unsupported rate is refused before a file is made', async () => {
    await assert.rejects(engine.createRecorder({ path: join(dir, 'bad.opus'), format: 'ogg-opus', rate: 44100 }), { code: 'MEDIA_ERR_BAD_OPTION' });
  });
});
