/**
 * The SDP of a hold or resume re-offer we originate (RFC 3264 §8.4): the last SDP we sent to
 * that party, with the direction of its audio stream changed and the o= version bumped by one
 * (§8: "the version MUST be one greater than the previous"). The audio stream is narrowed to
 * the codec the leg already carries (and its telephone-event), so the answer cannot move the
 * leg to another codec behind the bridge's back.
 */
import { parseSdp, serializeSdp, setDirection, removeAttributes, type MediaDirection } from '../sdp/index.ts';
import type { LegMedia } from './anchor-sdp.ts';

/**
 * The re-offer for `media`'s peer with `direction` on its first audio stream; null when we
 * never sent that peer an SDP. Does not change `media`: the caller records the body as sent
 * once the peer accepted it (a rejected offer changes nothing but the o= counter).
 */
export function holdReoffer(media: LegMedia, direction: Extract<MediaDirection, 'sendonly' | 'sendrecv'>): string | null {
  if (media.lastSent === null) return null;
  const sd = parseSdp(media.lastSent);
  // A session-level direction would apply to every stream (RFC 4566 §6): the media level decides.
  removeAttributes(sd, (a) => a.value === null && (a.name === 'sendrecv' || a.name === 'sendonly' || a.name === 'recvonly' || a.name === 'inactive'));
  const audio = sd.media.find((m) => m.type === 'audio' && m.port !== 0);
  if (audio) {
    setDirection(audio, direction);
    const codec = media.codec;
    if (codec) {
      const keep = new Set([String(codec.pt), ...(codec.telephoneEventPt === null ? [] : [String(codec.telephoneEventPt)])]);
      if (audio.formats.some((f) => keep.has(f))) {
        audio.formats = audio.formats.filter((f) => keep.has(f));
        removeAttributes(audio, (a) => (a.name === 'rtpmap' || a.name === 'fmtp') && a.value !== null && !keep.has(a.value.split(/\s/, 1)[0] ?? ''));
      }
    }
  }
  sd.origin = { ...sd.origin, sessionVersion: media.origin.next() };
  return serializeSdp(sd);
}
