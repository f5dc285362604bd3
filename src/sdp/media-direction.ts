/**
 * Stream direction (RFC 3264 §5.1, §6.1) and hold detection (§8.4).
 */
import { hasLegacyNullAddress } from './media-connection.ts';
import type { MediaDescription, MediaDirection, SdpAttributeOwner, SessionDescription } from './types.ts';

const DIRECTIONS: ReadonlySet<string> = new Set(['sendrecv', 'sendonly', 'recvonly', 'inactive']);

function directionOf(owner: SdpAttributeOwner): MediaDirection | undefined {
  for (const a of owner.attributes) {
    if (a.value === null && DIRECTIONS.has(a.name)) return a.name as MediaDirection;
  }
  return undefined;
}

/**
 * The direction of a stream: its own attribute, else the session-level one (RFC 8866 §6.7:
 * a media-level attribute overrides the session-level one), else `sendrecv` (the default).
 */
export function getDirection(media: MediaDescription, session?: SessionDescription): MediaDirection {
  return directionOf(media) ?? (session === undefined ? undefined : directionOf(session)) ?? 'sendrecv';
}

/**
 * Sets the direction of one stream: replaces its direction attribute in place (or appends one).
 * Mutates `media`.
 */
export function setDirection(media: MediaDescription, direction: MediaDirection): void {
  const index = media.attributes.findIndex((a) => a.value === null && DIRECTIONS.has(a.name));
  if (index < 0) {
    media.attributes.push({ name: direction, value: null });
    return;
  }
  media.attributes[index] = { name: direction, value: null };
  media.attributes = media.attributes.filter((a, i) => i <= index || a.value !== null || !DIRECTIONS.has(a.name));
}

/**
 * True when the sender of `sd` puts this stream on hold:
 * - `a=sendonly` or `a=inactive` (RFC 3264 §8.4), or
 * - the RFC 2543 way, connection address `0.0.0.0` (RFC 3264 §8.4 asks us to still understand
 *   it), unless the stream uses ICE, where `0.0.0.0` is a mere placeholder (RFC 8839).
 */
export function isOnHold(sd: SessionDescription, media: MediaDescription): boolean {
  const direction = getDirection(media, sd);
  if (direction === 'sendonly' || direction === 'inactive') return true;
  return hasLegacyNullAddress(sd, media);
}

/**
 * The direction an answerer puts in its answer (RFC 3264 §6.1): the mirror image of the
 * offer, narrowed by what the answerer itself wants (`local`, default sendrecv).
 *
 * | offer    | answer (local sendrecv) |
 * | sendonly | recvonly                |
 * | recvonly | sendonly                |
 * | inactive | inactive                |
 * | sendrecv | sendrecv                |
 */
export function answerDirection(offer: MediaDirection, local: MediaDirection = 'sendrecv'): MediaDirection {
  const offerSends = offer === 'sendrecv' || offer === 'sendonly';
  const offerReceives = offer === 'sendrecv' || offer === 'recvonly';
  const weSend = offerReceives && (local === 'sendrecv' || local === 'sendonly');
  const weReceive = offerSends && (local === 'sendrecv' || local === 'recvonly');
  if (weSend && weReceive) return 'sendrecv';
  if (weSend) return 'sendonly';
  if (weReceive) return 'recvonly';
  return 'inactive';
}
