/**
 * Builds an RFC 3264 §6 answer from an offer and our capabilities.
 */
import { getAttribute } from './attribute-access.ts';
import { SdpError } from './errors.ts';
import { addrTypeOf } from './media-connection.ts';
import { answerDirection, getDirection } from './media-direction.ts';
import { negotiate } from './negotiate.ts';
import type { CodecCapability, Negotiation, NegotiateOptions } from './negotiate.ts';
import type { MediaDescription, MediaDirection, SdpTiming, SessionDescription } from './types.ts';

/** Seconds between the NTP epoch (1900) and the Unix epoch (1970). */
const NTP_UNIX_OFFSET = 2208988800;

export interface CreateAnswerOptions extends NegotiateOptions {
  /** Our media address; `c=` and `o=` use it (IP4 or IP6 follows from the text). */
  address: string;
  /** Our RTP port per offered m= line; ignored for rejected streams. */
  ports: readonly number[];
  /** Codecs we can handle, in our preference order. */
  codecs: readonly CodecCapability[];
  /** Direction we want (default sendrecv); the answer mirrors the offer within it (§6.1). */
  direction?: MediaDirection;
  /** Adds `a=ptime:<ms>` to accepted streams (RFC 8866 §6.4). */
  ptime?: number;
  /** Answer `a=rtcp-mux` (RFC 5761 §5.1.1) when the offer has it. Default false. */
  rtcpMux?: boolean;
  /** `o=` fields; defaults: username `-`, session id and version from the clock (RFC 8866 §5.2). */
  origin?: { username?: string; sessionId?: string; sessionVersion?: string };
  /** `s=`; default `-`. */
  sessionName?: string;
  /** Clock for the default session id, in ms since the Unix epoch. Default `Date.now`. */
  now?: () => number;
}

export interface Answer {
  sdp: SessionDescription;
  negotiation: Negotiation;
}

/**
 * Answers `offer`: one m= line per offered one (§6), the offerer's payload type numbers, our
 * address and ports, rejected streams with port 0, `t=` copied from the offer (§6: the answer's
 * t= MUST equal the offer's), `a=mid` echoed (RFC 5888 §9.1).
 *
 * @example
 * const { sdp } = createAnswer(offer, { address: '192.0.2.10', ports: [20000], codecs: [{ name: 'PCMU', clockRate: 8000 }] });
 * serializeSdp(sdp);
 * @throws SdpError `SDP_ERR_NO_COMMON_CODEC` (488) or `SDP_ERR_PORT_COUNT`.
 */
export function createAnswer(offer: SessionDescription, options: CreateAnswerOptions): Answer {
  if (options.ports.length !== offer.media.length) {
    throw new SdpError('SDP_ERR_PORT_COUNT', { detail: `got ${options.ports.length}, need ${offer.media.length}` });
  }
  const negotiation = negotiate(offer, options.codecs, options);
  const addrType = addrTypeOf(options.address);
  const seconds = String(Math.floor((options.now ?? Date.now)() / 1000) + NTP_UNIX_OFFSET);
  const timings: SdpTiming[] =
    offer.timings.length > 0
      ? offer.timings.map((t) => ({ start: t.start, stop: t.stop, repeats: [...t.repeats] }))
      : [{ start: 0, stop: 0, repeats: [] }];

  const sdp: SessionDescription = {
    version: 0,
    origin: {
      username: options.origin?.username ?? '-',
      sessionId: options.origin?.sessionId ?? seconds,
      sessionVersion: options.origin?.sessionVersion ?? seconds,
      netType: 'IN',
      addrType,
      address: options.address,
    },
    sessionName: options.sessionName ?? '-',
    info: null,
    uri: null,
    emails: [],
    phones: [],
    connection: { netType: 'IN', addrType, address: options.address },
    bandwidths: [],
    timings,
    timeZones: null,
    key: null,
    attributes: [],
    extra: [],
    media: [],
  };

  for (const result of negotiation.media) {
    const offered = offer.media[result.index];
    const m: MediaDescription = {
      type: offered.type,
      port: result.accepted ? options.ports[result.index] : 0,
      portCount: null,
      proto: offered.proto,
      // A rejected stream keeps the offered formats: SDP needs at least one and §6 says they are ignored.
      formats: result.accepted ? result.codecs.map((c) => String(c.pt)) : [...offered.formats],
      title: null,
      connections: [],
      bandwidths: [],
      key: null,
      attributes: [],
      extra: [],
    };
    const mid = getAttribute(offered, 'mid');
    if (result.accepted) {
      for (const c of result.codecs) {
        const channels = c.channels > 1 ? `/${c.channels}` : '';
        m.attributes.push({ name: 'rtpmap', value: `${c.pt} ${c.name}/${c.clockRate}${channels}` });
        if (c.fmtp !== null) m.attributes.push({ name: 'fmtp', value: `${c.pt} ${c.fmtp}` });
      }
      if (options.ptime !== undefined) m.attributes.push({ name: 'ptime', value: String(options.ptime) });
      m.attributes.push({ name: answerDirection(getDirection(offered, offer), options.direction), value: null });
      if (options.rtcpMux === true && getAttribute(offered, 'rtcp-mux') === null) {
        m.attributes.push({ name: 'rtcp-mux', value: null });
      }
    }
    if (typeof mid === 'string') m.attributes.push({ name: 'mid', value: mid });
    sdp.media.push(m);
  }
  return { sdp, negotiation };
}
