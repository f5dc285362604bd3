/**
 * Test codecs for the graph: linear 16-bit big-endian payloads at 8 kHz (`FAKE8`, RTP clock
 * 8000) and at 16 kHz with G.722's 8000 RTP clock (`FAKE16`), so payload bytes show exactly
 * which samples went through. Conceal writes a marker value so tests see PLC frames.
 */
import type { AudioCodec, AudioDecoder, AudioEncoder, CodecInfo } from '../../../src/media/codec/types.ts';
import type { FrameResampler } from '../../../src/media/frame-endpoint.ts';
import type { CodecLookup } from '../../../src/media/media-graph.ts';

export const CONCEAL_MARK = 1234;

function linear(name: string, sampleRate: number): AudioCodec {
  const info: CodecInfo = { name, clockRate: 8000, channels: 1, staticPt: null, sampleRate };
  return {
    info,
    createEncoder(): AudioEncoder {
      return {
        sampleRate,
        encode(pcm, dst) {
          for (let i = 0; i < pcm.length; i++) dst.writeInt16BE(pcm[i], i * 2);
          return pcm.length * 2;
        },
        close() {},
      };
    },
    createDecoder(): AudioDecoder {
      return {
        sampleRate,
        decode(payload, dst) {
          const n = payload.length >> 1;
          const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
          for (let i = 0; i < n; i++) dst[i] = view.getInt16(i * 2);
          return n;
        },
        conceal(dst, samples) {
          dst.fill(CONCEAL_MARK, 0, samples);
          return samples;
        },
        close() {},
      };
    },
  };
}

export const FAKE8 = linear('FAKE8', 8000);
export const FAKE16 = linear('FAKE16', 16000);

export const fakeCodecs: CodecLookup = (name) => (name === 'FAKE8' ? FAKE8 : name === 'FAKE16' ? FAKE16 : null);

/** 2x up by repetition, 2x down by dropping: exact enough to follow samples in tests. */
export function fakeResampler(from: number, to: number): FrameResampler {
  return {
    process(input, out) {
      if (to === from * 2) for (let i = 0; i < out.length; i++) out[i] = input[i >> 1];
      else if (from === to * 2) for (let i = 0; i < out.length; i++) out[i] = input[i * 2];
      else throw new RangeError(`fake resampler ${from} -> ${to}`);
    },
  };
}
