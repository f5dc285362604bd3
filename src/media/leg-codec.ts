/**
 * What was negotiated on one RTP leg (its SDP answer): the audio payload type we send to the leg
 * and accept from it, and the RFC 4733 `telephone-event` payload type if any. A leg without
 * settings is pass-through only: it forwards whatever arrives and cannot be decoded.
 */

/** Negotiated audio of a leg, as set by `engine.setCodec`. */
export interface LegCodec {
  /** RTP payload type of the audio codec on this leg (static or dynamic). */
  pt: number;
  /** Encoding name as in the rtpmap (`PCMU`, `PCMA`, `G722`, `opus`); compared case-insensitively. */
  name: string;
  /** RTP clock rate of the rtpmap (G.722: 8000, RFC 3551 §4.5.2). */
  clockRate: number;
  channels: number;
  /** `a=fmtp` of the audio payload type, or null. */
  fmtp: string | null;
  /** Payload type of `telephone-event` (RFC 4733 §7.1.1), or null when not negotiated. */
  telephoneEventPt: number | null;
  /** `a=ptime` in ms (we send 20 ms frames whatever it says; kept for stats and later use). */
  ptime: number;
}

/**
 * Whether audio from `source` may go to `sink` untouched (zero-decode relay, only the PT byte
 * rewritten). Same codec = same encoding name and clock rate, or neither leg has settings
 * (legacy pass-through). DTMF must survive too: a source that negotiated telephone-event can
 * only be relayed to a sink that negotiated it as well; otherwise that direction is decoded so
 * its digits can be regenerated as tones (cheap for G.711, and rare: we offer telephone-event to
 * every callee).
 */
export function canPassThrough(source: LegCodec | null, sink: LegCodec | null): boolean {
  if (source === null || sink === null) return source === sink;
  if (source.clockRate !== sink.clockRate || source.name.toLowerCase() !== sink.name.toLowerCase()) return false;
  return source.telephoneEventPt === null || sink.telephoneEventPt !== null;
}

/** RTP clock ticks per 20 ms frame of this codec (G.722: 160 at its nominal 8000 Hz clock). */
export function ticksPerFrame(codec: LegCodec): number {
  return (codec.clockRate / 50) | 0;
}

/** Throws a TypeError naming the first invalid field; the engine turns it into MEDIA_ERR_BAD_OPTION. */
export function validateLegCodec(c: LegCodec): void {
  const pt = (v: number): boolean => Number.isInteger(v) && v >= 0 && v <= 127;
  if (!pt(c.pt)) throw new TypeError(`pt = ${c.pt}`);
  if (typeof c.name !== 'string' || c.name.length === 0) throw new TypeError(`name = "${c.name}"`);
  if (!Number.isInteger(c.clockRate) || c.clockRate <= 0) throw new TypeError(`clockRate = ${c.clockRate}`);
  if (c.telephoneEventPt !== null && (!pt(c.telephoneEventPt) || c.telephoneEventPt === c.pt)) {
    throw new TypeError(`telephoneEventPt = ${c.telephoneEventPt}`);
  }
  if (!Number.isFinite(c.ptime) || c.ptime <= 0) throw new TypeError(`ptime = ${c.ptime}`);
}
