import type { TranscriptionEngine, TranscriptionResult } from './types.ts';

/**
 * The engine of `STROWGER_TRANSCRIPTION_ENGINE=none` (the default): transcribes nothing.
 * Callers check `name === 'none'` to leave messages untranscribed (state `none`) rather
 * than store an empty text as if it were a result.
 */
export const nullTranscriptionEngine: TranscriptionEngine = {
  name: 'none',
  transcribe: async (): Promise<TranscriptionResult> => ({ text: '', engine: 'none' }),
};
