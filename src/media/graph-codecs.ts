/**
 * The codecs and resampler the worker's graph uses, bound to the implementations in `codec/`.
 */
import { findCodec } from './codec/registry.ts';
import { Resampler } from './codec/resampler.ts';
import type { AudioCodec } from './codec/types.ts';
import type { FrameResampler } from './frame-endpoint.ts';
import type { CodecLookup, ResamplerFactory } from './media-graph.ts';

export const graphCodecs: CodecLookup = (name: string, clockRate: number): AudioCodec | null => findCodec(name, clockRate) ?? null;

export const graphResampler: ResamplerFactory = (fromRate: number, toRate: number): FrameResampler => {
  const r = new Resampler(fromRate, toRate);
  return { process: (input, out) => { r.process(input, out); } };
};
