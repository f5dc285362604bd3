/**
 * Just enough RIFF/WAVE (the canonical 44-octet PCM layout plus tolerated extra chunks) for
 * the player and recorder: 16-bit or 8-bit PCM, any rate, mono or several channels (mixed
 * down). Anything else is refused with a reason, never guessed.
 */

export interface WavAudio {
  sampleRate: number;
  /** Mono 16-bit samples. */
  samples: Int16Array;
}

/** @throws Error naming what is wrong with the file. */
export function parseWav(buf: Buffer): WavAudio {
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE') {
    throw new Error('not a RIFF/WAVE file');
  }
  let offset = 12;
  let format = -1;
  let channels = 0;
  let sampleRate = 0;
  let bits = 0;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('latin1', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > buf.length) throw new Error('truncated fmt chunk');
      format = buf.readUInt16LE(body);
      channels = buf.readUInt16LE(body + 2);
      sampleRate = buf.readUInt32LE(body + 4);
      bits = buf.readUInt16LE(body + 14);
      // WAVE_FORMAT_EXTENSIBLE: the real format is the first two octets of the sub-format GUID.
      if (format === 0xfffe && size >= 26) format = buf.readUInt16LE(body + 24);
    } else if (id === 'data') {
      if (format !== 1) throw new Error(format < 0 ? 'data chunk before fmt chunk' : `unsupported WAV format ${format} (PCM only)`);
      if (bits !== 16 && bits !== 8) throw new Error(`unsupported ${bits}-bit samples`);
      if (channels < 1 || sampleRate < 1000 || sampleRate > 192000) throw new Error(`bad fmt: ${channels} channels at ${sampleRate} Hz`);
      const end = Math.min(buf.length, body + size);
      const frameBytes = (bits / 8) * channels;
      const frames = Math.floor((end - body) / frameBytes);
      if (frames === 0) throw new Error('no audio in the data chunk');
      const samples = new Int16Array(frames);
      for (let f = 0, p = body; f < frames; f++) {
        let sum = 0;
        for (let c = 0; c < channels; c++, p += bits / 8) sum += bits === 16 ? buf.readInt16LE(p) : (buf[p] - 128) << 8;
        samples[f] = sum / channels;
      }
      return { sampleRate, samples };
    }
    offset = body + size + (size & 1);
  }
  throw new Error('no data chunk');
}

/** The 44-octet header of a mono 16-bit PCM WAV holding `dataBytes` of samples. */
export function wavHeader(sampleRate: number, dataBytes: number): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

/**
 * Converts to one of the graph's rates by linear interpolation, once at load time (a file at
 * 22.05 or 44.1 kHz); files at 8/16/48 kHz are used as they are.
 */
export function toGraphRate(audio: WavAudio): WavAudio {
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
