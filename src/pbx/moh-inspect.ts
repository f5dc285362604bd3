/**
 * The checks an uploaded MOH file goes through (upload and validate run the same ones):
 * size → ffprobe (is it audio, has it an audio stream, how long does it say it is) →
 * ffmpeg into the internal format → what was really decoded (anything at all, not too
 * long, not much shorter than declared, which is how a truncated file shows).
 */
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { MohProblem } from './moh-errors.ts';
import { convertToMohWav, lastErrorLine, probeAudio, type MohTools, type ProbeResult } from './moh-ffmpeg.ts';
import { readWavInfo } from './moh-wav.ts';
import { MOH_BITS_PER_SAMPLE, MOH_CHANNELS, MOH_SAMPLE_RATE } from './moh-format.ts';

export interface MohLimits {
  /** Largest upload accepted, bytes (STROWGER_MOH_MAX_BYTES). */
  maxBytes: number;
  /** Longest audio accepted, seconds (STROWGER_MOH_MAX_SECONDS). */
  maxSeconds: number;
}

export interface MohInspection {
  problems: MohProblem[];
  /** ffprobe's container name; null when it recognised none. */
  format: string | null;
  codec: string | null;
  sampleRate: number | null;
  channels: number | null;
  /** Seconds: what was decoded when conversion ran, else what the file declares; null if unknown. */
  duration: number | null;
  /** The file in the internal format, when there is no problem. */
  converted: { path: string; durationMs: number; size: number } | null;
}

/**
 * A file is called truncated when it decodes to less than this share of the length its
 * headers declare, and by more than TRUNCATION_MIN_GAP_SECONDS (a few frames of encoder
 * padding or rounding are normal). Declared lengths come from a header (WAV, Ogg, FLAC,
 * MP4) or a Xing/Info frame count (MP3 from any current encoder), so a cut file still
 * "declares" its full length.
 */
const TRUNCATION_RATIO = 0.9;
const TRUNCATION_MIN_GAP_SECONDS = 0.5;

const seconds = (s: number) => `${s.toFixed(1)} s`;

/** Problems visible from ffprobe's answer alone (no decoding). */
export function probeProblems(probe: ProbeResult, limits: MohLimits): MohProblem[] {
  if (!probe.ok) {
    if (probe.timedOut) return [{ code: 'moh_corrupt', message: `it could not be read: ${probe.error}` }];
    // A container cut short fails while its header is read; anything else is no audio file at all.
    if (/end of file/i.test(probe.error)) return [{ code: 'moh_corrupt', message: `it is truncated or damaged (${probe.error})` }];
    return [{ code: 'moh_not_audio', message: `it is not an audio file in a known format (${probe.error})` }];
  }
  if (!probe.audio) return [{ code: 'moh_no_audio_stream', message: `it has no audio stream (container: ${probe.format})` }];
  const d = probe.audio.duration;
  if (d !== null && d > limits.maxSeconds) {
    return [{ code: 'moh_too_long', message: `it is too long: ${seconds(d)}, the limit is ${limits.maxSeconds} s` }];
  }
  return [];
}

/** Problems visible once decoded: `decodedMs` of audio came out of a file declaring `declared` seconds. */
export function decodedProblems(declared: number | null, decodedMs: number, limits: MohLimits): MohProblem[] {
  const decoded = decodedMs / 1000;
  if (decodedMs === 0) return [{ code: 'moh_corrupt', message: 'no audio could be decoded from it (duration 0)' }];
  if (decoded > limits.maxSeconds) {
    return [{ code: 'moh_too_long', message: `it is too long: more than ${limits.maxSeconds} s of audio decode from it` }];
  }
  if (declared !== null && decoded < declared * TRUNCATION_RATIO && declared - decoded > TRUNCATION_MIN_GAP_SECONDS) {
    return [{ code: 'moh_corrupt', message: `it is truncated or damaged: it declares ${seconds(declared)} but only ${seconds(decoded)} decode` }];
  }
  return [];
}

/** Reads the header of the WAV ffmpeg wrote and checks it is the internal format. */
async function readConverted(path: string): Promise<{ durationMs: number; size: number } | null> {
  const size = (await stat(path)).size;
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(Math.min(size, 4096));
    await fh.read(head, 0, head.length, 0);
    const info = readWavInfo(head, size);
    if (!info || info.format !== 1 || info.channels !== MOH_CHANNELS || info.sampleRate !== MOH_SAMPLE_RATE || info.bitsPerSample !== MOH_BITS_PER_SAMPLE) return null;
    return { durationMs: info.durationMs, size };
  } finally {
    await fh.close();
  }
}

/**
 * Runs every check on `input` (a complete upload of `size` bytes, or a partial one when
 * `tooLarge`), converting into `workDir/converted.wav`. Never throws for a bad file: the
 * reasons are in `problems`. Throws MohToolError when ffmpeg is not installed.
 */
export async function inspectMohUpload(tools: MohTools, input: string, workDir: string, limits: MohLimits, tooLarge: boolean): Promise<MohInspection> {
  const out: MohInspection = { problems: [], format: null, codec: null, sampleRate: null, channels: null, duration: null, converted: null };
  if (tooLarge) {
    // Only a prefix was kept: nothing said about its audio would be true of the whole file.
    out.problems.push({ code: 'moh_too_large', message: `it is too large: more than ${limits.maxBytes} bytes` });
    return out;
  }
  const probe = await probeAudio(tools, input);
  if (probe.ok) {
    out.format = probe.format;
    if (probe.audio) {
      out.codec = probe.audio.codec;
      out.sampleRate = probe.audio.sampleRate;
      out.channels = probe.audio.channels;
      out.duration = probe.audio.duration;
    }
  }
  out.problems.push(...probeProblems(probe, limits));
  if (out.problems.length > 0 || !probe.ok || !probe.audio) return out;

  const wav = join(workDir, 'converted.wav');
  // One second over the limit is enough to tell "too long" from "exactly at the limit".
  const r = await convertToMohWav(tools, input, wav, limits.maxSeconds + 1);
  if (r.timedOut) {
    out.problems.push({ code: 'moh_corrupt', message: `decoding it took longer than ${tools.convertTimeoutMs / 1000} s` });
    return out;
  }
  if (r.code !== 0) {
    out.problems.push({ code: 'moh_corrupt', message: `it could not be decoded (${lastErrorLine(r.stderr)})` });
    return out;
  }
  const converted = await readConverted(wav).catch(() => null);
  if (!converted) {
    out.problems.push({ code: 'moh_corrupt', message: 'no audio could be decoded from it' });
    return out;
  }
  out.problems.push(...decodedProblems(probe.audio.duration, converted.durationMs, limits));
  out.duration = converted.durationMs / 1000;
  if (out.problems.length === 0) out.converted = { path: wav, ...converted };
  return out;
}
