/**
 * The codecs the media graph can decode and encode, in our preference order, and their SDP
 * capabilities for `src/sdp/negotiate.ts`. Preference: Opus (wideband+, FEC), G.722
 * (wideband, cheap), then G.711 µ-law and A-law (universal). Offer/answer still keeps the
 * caller's order when it answers; this order is used when we offer.
 */
import type { CodecCapability } from '../../sdp/negotiate.ts';
import { PCMA, PCMU } from './g711.ts';
import { G722 } from './g722.ts';
import { OPUS } from './opus.ts';
import type { AudioCodec } from './types.ts';

/** Audio codecs we transcode, most preferred first. */
export const SUPPORTED_CODECS: readonly AudioCodec[] = [OPUS, G722, PCMU, PCMA];

/** fmtp we put on our Opus payload type: what we, as receiver, want (RFC 7587 §6.1). */
export const OPUS_FMTP = 'minptime=10;useinbandfec=1';

/** RFC 4733 §2.4.1 events 0–15 (DTMF) and 16 (flash). */
export const TELEPHONE_EVENT_FMTP = '0-16';

/**
 * Finds a codec by SDP encoding name (case-insensitive, RFC 4855 §3), clock rate and, when
 * given, channel count. `findCodec('opus', 48000, 2)` and `findCodec('g722', 8000)` match.
 * @returns the codec, or null when we cannot transcode it (the caller may still relay it).
 */
export function findCodec(name: string, clockRate: number, channels?: number): AudioCodec | null {
  const lower = name.toLowerCase();
  for (const codec of SUPPORTED_CODECS) {
    const info = codec.info;
    if (info.name.toLowerCase() === lower && info.clockRate === clockRate && (channels === undefined || info.channels === channels)) {
      return codec;
    }
  }
  return null;
}

/**
 * Capabilities for `negotiate` / `createAnswer`, in preference order: every codec of
 * {@link SUPPORTED_CODECS}, then `telephone-event` at 48000 (for Opus legs) and 8000 Hz
 * (RFC 4733: its clock follows the audio codec's), fmtp `0-16`.
 */
export function codecCapabilities(): CodecCapability[] {
  const caps: CodecCapability[] = SUPPORTED_CODECS.map((c) => ({
    name: c.info.name,
    clockRate: c.info.clockRate,
    channels: c.info.channels,
    fmtp: c === OPUS ? OPUS_FMTP : null,
  }));
  caps.push(
    { name: 'telephone-event', clockRate: 48000, channels: 1, fmtp: TELEPHONE_EVENT_FMTP },
    { name: 'telephone-event', clockRate: 8000, channels: 1, fmtp: TELEPHONE_EVENT_FMTP },
  );
  return caps;
}
