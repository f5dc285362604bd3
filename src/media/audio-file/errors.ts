/**
 * Error catalogue of the audio-file readers and writers (WAV, Ogg Opus). Same shape as the
 * media layer's `MediaError` (`../errors.ts`): a stable `AUDIO_FILE_ERR_<WHAT>` code callers map
 * to an answer (the MOH upload returns 400 with the message), and a message with the numbers.
 * Thrown at API edges only (opening/reading a file); the frame path returns counts instead.
 */
export const AUDIO_FILE_ERRORS = {
  AUDIO_FILE_ERR_NOT_RIFF: 'not a RIFF/WAVE file',
  AUDIO_FILE_ERR_TRUNCATED: 'file is truncated',
  AUDIO_FILE_ERR_MALFORMED: 'malformed file structure',
  AUDIO_FILE_ERR_UNSUPPORTED: 'unsupported audio format',
  AUDIO_FILE_ERR_NO_AUDIO: 'file holds no audio data',
  AUDIO_FILE_ERR_BAD_OPTION: 'invalid writer option',
  AUDIO_FILE_ERR_CLOSED: 'writer is closed',
} as const satisfies Record<string, string>;

export type AudioFileErrorCode = keyof typeof AUDIO_FILE_ERRORS;

/**
 * A file that cannot be read or written as asked.
 * @example
 * try { readWav(buf) } catch (e) { if (e instanceof AudioFileError) reply(400, e.message) }
 */
export class AudioFileError extends Error {
  readonly code: AudioFileErrorCode;

  constructor(code: AudioFileErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(detail === undefined ? AUDIO_FILE_ERRORS[code] : `${AUDIO_FILE_ERRORS[code]}: ${detail}`, options);
    this.name = 'AudioFileError';
    this.code = code;
  }
}
