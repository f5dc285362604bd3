/**
 * Lists the payload formats of an RTP media description as {@link Codec}s, in `m=` order
 * (which is the sender's preference order, RFC 3264 §5.1).
 */
import { parseFmtp, parseRtpmap } from './attribute-values.ts';
import { isRtpProto } from './media-proto.ts';
import { staticPayloadType } from './static-payload-types.ts';
import type { Codec, MediaDescription } from './types.ts';

/**
 * Resolves each payload type of `media`: an `a=rtpmap` wins; otherwise the RFC 3551 static
 * assignment applies. Dynamic payload types without an rtpmap cannot be interpreted and are
 * left out, as are all formats of non-RTP protos (e.g. `UDP/DTLS/SCTP`).
 *
 * @example
 * codecs(parseSdp(sippOffer).media[0]) // [{ pt: 0, name: 'PCMU', clockRate: 8000, channels: 1, fmtp: null }]
 */
export function codecs(media: MediaDescription): Codec[] {
  if (!isRtpProto(media.proto)) return [];
  const out: Codec[] = [];
  for (const format of media.formats) {
    const pt = Number(format);
    const known = rtpmapOf(media, pt) ?? staticPayloadType(pt);
    if (known === undefined) continue;
    out.push({ pt, name: known.name, clockRate: known.clockRate, channels: known.channels, fmtp: fmtpOf(media, format) });
  }
  return out;
}

/*
 * The first valid rtpmap / fmtp of a format, found by a scan of the attributes per format that
 * parses only the line that names it: no maps built per call (this runs several times per call,
 * bench/README.md, session 17). An offer has a handful of each; the SIP message size caps both.
 */
function rtpmapOf(media: MediaDescription, pt: number): { name: string; clockRate: number; channels: number } | undefined {
  for (const a of media.attributes) {
    if (a.name !== 'rtpmap' || a.value === null || leadingInt(a.value) !== pt) continue;
    const r = parseRtpmap(a.value);
    if (r !== null) return { name: r.encodingName, clockRate: r.clockRate, channels: r.channels ?? 1 };
  }
  return undefined;
}

function fmtpOf(media: MediaDescription, format: string): string | null {
  for (const a of media.attributes) {
    const v = a.value;
    if (a.name !== 'fmtp' || v === null || !v.startsWith(format) || (v.length > format.length && v.charCodeAt(format.length) !== 0x20)) continue;
    const f = parseFmtp(v);
    if (f !== null) return f.parameters;
  }
  return null;
}

/** The decimal number `value` starts with, up to its first space; -1 when that is not all digits. */
function leadingInt(value: string): number {
  let n = 0;
  let i = 0;
  for (; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x20) break;
    if (c < 0x30 || c > 0x39) return -1;
    n = n * 10 + (c - 0x30);
  }
  return i === 0 ? -1 : n;
}

/** True when `codec` is RFC 4733 telephone-event (named events, DTMF). */
export function isTelephoneEvent(codec: { name: string }): boolean {
  return codec.name.toLowerCase() === 'telephone-event';
}
