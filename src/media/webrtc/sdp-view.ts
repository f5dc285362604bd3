/**
 * The two SDP translations between a WebRTC peer and plain RTP, so SDP anchoring written for
 * RTP phones works unchanged on WebRTC legs:
 * - `plainView`: a peer's WebRTC SDP (ICE, DTLS, `UDP/TLS/RTP/SAVPF`) as an `RTP/AVP` SDP whose
 *   media address is the endpoint's loopback shim, with the codecs werift can carry — what the
 *   media engine's leg really talks to;
 * - `shapeLocal`: werift's own description with the codec list and direction a plain SDP chose.
 * Payload types are never renumbered (see `webrtc-codecs.ts`).
 */
import { cloneSdp, codecs, getDirection, isTelephoneEvent, parseSdp, removeAttributes, rewriteConnection, serializeSdp, setDirection } from '../../sdp/index.ts';
import { firstAudio, isWebRtcCodec, keepAudioFormats } from './webrtc-codecs.ts';

/** Attributes of ICE, DTLS, bundling and RTP extensions: they describe the WebRTC transport only. */
const TRANSPORT_ATTRIBUTES = new Set([
  'candidate', 'end-of-candidates', 'ice-ufrag', 'ice-pwd', 'ice-options', 'ice-lite', 'fingerprint', 'setup',
  'mid', 'msid', 'ssrc', 'ssrc-group', 'extmap', 'extmap-allow-mixed', 'rtcp-fb', 'rtcp', 'rtcp-rsize', 'group', 'msid-semantic',
]);

/** Whether an SDP's first audio stream is WebRTC (DTLS-SRTP profile, or a fingerprint with ICE). */
export function isWebRtcSdp(sdp: string): boolean {
  const sd = parseSdp(sdp);
  const audio = firstAudio(sd);
  if (!audio) return false;
  if (/^UDP\/TLS\/RTP\/SAVPF?$/i.test(audio.proto)) return true;
  const has = (name: string) => audio.attributes.some((a) => a.name === name) || sd.attributes.some((a) => a.name === name);
  return has('fingerprint') && has('ice-ufrag');
}

/** The peer's SDP as plain RTP at `shim` (the first audio stream; every other stream disabled). */
export function plainView(webrtcSdp: string, shim: { address: string; port: number }): string {
  const sd = cloneSdp(parseSdp(webrtcSdp));
  removeAttributes(sd, (a) => TRANSPORT_ATTRIBUTES.has(a.name));
  const audio = firstAudio(sd);
  for (const m of sd.media) {
    removeAttributes(m, (a) => TRANSPORT_ATTRIBUTES.has(a.name));
    if (m !== audio) m.port = 0;
  }
  if (audio) {
    audio.proto = 'RTP/AVP';
    const keep = codecs(audio).filter((c) => isWebRtcCodec(c) || isTelephoneEvent(c)).map((c) => String(c.pt));
    const kept = new Set(keep);
    audio.formats = audio.formats.filter((f) => kept.has(f));
    removeAttributes(audio, (a) => (a.name === 'rtpmap' || a.name === 'fmtp') && a.value !== null && !kept.has(a.value.split(/\s/, 1)[0] ?? ''));
    audio.attributes.push({ name: 'rtcp-mux', value: null });
  }
  rewriteConnection(sd, { address: shim.address, ports: sd.media.map((m) => (m === audio ? shim.port : 0)) });
  return serializeSdp(sd);
}

/**
 * werift's `local` description carrying `plain`'s audio payload types (in its order) and
 * direction. Payload types werift did not negotiate are left out.
 */
export function shapeLocal(local: string, plain: string): string {
  const audio = firstAudio(parseSdp(plain));
  if (!audio) return local;
  const trimmed = parseSdp(keepAudioFormats(local, audio.formats.map(Number)));
  const mine = firstAudio(trimmed);
  if (mine) setDirection(mine, getDirection(audio, parseSdp(plain)));
  return serializeSdp(trimmed);
}
