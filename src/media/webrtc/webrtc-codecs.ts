/**
 * Audio codecs of a WebRTC endpoint and the SDP edits that keep werift's view of a session and
 * the media engine's leg in agreement: payload types are the ones on the wire in both, so the
 * loopback shim between them never rewrites a packet.
 *
 * We offer Opus first (RFC 7874 §3.1 makes it mandatory for browsers), then G.711 (both laws,
 * so a G.711-only peer or a bridge to a desk phone relays without decoding), and RFC 4733
 * telephone-event at both clock rates so DTMF keeps its own payload type.
 */
import { RTCRtpCodecParameters } from 'werift';
import { codecs, getAttribute, isTelephoneEvent, parsePacketTime, parseSdp, removeAttributes, serializeSdp } from '../../sdp/index.ts';
import type { Codec, MediaDescription, SessionDescription } from '../../sdp/index.ts';
import type { LegCodec } from '../leg-codec.ts';

/** One audio codec as we configure werift with it (payload type = what our offers use). */
export interface WebRtcCodec {
  pt: number;
  name: string;
  clockRate: number;
  channels: number;
  fmtp: string | null;
}

export const WEBRTC_AUDIO_CODECS: readonly WebRtcCodec[] = [
  { pt: 111, name: 'opus', clockRate: 48000, channels: 2, fmtp: 'minptime=10;useinbandfec=1' },
  { pt: 0, name: 'PCMU', clockRate: 8000, channels: 1, fmtp: null },
  { pt: 8, name: 'PCMA', clockRate: 8000, channels: 1, fmtp: null },
  { pt: 110, name: 'telephone-event', clockRate: 48000, channels: 1, fmtp: '0-16' },
  { pt: 126, name: 'telephone-event', clockRate: 8000, channels: 1, fmtp: '0-16' },
];

/** werift's codec parameters for our list (no RTCP feedback: no TWCC/NACK for audio). */
export function weriftCodecs(list: readonly WebRtcCodec[]): RTCRtpCodecParameters[] {
  return list.map((c) => new RTCRtpCodecParameters({
    mimeType: `audio/${c.name}`, clockRate: c.clockRate, payloadType: c.pt,
    channels: c.channels > 1 ? c.channels : undefined, parameters: c.fmtp ?? undefined, rtcpFeedback: [],
  }));
}

/** Whether werift and the engine can both carry this codec. */
export function isWebRtcCodec(c: { name: string; clockRate: number }): boolean {
  return WEBRTC_AUDIO_CODECS.some((w) => w.name.toLowerCase() === c.name.toLowerCase() && w.clockRate === c.clockRate);
}

/** The first audio section that is not disabled, or null. */
export function firstAudio(sd: SessionDescription): MediaDescription | null {
  return sd.media.find((m) => m.type === 'audio' && m.port !== 0) ?? null;
}

/**
 * The leg codec an SDP's first audio section selects: its first codec that is not
 * telephone-event, with the telephone-event of the same clock rate. `fmtpFrom` is the SDP the
 * remote sent (its fmtp is what our encoder must honour, RFC 7587 §6.1). Null without audio.
 */
export function legCodecOf(sdp: string, fmtpFrom?: string): LegCodec | null {
  const audio = firstAudio(parseSdp(sdp));
  if (!audio) return null;
  const list = codecs(audio);
  const primary = list.find((c) => !isTelephoneEvent(c) && isWebRtcCodec(c));
  if (!primary) return null;
  const te = list.find((c) => isTelephoneEvent(c) && c.clockRate === primary.clockRate);
  const remoteAudio = fmtpFrom ? firstAudio(parseSdp(fmtpFrom)) : null;
  const remoteFmtp = remoteAudio ? codecs(remoteAudio).find((c) => c.pt === primary.pt)?.fmtp : undefined;
  const ptime = getAttribute(audio, 'ptime');
  return {
    pt: primary.pt, name: primary.name, clockRate: primary.clockRate, channels: primary.channels,
    fmtp: remoteFmtp ?? primary.fmtp, telephoneEventPt: te?.pt ?? null,
    ptime: (typeof ptime === 'string' ? parsePacketTime(ptime) : null) ?? 20,
  };
}

/**
 * The SDP with only `keep` payload types on its first audio m= line (in `keep`'s order), with
 * their rtpmap/fmtp/rtcp-fb lines; `keep` entries the SDP lacks are ignored.
 */
export function keepAudioFormats(sdp: string, keep: readonly number[]): string {
  const sd = parseSdp(sdp);
  const audio = firstAudio(sd);
  if (!audio) return sdp;
  const present = new Set(audio.formats);
  const formats = keep.map(String).filter((f) => present.has(f));
  const kept = new Set(formats);
  audio.formats = formats;
  removeAttributes(audio, (a) => (a.name === 'rtpmap' || a.name === 'fmtp' || a.name === 'rtcp-fb')
    && a.value !== null && !kept.has(a.value.split(/\s/, 1)[0] ?? ''));
  return serializeSdp(sd);
}

/** The audio codecs of an SDP's first audio section that werift can carry (offer order). */
export function webRtcCodecsOf(sdp: string): Codec[] {
  const audio = firstAudio(parseSdp(sdp));
  return audio ? codecs(audio).filter((c) => isWebRtcCodec(c)) : [];
}
