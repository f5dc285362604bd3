/**
 * Speech-to-text engines (issue 11), chosen by `STROWGER_TRANSCRIPTION_ENGINE`.
 *
 * @example
 *   const engine = createTranscriptionEngine(config.transcription.engine);
 *   const { text, engine: name, confidence } = await engine.transcribe('/data/media/voicemail/12.wav');
 */
import { nullTranscriptionEngine } from './null-engine.ts';
import { createPocketsphinxEngine, type PocketsphinxOptions } from './pocketsphinx.ts';
import type { TranscriptionEngine } from './types.ts';

export type { TranscriptionEngine, TranscriptionResult } from './types.ts';
export { TRANSCRIPTION_ENGINE_NAMES, TranscriptionError } from './types.ts';
export { nullTranscriptionEngine } from './null-engine.ts';
export { createPocketsphinxEngine, parsePocketsphinxTimes } from './pocketsphinx.ts';
export { wordErrorRate } from './word-error-rate.ts';

/** The engine named `name` (one of TRANSCRIPTION_ENGINE_NAMES; the config validated it). */
export function createTranscriptionEngine(name: string, o: { pocketsphinx?: PocketsphinxOptions } = {}): TranscriptionEngine {
  switch (name) {
    case 'none': return nullTranscriptionEngine;
    case 'pocketsphinx': return createPocketsphinxEngine(o.pocketsphinx);
    default: throw new Error(`unknown transcription engine "${name}"`);
  }
}
