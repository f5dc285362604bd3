/**
 * Word error rate of a transcription engine on the project's own test prompts: sentences of
 * the kind a voicemail holds, spoken by espeak-ng, resampled by sox (`-R`: no random dither, so runs repeat exactly) to telephone rate (8 kHz,
 * what a G.711 message is) and wideband (16 kHz, G.722 / Opus messages), then transcribed.
 *
 *   node --import tsx bench/transcription-wer.ts [engine]      (default pocketsphinx)
 *
 * Prints one line per sentence and rate, then the WER per rate (errors / reference words over
 * all sentences); docs/TRANSCRIPTION.md records the figures.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTranscriptionEngine } from '../src/integrations/transcription/index.ts';
import { wordErrors } from '../src/integrations/transcription/word-error-rate.ts';

export const WER_SENTENCES = [
  'please call me back about the meeting tomorrow',
  'hello this is john from the office',
  'the delivery will arrive on monday morning',
  'can you send me the report by friday',
  'i will be late for dinner tonight',
  'your appointment is confirmed for next week',
  'thank you for your order',
  'we need to talk about the budget',
];

/** espeak-ng at 22050 Hz, then sox to `rate` (16-bit mono). */
export function speak(text: string, file: string, rate: number): void {
  const raw = `${file}.raw.wav`;
  execFileSync('espeak-ng', ['-v', 'en-us', '-s', '140', '-w', raw, text]);
  execFileSync('sox', ['-R', raw, '-r', String(rate), '-c', '1', '-b', '16', file]);
  rmSync(raw);
}

async function main(): Promise<void> {
  const engine = createTranscriptionEngine(process.argv[2] ?? 'pocketsphinx');
  const dir = mkdtempSync(path.join(tmpdir(), 'wer-'));
  try {
    for (const rate of [8000, 16000]) {
      let errors = 0;
      let words = 0;
      let ms = 0;
      for (const [i, sentence] of WER_SENTENCES.entries()) {
        const file = path.join(dir, `s${i}-${rate}.wav`);
        speak(sentence, file, rate);
        const t0 = performance.now();
        const r = await engine.transcribe(file);
        ms += performance.now() - t0;
        const e = wordErrors(sentence, r.text);
        errors += e.errors;
        words += e.words;
        console.log(`${rate} Hz  ${(e.errors / e.words).toFixed(2)}  "${sentence}" -> "${r.text}"${r.confidence === undefined ? '' : ` (confidence ${r.confidence.toFixed(2)})`}`);
      }
      console.log(`${engine.name} ${rate} Hz: WER ${(100 * errors / words).toFixed(1)} % (${errors}/${words} words), ${(ms / WER_SENTENCES.length).toFixed(0)} ms per sentence`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
