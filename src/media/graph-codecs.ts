/**
 * The codecs and resampler the worker's graph uses, bound to the implementations in `codec/`,
 * and the Opus warm-up a media worker runs once, when its graph first needs Opus.
 */
import { findCodec } from './codec/registry.ts';
import { OpusDecoder, OpusEncoder } from './codec/opus.ts';
import { Resampler } from './codec/resampler.ts';
import type { AudioCodec } from './codec/types.ts';
import type { FrameResampler } from './frame-endpoint.ts';
import type { CodecLookup, ResamplerFactory } from './media-graph.ts';

/**
 * name -> clock rate -> codec (null: we cannot decode it). Names come from SDP, so a peer could
 * invent many: past {@link MAX_CACHED_NAMES} lookups are no longer remembered.
 */
const lookups = new Map<string, Map<number, AudioCodec | null>>();
const MAX_CACHED_NAMES = 64;

let warming: Promise<WarmUpReport> | null = null;

/**
 * `findCodec` memoised: the graph asks for every leg's codec on each recompute (every connect,
 * bridge, release), i.e. O(legs) lookups per change, and `findCodec` lower-cases and scans.
 * The first lookup that finds Opus, cached or not, starts the thread's warm-up.
 */
export const graphCodecs: CodecLookup = (name: string, clockRate: number): AudioCodec | null => {
  const codec = cachedCodec(name, clockRate);
  if (warming === null && codec?.info.name === 'opus') void warmUpOnce();
  return codec;
};

function cachedCodec(name: string, clockRate: number): AudioCodec | null {
  let byRate = lookups.get(name);
  if (byRate === undefined) {
    if (lookups.size >= MAX_CACHED_NAMES) return findCodec(name, clockRate) ?? null;
    byRate = new Map();
    lookups.set(name, byRate);
  }
  let codec = byRate.get(clockRate);
  if (codec === undefined) {
    if (byRate.size >= 8) return findCodec(name, clockRate) ?? null;
    codec = findCodec(name, clockRate) ?? null;
    byRate.set(clockRate, codec);
  }
  return codec;
}

/**
 * Starts {@link warmUpCodecs} the first time this thread's graph decodes or encodes Opus, not at
 * start: libopus in a thread, once run, holds ~10 MB (its WebAssembly memory and compiled code),
 * which an idle server, or one that only relays, should not carry (bench/README.md "idle RSS").
 * The first transcoded call runs alongside the warm-up's slices instead of after them.
 */
export function warmUpOnce(): Promise<WarmUpReport> {
  warming ??= warmUpCodecs();
  return warming;
}

/** The warm-up started by {@link warmUpOnce}, or null while this thread has not needed Opus. */
export function opusWarmUp(): Promise<WarmUpReport> | null {
  return warming;
}

export const graphResampler: ResamplerFactory = (fromRate: number, toRate: number): FrameResampler => {
  const r = new Resampler(fromRate, toRate);
  return { process: (input, out) => { r.process(input, out); } };
};

/** What {@link warmUpCodecs} did, for the worker's log and the benchmark. */
export interface WarmUpReport {
  frames: number;
  /** CPU-bound time spent in the warm-up slices, ms (the wall time is longer: it yields). */
  busyMs: number;
  /** Wall time from start to end, ms. */
  wallMs: number;
}

/** Default Opus frames per rate (`STROWGER_OPUS_WARMUP` overrides; 0 turns the warm-up off). */
export const WARMUP_FRAMES = 400;
/** Rates warmed: 8 kHz (SILK narrowband, Opus <-> G.711) and 48 kHz (CELT/hybrid, wideband legs). */
const WARMUP_RATES = [8000, 48000] as const;
/** Longest slice of warm-up work before yielding to the event loop (packets, control messages). */
const SLICE_MS = 5;

/**
 * Runs libopus on a few hundred frames of noise at each rate the graph uses, in slices of a few
 * ms between event-loop turns, so a worker that just started answers requests and relays
 * packets meanwhile. Why: V8 runs a WASM function on its baseline compiler (Liftoff) until it
 * has been called often enough to be recompiled by TurboFan; until then libopus is ~5-10x
 * slower (bench/README.md "codecs": ~1 ms instead of ~60 µs per 8 kHz encode+decode for the
 * first ~300 frames). A transcoding call arriving first would pay that on its 20 ms clock,
 * with late ticks for every call on the worker. Called once per worker thread.
 *
 * @param frames encode+decode pairs per rate.
 * @returns a promise of what it cost; never rejects (a failure only leaves the codec cold).
 */
export function warmUpCodecs(frames = warmUpFramesFromEnv()): Promise<WarmUpReport> {
  const start = performance.now();
  let busyMs = 0;
  let done = 0;
  if (frames <= 0) return Promise.resolve({ frames: 0, busyMs: 0, wallMs: 0 });
  return new Promise((resolve) => {
    let rateIndex = 0;
    let enc: OpusEncoder | null = null;
    let dec: OpusDecoder | null = null;
    let pcm = new Int16Array(0);
    const packet = Buffer.alloc(1500);
    const out = new Int16Array(5760);
    let seed = 0x1234567;
    let n = 0;
    const finish = (): void => {
      enc?.close();
      dec?.close();
      resolve({ frames: done, busyMs, wallMs: performance.now() - start });
    };
    const slice = (): void => {
      const t0 = performance.now();
      try {
        while (performance.now() - t0 < SLICE_MS) {
          if (enc === null) {
            const rate = WARMUP_RATES[rateIndex];
            enc = new OpusEncoder({ sampleRate: rate });
            dec = new OpusDecoder({ sampleRate: rate });
            pcm = new Int16Array(rate / 50);
            n = 0;
          }
          // Noise plus a tone: SILK and CELT both take their voiced and unvoiced paths.
          for (let i = 0; i < pcm.length; i++) {
            seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
            pcm[i] = ((seed >>> 16) & 0x1fff) - 0x1000 + Math.round(6000 * Math.sin((i + n * pcm.length) * 0.07));
          }
          const len = enc.encode(pcm, packet);
          if (len > 0) dec!.decode(packet.subarray(0, len), out);
          else dec!.conceal(out, pcm.length);
          done++;
          if (++n >= frames) {
            enc.close();
            dec!.close();
            enc = dec = null;
            if (++rateIndex === WARMUP_RATES.length) {
              busyMs += performance.now() - t0;
              finish();
              return;
            }
          }
        }
      } catch {
        busyMs += performance.now() - t0;
        finish();
        return;
      }
      busyMs += performance.now() - t0;
      setImmediate(slice);
    };
    setImmediate(slice);
  });
}

function warmUpFramesFromEnv(): number {
  const v = process.env.STROWGER_OPUS_WARMUP;
  if (v === undefined || v === '') return WARMUP_FRAMES;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? n : WARMUP_FRAMES;
}
