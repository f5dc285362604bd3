/**
 * Audio files at a rate the graph does not run at (22.05 or 44.1 kHz) are brought to the nearest
 * graph rate once, at load time; the 20 ms clock then never resamples them.
 */
import type { WavAudio } from './audio-file/wav.ts';

type Pcm = Pick<WavAudio, 'sampleRate' | 'samples'>;

/**
 * Converts to one of the graph's rates by linear interpolation, once at load time (a file at
 * 22.05 or 44.1 kHz); files at 8/16/48 kHz are used as they are.
 */
export function toGraphRate(audio: Pcm): Pcm {
  const { sampleRate, samples } = audio;
  if (sampleRate === 8000 || sampleRate === 16000 || sampleRate === 48000) return audio;
  const target = sampleRate > 16000 ? 48000 : sampleRate > 8000 ? 16000 : 8000;
  const n = Math.floor((samples.length * target) / sampleRate);
  const out = new Int16Array(n);
  const step = sampleRate / target;
  for (let i = 0; i < n; i++) {
    const x = i * step;
    const j = Math.floor(x);
    const frac = x - j;
    const a = samples[j];
    const b = j + 1 < samples.length ? samples[j + 1] : a;
    out[i] = Math.round(a + (b - a) * frac);
  }
  return { sampleRate: target, samples: out };
}
