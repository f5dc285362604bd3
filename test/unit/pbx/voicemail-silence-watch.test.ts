/** Trailing-silence detection on a recording WAV (src/pbx/voicemail/silence-watch.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTone, writeWavPcm } from '../../helpers/audio-analysis.ts';
import { SilenceWatch } from '../../../src/pbx/voicemail/silence-watch.ts';

function recording(toneSeconds: number, silenceSeconds: number): { path: string; done(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'strowger-silence-'));
  const pcm = new Int16Array((toneSeconds + silenceSeconds) * 8000);
  pcm.set(makeTone({ freq: 500, seconds: toneSeconds, amplitude: 0.2 }));
  const path = join(dir, 'r.wav');
  writeWavPcm(path, pcm, 8000);
  return { path, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test('silence after the last sound: fires once when long enough, soundEnd marks the end of the tone', async () => {
  const r = recording(1, 2);
  let fired = 0;
  const w = new SilenceWatch({ path: r.path, rate: 8000, silenceMs: 1500, onSilence: () => fired++ });
  await w.poll();
  await w.poll();
  await w.stop();
  assert.equal(fired, 1);
  assert.equal(w.soundEnd, 16000);
  r.done();
});

test('shorter silence, or silenceMs 0, never fires; all silence leaves soundEnd 0', async () => {
  const short = recording(1, 1);
  let fired = 0;
  const a = new SilenceWatch({ path: short.path, rate: 8000, silenceMs: 1500, onSilence: () => fired++ });
  await a.poll();
  await a.stop();
  const mute = recording(0, 3);
  const b = new SilenceWatch({ path: mute.path, rate: 8000, silenceMs: 0, onSilence: () => fired++ });
  await b.poll();
  await b.stop();
  assert.equal(fired, 0);
  assert.equal(b.soundEnd, 0);
  short.done();
  mute.done();
});
