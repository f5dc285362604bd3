/**
 * The codecs and resampler the worker's graph uses, bound to the implementations in `codec/`.
 */
import type { AudioCodec } from './codec/types.ts';
import type { FrameResampler } from './frame-endpoint.ts';
import type { CodecLookup, ResamplerFactory } from './media-graph.ts';

export const graphCodecs: CodecLookup = (_name: string, _clockRate: number, _channels: number): AudioCodec | null => null;

export const graphResampler: ResamplerFactory = (fromRate: number, toRate: number): FrameResampler => {
  throw new RangeError(`no resampler ${fromRate} -> ${toRate}`);
};
