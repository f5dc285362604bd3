/**
 * Audio files of the player and recorder: WAV in and out, Ogg Opus out.
 */
export { WavWriter, readWav, readWavFile, wavHeader } from './wav.ts';
export type { WavAudio, WavEncoding, WavWriterFs, WavWriterOptions } from './wav.ts';
export { OggOpusWriter, oggCrc32, opusPacketSamples } from './ogg-opus.ts';
export type { OggOpusWriterFs, OggOpusWriterOptions } from './ogg-opus.ts';
export { AUDIO_FILE_ERRORS, AudioFileError } from './errors.ts';
export type { AudioFileErrorCode } from './errors.ts';
