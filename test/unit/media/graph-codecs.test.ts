import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpusDecoder, OpusEncoder } from '../../../src/media/codec/opus.ts';
import { warmUpCodecs } from '../../../src/media/graph-codecs.ts';

/** Median µs of an 8 kHz encode+decode pair over `frames` frames of a tone. */
function pairMicros(frames: number): number {
  const enc = new OpusEncoder({ sampleRate: 8000 });
  const dec = new OpusDecoder({ sampleRate: 8000 });
  const pcm = new Int16Array(160);
  const packet = Buffer.alloc(1500);
  const out = new Int16Array(960);
  const times: number[] = [];
  for (let f = 0; f < frames; f++) {
    for (let i = 0; i < 160; i++) pcm[i] = Math.round(5000 * Math.sin(((f * 160 + i) * 2 * Math.PI * 440) / 8000));
    const t = performance.now();
    dec.decode(packet.subarray(0, enc.encode(pcm, packet)), out);
    times.push(performance.now() - t);
  }
  enc.close();
  dec.close();
  times.sort((a, b) => a - b);
  return times[times.length >> 1] * 1000;
}

test('warmUpCodecs runs every frame in slices that yield, and leaves libopus fast', async () => {
  let turns = 0;
  const ticker = setInterval(() => turns++, 1);
  const report = await warmUpCodecs(300);
  clearInterval(ticker);
  assert.equal(report.frames, 600, '300 frames at each of 8 and 48 kHz');
  assert.ok(report.busyMs > 0 && report.busyMs <= report.wallMs + 1);
  assert.ok(turns > 0, 'the event loop ran between slices');
  // Warm: an 8 kHz pair costs well under the ~1 ms of a cold (Liftoff) libopus.
  const warm = pairMicros(50);
  assert.ok(warm < 400, `warm encode+decode ${warm.toFixed(0)} µs`);
});

test('warmUpCodecs(0) does nothing', async () => {
  assert.deepEqual(await warmUpCodecs(0), { frames: 0, busyMs: 0, wallMs: 0 });
});

test('graphCodecs finds codecs case-insensitively, by clock rate, and null for unknown ones', async () => {
  const { graphCodecs } = await import('../../../src/media/graph-codecs.ts');
  assert.equal(graphCodecs('opus', 48000, 2)?.info.name, 'opus');
  assert.equal(graphCodecs('OPUS', 48000, 2)?.info.name, 'opus');
  assert.equal(graphCodecs('pcmu', 8000, 1)?.info.name, 'PCMU');
  assert.equal(graphCodecs('PCMU', 16000, 1), null);
  assert.equal(graphCodecs('G729', 8000, 1), null);
  for (let i = 0; i < 100; i++) assert.equal(graphCodecs(`x-${i}`, 8000, 1), null); // past the cache bound
  assert.equal(graphCodecs('G722', 8000, 1)?.info.name, 'G722');
});
