/**
 * The codecs and resampler the worker's graph uses, bound to the implementations in `codec/`.
 * Only G.711 has landed so far; G.722, Opus and the resampler plug in here (`findCodec()`).
 */
import { PCMA, PCMU } from './codec/g711.ts';
import type { AudioCodec } from './codec/types.ts';
import type { FrameResampler } from './frame-endpoint.ts';
import type { CodecLookup, ResamplerFactory } from './media-graph.ts';

const KNOWN: AudioCodec[] = [PCMU, PCMA];

export const graphCodecs: CodecLookup = (name: string, clockRate: number): AudioCodec | null => {
  const lower = name.toLowerCase();
  for (const c of KNOWN) if (c.info.name.toLowerCase() === lower && c.info.clockRate === clockRate) return c;
  return null;
};

export const graphResampler: ResamplerFactory = (fromRate: number, toRate: number): FrameResampler => {
  throw new RangeError(`no resampler ${fromRate} -> ${toRate} yet`);
};
