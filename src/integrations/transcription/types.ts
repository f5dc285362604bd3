/**
 * Speech-to-text for voicemail (issue 11): one small interface, a null engine and a local
 * offline engine. Engines read a WAV file the caller owns and never fetch anything at run
 * time (models come from Debian packages installed by `.ci/run` / the README setup).
 */

/** What an engine made of a recording. */
export interface TranscriptionResult {
  /** Recognised words, lowercase, single spaces; '' when nothing was recognised. */
  text: string;
  /** Name of the engine that produced it (stored as `voicemails.transcription_engine`). */
  engine: string;
  /** 0..1 when the engine reports one (mean word posterior for pocketsphinx). */
  confidence?: number;
}

export interface TranscriptionEngine {
  readonly name: string;
  /**
   * Transcribes a WAV file (PCM or G.711, any rate, mono or stereo).
   * @throws TranscriptionError when the engine cannot run or the file cannot be read.
   */
  transcribe(wavPath: string): Promise<TranscriptionResult>;
}

/** Names accepted by `STROWGER_TRANSCRIPTION_ENGINE`. */
export const TRANSCRIPTION_ENGINE_NAMES = ['none', 'pocketsphinx'];

export class TranscriptionError extends Error {
  constructor(readonly engine: string, message: string, options?: { cause?: unknown }) {
    super(`${engine}: ${message}`, options);
    this.name = 'TranscriptionError';
  }
}
