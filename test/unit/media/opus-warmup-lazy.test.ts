import { test } from 'node:test';
import assert from 'node:assert/strict';

test('the Opus warm-up starts when the graph first looks up Opus, not before, and once', async () => {
  process.env.STROWGER_OPUS_WARMUP = '20';
  const { graphCodecs, opusWarmUp, warmUpOnce } = await import('../../../src/media/graph-codecs.ts');
  assert.equal(opusWarmUp(), null, 'nothing at import (a worker that starts idle)');
  graphCodecs('PCMU', 8000, 1);
  graphCodecs('G722', 8000, 1);
  assert.equal(opusWarmUp(), null, 'G.711 and G.722 legs do not load libopus');
  graphCodecs('opus', 48000, 2);
  const started = opusWarmUp();
  assert.ok(started !== null, 'the first Opus lookup starts it');
  graphCodecs('opus', 8000, 2);
  assert.equal(warmUpOnce(), started, 'later lookups reuse the same run');
  const report = await started;
  assert.equal(report.frames, 40, '20 frames at each of 8 and 48 kHz');
});
