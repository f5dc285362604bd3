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
  const rtpmaps = new Map<number, { name: string; clockRate: number; channels: number }>();
  const fmtps = new Map<string, string>();
  for (const a of media.attributes) {
    if (a.value === null) continue;
    if (a.name === 'rtpmap') {
      const r = parseRtpmap(a.value);
      if (r !== null && !rtpmaps.has(r.payloadType)) {
        rtpmaps.set(r.payloadType, { name: r.encodingName, clockRate: r.clockRate, channels: r.channels ?? 1 });
      }
    } else if (a.name === 'fmtp') {
      const f = parseFmtp(a.value);
      if (f !== null && !fmtps.has(f.format)) fmtps.set(f.format, f.parameters);
    }
  }
  const out: Codec[] = [];
  for (const format of media.formats) {
    const pt = Number(format);
    const known = rtpmaps.get(pt) ?? staticPayloadType(pt);
    if (known === undefined) continue;
    out.push({ pt, name: known.name, clockRate: known.clockRate, channels: known.channels, fmtp: fmtps.get(format) ?? null });
  }
  return out;
}

/** True when `codec` is RFC 4733 telephone-event (named events, DTMF). */
export function isTelephoneEvent(codec: { name: string }): boolean {
  return codec.name.toLowerCase() === 'telephone-event';
}
