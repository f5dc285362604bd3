/**
 * The one place where a call anchors SDP (RFC 3264 offer/answer through a B2BUA): an SDP that
 * arrived on one leg sets that leg's remote media and negotiated codec, and comes back as the
 * SDP to send onwards, pointed at the other leg's media endpoint.
 *
 * Codec policy (pass-through preferred, transcoding as the fallback):
 * - an offer goes onwards with the offerer's codecs first, in its order and with its payload
 *   types, then the codecs we can transcode that it did not offer (PCMU, PCMA, G722,
 *   opus/48000/2) and one telephone-event per clock rate in use (RFC 4733 §7.1.1);
 * - wherever an Opus leg ends up transcoded to G.711, the Opus fmtp we send that leg asks for
 *   narrowband (`narrowband-opus.ts`): on the Opus we add to an offer whose first codec is G.711,
 *   and in an answer that transcodes an Opus offerer to a G.711 answerer;
 * - an answer with a codec the offerer offered: both legs carry it (pass-through, no decode);
 *   otherwise the offerer's leg uses the offerer's first codec we support (transcode), and the
 *   answer sent to the offerer names only that codec;
 * - an offer with no codec we can decode → 488 with `Warning: 305` (RFC 3261 §20.43), an offer
 *   with no audio stream at all → 488 with `Warning: 304` ("Media type not available").
 * `ptime`, `rtcp-mux` and direction attributes travel unchanged. Only the first audio stream is
 * anchored; other streams are disabled (port 0) in what we pass on (RFC 3264 §8.2), so no media
 * bypasses the relay.
 *
 * WebRTC legs (a browser over SIP/WS, `LegMedia.webrtc`) are anchored like RTP phones: what the
 * browser sends enters as the plain-RTP view of its WebRTC endpoint (`sdpFromPeer`), and what we
 * send it leaves as that endpoint's WebRTC description with the anchored codecs and direction
 * (`sdpForPeer`). ICE and DTLS-SRTP end in the endpoint; re-offers keep its session.
 */
import {
  parseSdp, serializeSdp, cloneSdp, effectiveConnection, rewriteConnection, getAttribute, parseRtcp, parsePacketTime,
  codecs, isOnHold, PLAIN_RTP_PROTOS, hasAttribute, isTelephoneEvent, negotiate, removeAttributes, SdpError, getDirection, setDirection, answerDirection,
  type Codec, type CodecCapability, type MediaDescription, type SessionDescription,
} from '../sdp/index.ts';
import type { LegId } from '../media/relay-protocol.ts';
import type { MediaEngine } from '../media/media-engine.ts';
import type { LegCodec } from '../media/leg-codec.ts';
import { SdpOrigin, type MediaTarget } from './call-sdp.ts';
import { answerSrtp, applySrtp, createLegSrtp, offerSrtp, srtpOfAnswer, srtpOfOffer, type LegSrtpState } from './anchor-srtp.ts';
import { isNarrowbandCodec, isOpus, narrowbandOpusFmtp } from './narrowband-opus.ts';
import type { WebRtcEndpoint } from '../media/webrtc/index.ts';

/** Codecs the media graph can decode and encode, in our preference order. */
export const TRANSCODABLE: readonly CodecCapability[] = [
  { name: 'PCMU', clockRate: 8000 },
  { name: 'PCMA', clockRate: 8000 },
  { name: 'G722', clockRate: 8000 },
  { name: 'opus', clockRate: 48000, channels: 2 },
];

/** Profiles we anchor: plain RTP, and SDES-SRTP whose keys `anchor-srtp.ts` accepts or refuses. */
const ANCHORED_PROTOS: readonly string[] = [...PLAIN_RTP_PROTOS, 'RTP/SAVP', 'RTP/SAVPF'];

const STATIC_PT: Record<string, number> = { 'pcmu/8000': 0, 'pcma/8000': 8, 'g722/8000': 9 };

export type { LegCodec };

/** The SDP state of one leg's media endpoint; owned by the leg, changed only by this module. */
export interface LegMedia {
  /** The media engine's endpoint: where our side of this leg's RTP lives. */
  readonly endpoint: { id: LegId; address: string; rtpPort: number };
  /** Our o= towards this leg's peer (RFC 3264 §8: one session id, version bumped per SDP). */
  readonly origin: SdpOrigin;
  /** Where the peer wants media, from its last SDP. */
  remote: MediaTarget | null;
  /** The peer's last offer: its format list and the codecs of it we support (offer order). */
  offer: { formats: readonly string[]; codecs: readonly Codec[]; supported: readonly Codec[] } | null;
  codec: LegCodec | null;
  /** The last SDP we produced for this leg's peer (a hold re-offer starts from it, RFC 3264 §8.4). */
  lastSent: string | null;
  /** SDES-SRTP policy and keys of this leg (`anchor-srtp.ts`). */
  readonly srtp: LegSrtpState;
  /** The WebRTC endpoint when this leg's peer is a browser (its `endpoint` is the endpoint's leg). */
  readonly webrtc: WebRtcEndpoint | null;
}

/** A leg's media endpoint: an engine leg, or a WebRTC endpoint's leg (`webrtc` set). */
export interface LegEndpoint { id: LegId; address: string; rtpPort: number; webrtc?: WebRtcEndpoint }

export function createLegMedia(endpoint: LegEndpoint): LegMedia {
  const { webrtc, ...info } = endpoint;
  const srtp = createLegSrtp();
  return { endpoint: info, origin: new SdpOrigin(), remote: null, offer: null, codec: null, lastSent: null, srtp, webrtc: webrtc ?? null };
}

/**
 * An SDP received from `leg`'s peer as the anchoring code reads it: a browser's WebRTC SDP is
 * given to its endpoint (ICE, DTLS) and read as the endpoint's plain-RTP view; other SDP as is.
 * @throws MediaError (488) for a WebRTC SDP the endpoint refuses.
 */
export async function sdpFromPeer(leg: LegMedia, body: Buffer | string, role: SdpRole): Promise<string> {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (!leg.webrtc) return text;
  await leg.webrtc.setRemote(text, role);
  return leg.webrtc.plainView(text);
}

/** An anchored plain SDP for `leg`'s peer as that peer gets it (WebRTC for a browser). */
export async function sdpForPeer(leg: LegMedia, plain: string, role: SdpRole): Promise<string> {
  return leg.webrtc ? leg.webrtc.localDescription(role, plain) : plain;
}

/** An offer we cannot carry: 488 with the RFC 3261 §20.43 warning that says why. */
export class AnchorError extends Error {
  readonly sipStatus = 488;
  constructor(readonly warning: 304 | 305, detail: string) {
    super(`${warning === 304 ? 'Media type not available' : 'Incompatible media format'}: ${detail}`);
    this.name = 'AnchorError';
  }

  /** `Warning` header value (RFC 3261 §20.43: warn-code SP warn-agent SP warn-text). */
  header(agent: string): string {
    return `${this.warning} ${agent} "${this.warning === 304 ? 'Media type not available' : 'Incompatible media format'}"`;
  }
}

/** What the anchoring function needs of the media engine. */
export type LegMediaEngine = Pick<MediaEngine, 'setRemote' | 'setCodec' | 'setSrtp'>;

const refuse = (detail: string): never => { throw new AnchorError(305, detail); };

/**
 * Every change of a leg's media goes through here: remote address and negotiated codec (the
 * engine then chooses pass-through or transcoding per bridge).
 */
export async function applyLegMedia(engine: LegMediaEngine, legId: LegId, remote: MediaTarget | null, codec: LegCodec | null): Promise<void> {
  await Promise.all(legMediaRequests(engine, legId, remote, codec));
}

/**
 * The requests of `applyLegMedia`, issued at once rather than each after the last one's reply:
 * the worker runs a thread's requests in the order they were made, and requests made in one
 * turn travel in one post (one wake-up of the worker instead of one per request; on the call
 * path that was ~8 posts per call). Awaiting them together keeps a failure the caller's.
 */
function legMediaRequests(engine: LegMediaEngine, legId: LegId, remote: MediaTarget | null, codec: LegCodec | null): Array<Promise<void>> {
  const out: Array<Promise<void>> = [];
  if (remote) out.push(engine.setRemote(legId, { address: remote.address, rtpPort: remote.rtpPort, rtcpPort: remote.rtcpPort, rtcpMux: remote.rtcpMux }));
  if (codec) out.push(engine.setCodec(legId, codec));
  return out;
}

export type SdpRole = 'offer' | 'answer';

/**
 * Anchors an SDP received on leg `from` (offer or answer) and returns the SDP to send to the
 * peer of leg `to`, with our media endpoint of `to` in c=/m=/a=rtcp and our o= for that peer.
 * For an answer, `to` is the leg that made the offer (its `offer` must be recorded).
 *
 * @throws SdpError (400) for a body that does not parse; AnchorError (488) for an offer we
 *   cannot carry; MediaError (488 for an unusable address or port) from the engine.
 */
export async function anchorSdp(engine: LegMediaEngine, body: Buffer | string, role: SdpRole, from: LegMedia, to: LegMedia): Promise<string> {
  const sd = parseSdp(await sdpFromPeer(from, body, role));
  const out = cloneSdp(sd);
  const index = out.media.findIndex((m) => m.type === 'audio' && m.port !== 0);
  const audio = index < 0 ? undefined : out.media[index];
  const remote = audio ? mediaTargetOf(sd, sd.media[index]) : null;
  let keys = null;
  if (role === 'offer') {
    if (!audio) {
      if (sd.media.some((m) => m.port !== 0)) throw new AnchorError(304, 'no audio stream offered');
    } else {
      const supported = supportedCodecs(sd, audio);
      from.offer = { formats: [...sd.media[index].formats], codecs: codecs(sd.media[index]), supported };
      appendTranscodable(audio, supported);
      keys = srtpOfOffer(from.srtp, sd.media[index], refuse);
      offerSrtp(to.srtp, audio, refuse);
    }
    from.remote = remote;
    await applyLegMedia(engine, from.endpoint.id, remote, null);
  } else {
    from.remote = remote;
    if (audio) {
      keys = srtpOfAnswer(from.srtp, sd.media[index], refuse);
      answerCodecs(sd, audio, from, to);
      answerSrtp(to.srtp, audio);
    }
    await Promise.all([...legMediaRequests(engine, from.endpoint.id, remote, from.codec), ...legMediaRequests(engine, to.endpoint.id, null, to.codec)]);
  }
  if (audio) await applySrtp(engine, from.endpoint.id, from.srtp, keys);
  return sdpForPeer(to, pointAt(out, to), role);
}

/**
 * Answers an offer received on `leg` ourselves, for a leg that joins media already flowing
 * (an INVITE with Replaces: there is no peer to pass the offer to). The answer names one codec:
 * `prefer` (the other party's codec: the bridge stays a zero-decode relay) when offered, else
 * the offerer's first codec we support (the bridge transcodes), with its telephone-event. An
 * Opus offerer joining a G.711 party is asked for narrowband (`narrowband-opus.ts`).
 *
 * @throws like `anchorSdp` for an offer.
 */
export async function answerOffer(engine: LegMediaEngine, body: Buffer | string, leg: LegMedia, prefer: LegCodec | null): Promise<string> {
  const sd = parseSdp(await sdpFromPeer(leg, body, 'offer'));
  const index = sd.media.findIndex((m) => m.type === 'audio' && m.port !== 0);
  if (index < 0) throw new AnchorError(304, 'no audio stream offered');
  const audio = sd.media[index];
  const supported = supportedCodecs(sd, audio);
  const all = codecs(audio);
  const pick = (prefer ? supported.find((c) => sameCodec(c, prefer)) : undefined) ?? supported[0]!;
  const keys = srtpOfOffer(leg.srtp, audio, refuse);
  leg.offer = { formats: [...audio.formats], codecs: all, supported };
  leg.remote = mediaTargetOf(sd, audio);
  leg.codec = legCodec(pick, all, audio);
  await applyLegMedia(engine, leg.endpoint.id, leg.remote, leg.codec);
  await applySrtp(engine, leg.endpoint.id, leg.srtp, keys);
  const out = cloneSdp(sd);
  const answer = out.media[index];
  const te = all.find((c) => isTelephoneEvent(c) && c.clockRate === pick.clockRate);
  keepFormats(answer, new Set([String(pick.pt), ...(te ? [String(te.pt)] : [])]));
  if (isOpus(pick) && isNarrowbandCodec(prefer)) {
    removeAttributes(answer, (a) => a.name === 'fmtp' && a.value?.split(/\s/, 1)[0] === String(pick.pt));
    answer.attributes.push({ name: 'fmtp', value: `${pick.pt} ${narrowbandOpusFmtp(pick.fmtp)}` });
  }
  setDirection(answer, answerDirection(getDirection(audio, sd)));
  answerSrtp(leg.srtp, answer);
  return sdpForPeer(leg, pointAt(out, leg), 'answer');
}

/** Where the peer of an SDP wants the first audio stream's media. */
export function mediaTargetOf(sd: SessionDescription, media: MediaDescription): MediaTarget | null {
  const conn = effectiveConnection(sd, media);
  if (!conn) return null;
  const rtcpAttr = getAttribute(media, 'rtcp');
  const rtcp = rtcpAttr ? parseRtcp(rtcpAttr) : null;
  const first = codecs(media)[0];
  return {
    address: conn.address, rtpPort: media.port, rtcpPort: rtcp?.port, rtcpMux: hasAttribute(media, 'rtcp-mux'),
    codec: first ? `${first.name}/${first.clockRate}` : null, hold: isOnHold(sd, media),
  };
}

/** The offered codecs we can decode, in the offerer's order (through `negotiate`). */
function supportedCodecs(sd: SessionDescription, audio: MediaDescription): Codec[] {
  try {
    const n = negotiate({ ...sd, media: [audio] }, [...TRANSCODABLE, ...teCapabilities()], { protos: ANCHORED_PROTOS });
    return n.media[0]?.codecs.filter((c) => !isTelephoneEvent(c)) ?? [];
  } catch (err) {
    if (err instanceof SdpError && err.code === 'SDP_ERR_NO_COMMON_CODEC') {
      throw new AnchorError(305, `offered ${codecs(audio).map((c) => `${c.name}/${c.clockRate}`).join(', ') || 'nothing'}`);
    }
    throw err;
  }
}

function teCapabilities(): CodecCapability[] {
  return [{ name: 'telephone-event', clockRate: 8000 }, { name: 'telephone-event', clockRate: 48000 }];
}

const sameCodec = (a: { name: string; clockRate: number; channels?: number }, b: { name: string; clockRate: number; channels?: number }) =>
  a.name.toLowerCase() === b.name.toLowerCase() && a.clockRate === b.clockRate && (a.channels ?? 1) === (b.channels ?? 1);

/** Adds the transcodable codecs the offerer left out, and telephone-event per clock rate. */
function appendTranscodable(audio: MediaDescription, supported: readonly Codec[]): void {
  const offered = codecs(audio);
  const used = new Set(audio.formats.map(Number));
  let next = 96;
  const freePt = (preferred: number | undefined): number => {
    if (preferred !== undefined && !used.has(preferred)) { used.add(preferred); return preferred; }
    while (used.has(next) && next < 127) next++;
    used.add(next);
    return next;
  };
  const add = (name: string, clockRate: number, channels: number, fmtp: string | null) => {
    const pt = freePt(STATIC_PT[`${name.toLowerCase()}/${clockRate}`]);
    audio.formats.push(String(pt));
    audio.attributes.push({ name: 'rtpmap', value: `${pt} ${name}/${clockRate}${channels > 1 ? `/${channels}` : ''}` });
    if (fmtp !== null) audio.attributes.push({ name: 'fmtp', value: `${pt} ${fmtp}` });
  };
  const rates = new Set(supported.map((c) => c.clockRate));
  // If the callee picks the Opus we add, the offerer's leg keeps its first codec: G.711 → narrowband.
  const narrow = isNarrowbandCodec(supported[0]);
  for (const cap of TRANSCODABLE) {
    if (offered.some((c) => sameCodec(c, cap))) continue;
    add(cap.name, cap.clockRate, cap.channels ?? 1, narrow && isOpus(cap) ? narrowbandOpusFmtp(null) : null);
    rates.add(cap.clockRate);
  }
  for (const rate of rates) {
    if (offered.some((c) => isTelephoneEvent(c) && c.clockRate === rate)) continue;
    add('telephone-event', rate, 1, '0-16');
  }
}

function legCodec(codec: Codec, all: readonly Codec[], media: MediaDescription): LegCodec {
  const te = all.find((c) => isTelephoneEvent(c) && c.clockRate === codec.clockRate);
  const ptime = getAttribute(media, 'ptime');
  const ms = typeof ptime === 'string' ? parsePacketTime(ptime) : null;
  return {
    pt: codec.pt, name: codec.name, clockRate: codec.clockRate, channels: codec.channels, fmtp: codec.fmtp,
    telephoneEventPt: te?.pt ?? null, ptime: ms ?? 20,
  };
}

/**
 * Sets both legs' codecs from an answer received on `from` to the offer made by `to`, and
 * trims the answer (mutating `audio`) to what the offerer can read.
 */
function answerCodecs(sd: SessionDescription, audio: MediaDescription, from: LegMedia, to: LegMedia): void {
  const answered = codecs(audio);
  const primary = answered.find((c) => !isTelephoneEvent(c) && c.name.toUpperCase() !== 'CN');
  from.codec = primary ? legCodec(primary, answered, audio) : null;
  const offer = to.offer;
  if (!offer || !primary) { to.codec = from.codec; return; }
  const passed = offer.codecs.find((c) => c.pt === primary.pt && sameCodec(c, primary));
  if (passed) {
    // Pass-through: the offerer reads the answer as it is, minus the codecs only we added.
    to.codec = legCodec(passed, offer.codecs, audio);
    keepFormats(audio, new Set(offer.formats.filter((f) => audio.formats.includes(f))));
    return;
  }
  // Transcode: the offerer's leg carries its first codec we support, and its answer says so.
  const mine = offer.supported[0];
  if (!mine) { to.codec = from.codec; return; }
  to.codec = legCodec(mine, offer.codecs, audio);
  const te = offer.codecs.find((c) => isTelephoneEvent(c) && c.clockRate === mine.clockRate);
  removeAttributes(audio, (a) => a.name === 'rtpmap' || a.name === 'fmtp');
  audio.formats = [];
  const narrow = isOpus(mine) && isNarrowbandCodec(from.codec);
  for (const c of te ? [mine, te] : [mine]) {
    audio.formats.push(String(c.pt));
    audio.attributes.push({ name: 'rtpmap', value: `${c.pt} ${c.name}/${c.clockRate}${c.channels > 1 ? `/${c.channels}` : ''}` });
    const fmtp = narrow && c === mine ? narrowbandOpusFmtp(c.fmtp) : c.fmtp;
    if (fmtp !== null) audio.attributes.push({ name: 'fmtp', value: `${c.pt} ${fmtp}` });
  }
  void sd;
}

/** Keeps only `formats` on the m= line, with their rtpmap and fmtp lines. */
function keepFormats(audio: MediaDescription, formats: Set<string>): void {
  audio.formats = audio.formats.filter((f) => formats.has(f));
  removeAttributes(audio, (a) => (a.name === 'rtpmap' || a.name === 'fmtp') && a.value !== null && !formats.has(a.value.split(/\s/, 1)[0] ?? ''));
}

/** c=, m= port, a=rtcp and o= pointed at our endpoint of `to`; other streams disabled. */
function pointAt(out: SessionDescription, to: LegMedia): string {
  const relay = to.endpoint;
  let anchored = false;
  const ports = out.media.map((m) => {
    if (!anchored && m.type === 'audio' && m.port !== 0) { anchored = true; return relay.rtpPort; }
    m.port = 0;
    return 0;
  });
  rewriteConnection(out, { address: relay.address, ports });
  out.origin = {
    username: 'strowger', sessionId: to.origin.sessionId, sessionVersion: to.origin.next(),
    netType: 'IN', addrType: relay.address.includes(':') ? 'IP6' : 'IP4', address: relay.address,
  };
  to.lastSent = serializeSdp(out);
  return to.lastSent;
}
