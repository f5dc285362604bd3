/**
 * Deep copy of a description, so a B2BUA can rewrite the offer of one leg for the other
 * without touching the original (the mutating helpers change their argument).
 */
import type { MediaDescription, SessionDescription } from './types.ts';

export function cloneSdp(sd: SessionDescription): SessionDescription {
  return {
    ...sd,
    origin: { ...sd.origin },
    emails: [...sd.emails],
    phones: [...sd.phones],
    connection: sd.connection === null ? null : { ...sd.connection },
    bandwidths: sd.bandwidths.map((b) => ({ ...b })),
    timings: sd.timings.map((t) => ({ ...t, repeats: [...t.repeats] })),
    attributes: sd.attributes.map((a) => ({ ...a })),
    extra: sd.extra.map((l) => ({ ...l })),
    media: sd.media.map(cloneMedia),
  };
}

export function cloneMedia(m: MediaDescription): MediaDescription {
  return {
    ...m,
    formats: [...m.formats],
    connections: m.connections.map((c) => ({ ...c })),
    bandwidths: m.bandwidths.map((b) => ({ ...b })),
    attributes: m.attributes.map((a) => ({ ...a })),
    extra: m.extra.map((l) => ({ ...l })),
  };
}
