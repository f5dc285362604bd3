/** Transcription helpers: word error rate, pocketsphinx `-time yes` output, engine selection. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTranscriptionEngine, parsePocketsphinxTimes, wordErrorRate } from '../../../src/integrations/transcription/index.ts';
import { wordErrors } from '../../../src/integrations/transcription/word-error-rate.ts';

test('word error rate: substitutions, deletions and insertions over reference words', () => {
  assert.equal(wordErrorRate('call me back', 'call me back'), 0);
  assert.equal(wordErrorRate('Call me, back!', 'call me back'), 0);
  assert.deepEqual(wordErrors('call me back', 'call be back now'), { errors: 2, words: 3 });
  assert.equal(wordErrorRate('call me back', ''), 1);
  assert.equal(wordErrorRate('a b', 'x y z w'), 2);
  assert.equal(wordErrorRate('', ''), 0);
});

test('pocketsphinx -time output: fillers dropped, alternate pronunciations named by their word, mean posterior', () => {
  const out = ['<s> 0.000 0.120 0.999900', 'the(2) 0.130 0.330 0.800000', 'report 0.340 0.850 0.600000', '<sil> 1.840 1.990 0.937154',
    '[NOISE] 2.0 2.1 0.5', 'FRIDAY 2.440 3.070 0.100000', '</s> 3.280 3.530 1.000000', ''].join('\n');
  const r = parsePocketsphinxTimes(out);
  assert.deepEqual(r.words, ['the', 'report', 'friday']);
  assert.ok(Math.abs(r.confidence! - 0.5) < 1e-9);
  assert.deepEqual(parsePocketsphinxTimes(''), { words: [], confidence: undefined });
});

test('engines by name: none transcribes nothing; unknown names are refused', async () => {
  const none = createTranscriptionEngine('none');
  assert.deepEqual(await none.transcribe('/nonexistent.wav'), { text: '', engine: 'none' });
  assert.equal(createTranscriptionEngine('pocketsphinx').name, 'pocketsphinx');
  assert.throws(() => createTranscriptionEngine('cloud'), /unknown transcription engine/);
});
