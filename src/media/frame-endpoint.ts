/**
 * The two seams of the media graph inside a worker. Audio moves between endpoints as 20 ms
 * frames of 16-bit mono PCM; every endpoint works at its own natural rate (8, 16 or 48 kHz) and
 * the graph resamples between them.
 *
 * - A {@link FrameSource} produces one frame per clock tick: a decoded RTP leg (jitter buffer ->
 *   decoder), a player.
 * - A {@link FrameSink} consumes the mix of the sources it hears: an RTP leg (encoder ->
 *   packetizer -> socket), a recorder.
 *
 * `connect(sink, sources)` in the graph says what a sink hears.
 */

/** Frame duration of the graph (RFC 3551 §4.2 default packetization for audio). */
export const FRAME_MS = 20;

/** Samples in one 20 ms frame at `rate` Hz. */
export function frameSamples(rate: number): number {
  return (rate / 50) | 0;
}

export interface FrameSource {
  /** PCM rate of {@link frame}. */
  readonly rate: number;
  /** The current frame (`frameSamples(rate)` samples), valid after `advance()` returned true. */
  readonly frame: Int16Array;
  /**
   * Produces the next frame; called once per clock tick, before any sink reads it.
   * @returns false when the source is silent this tick (nothing to mix).
   */
  advance(): boolean;
}

export interface FrameSink {
  /** PCM rate the sink wants. */
  readonly rate: number;
  /** Takes one mixed frame (`frameSamples(rate)` samples; silence when nothing was heard). */
  writeFrame(pcm: Int16Array): void;
}

/** PCM rate conversion of one stream (stateful: it keeps filter history between frames). */
export interface FrameResampler {
  /** Converts one 20 ms frame at the source rate into `out` (20 ms at the target rate). */
  process(input: Int16Array, out: Int16Array): void;
}
