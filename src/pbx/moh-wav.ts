/**
 * The little WAV (RIFF) knowledge MOH needs beyond `media/audio-file/wav.ts`: write a whole
 * 16-bit PCM mono file at once, and read back only the format and length of a file ffmpeg
 * wrote (to measure what was really decoded, without loading it).
 *
 * Canonical layout written here (all little-endian):
 *
 *     0  "RIFF" | u32 size-8 | "WAVE"
 *    12  "fmt " | u32 16 | u16 format=1 (PCM) | u16 channels | u32 rate | u32 byte rate
 *                        | u16 block align | u16 bits per sample
 *    36  "data" | u32 data bytes | samples…
 */
import { wavHeader } from '../media/audio-file/wav.ts';

export interface WavInfo {
  /** 1 = integer PCM (WAVE_FORMAT_PCM), 0xfffe = WAVE_FORMAT_EXTENSIBLE. */
  format: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  /** Byte offset of the first sample. */
  dataOffset: number;
  dataBytes: number;
  /** Whole frames in the data chunk divided by the rate, in milliseconds (rounded). */
  durationMs: number;
}

/** A canonical 44-byte-header WAV holding `samples` (16-bit PCM, mono). */
export function encodeWavMono16(samples: Int16Array, sampleRate: number): Buffer {
  const header = wavHeader(sampleRate, samples.length * 2);
  const out = Buffer.alloc(header.length + samples.length * 2);
  header.copy(out, 0);
  for (let i = 0; i < samples.length; i++) out.writeInt16LE(samples[i]!, header.length + i * 2);
  return out;
}

/**
 * Walks the RIFF chunks of a WAV file's bytes (at least its header) to `fmt ` and `data`.
 * `fileSize` bounds the data chunk when the header claims more than the file holds (a
 * writer that never patched its sizes). Returns null when this is not a PCM-style WAV.
 */
export function readWavInfo(head: Buffer, fileSize: number = head.length): WavInfo | null {
  if (head.length < 12 || head.toString('ascii', 0, 4) !== 'RIFF' || head.toString('ascii', 8, 12) !== 'WAVE') return null;
  let off = 12;
  let fmt: Omit<WavInfo, 'dataOffset' | 'dataBytes' | 'durationMs'> | null = null;
  while (off + 8 <= head.length) {
    const id = head.toString('ascii', off, off + 4);
    const size = head.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ' && body + 16 <= head.length) {
      fmt = {
        format: head.readUInt16LE(body), channels: head.readUInt16LE(body + 2),
        sampleRate: head.readUInt32LE(body + 4), bitsPerSample: head.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      if (!fmt || fmt.channels === 0 || fmt.bitsPerSample === 0 || fmt.sampleRate === 0) return null;
      const dataBytes = Math.min(size, Math.max(0, fileSize - body));
      const frames = Math.floor(dataBytes / (fmt.channels * (fmt.bitsPerSample / 8)));
      return { ...fmt, dataOffset: body, dataBytes, durationMs: Math.round((frames * 1000) / fmt.sampleRate) };
    }
    off = body + size + (size & 1); // chunks are padded to even sizes (RIFF)
  }
  return null;
}
