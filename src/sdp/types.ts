/**
 * The SDP data model (RFC 8866, which obsoletes RFC 4566).
 *
 * Fields we act on are typed; everything else is kept verbatim so that
 * `serializeSdp(parseSdp(text)) === text` for any valid description (fields in RFC 8866 §5
 * order, CRLF line ends). Attributes stay one ordered list per section: their order carries
 * meaning (ICE candidates, crypto tags) and must survive a B2BUA rewrite.
 *
 * Session section order (RFC 8866 §5):      Media section order (§5):
 *   v= o= s= i=? u=? e=* p=* c=? b=*           m= i=? c=* b=* k=? a=*
 *   (t= r=*)+ z=? k=? a=* m=*
 */

/** `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>` (§5.2). */
export interface SdpOrigin {
  username: string;
  /** Kept as text: numeric but may exceed 2^53 (NTP-based values are common). */
  sessionId: string;
  /** Kept as text; see `bumpVersion` for the RFC 3264 §8 increment. */
  sessionVersion: string;
  netType: string;
  addrType: string;
  address: string;
}

/** `c=<nettype> <addrtype> <connection-address>` (§5.7). Multicast suffixes stay in `address`. */
export interface SdpConnection {
  netType: string;
  addrType: string;
  address: string;
}

/** `b=<bwtype>:<bandwidth>` (§5.8), e.g. `AS:64`, `TIAS:64000`. */
export interface SdpBandwidth {
  type: string;
  value: number;
}

/** `t=<start-time> <stop-time>` (§5.9) with its `r=` lines (§5.10) kept verbatim. */
export interface SdpTiming {
  start: number;
  stop: number;
  repeats: string[];
}

/**
 * `a=<name>` (property, `value === null`) or `a=<name>:<value>` (§5.13).
 * `a=foo:` keeps `value === ''` so it serializes back unchanged.
 */
export interface SdpAttribute {
  name: string;
  value: string | null;
}

/** A line kept verbatim: a type letter we do not model (e.g. future or vendor letters). */
export interface SdpLine {
  type: string;
  value: string;
}

/** Anything that owns an attribute list: a session or a media description. */
export interface SdpAttributeOwner {
  attributes: SdpAttribute[];
}

/** `m=<media> <port>[/<number of ports>] <proto> <fmt> ...` and its section (§5.14). */
export interface MediaDescription extends SdpAttributeOwner {
  /** `audio`, `video`, `text`, `application`, `message`, or an unknown token. */
  type: string;
  /** 0 means the stream is rejected/disabled (RFC 3264 §6, §8.2). */
  port: number;
  /** The `/<number of ports>` suffix, or null when absent. */
  portCount: number | null;
  /** `RTP/AVP`, `RTP/SAVP`, `UDP/TLS/RTP/SAVPF`, `UDP/DTLS/SCTP`, ... */
  proto: string;
  /** Payload type numbers for RTP protos, other tokens otherwise; kept as text in offer order. */
  formats: string[];
  /** `i=` media title. */
  title: string | null;
  /** `c=` lines of this section; empty means the session-level connection applies. */
  connections: SdpConnection[];
  bandwidths: SdpBandwidth[];
  /** `k=` (obsolete in RFC 8866 but still parsed). */
  key: string | null;
  /** Lines with a type letter we do not model, in their original order. */
  extra: SdpLine[];
}

/** A whole session description. */
export interface SessionDescription extends SdpAttributeOwner {
  /** `v=`; always 0 (§5.1). */
  version: number;
  origin: SdpOrigin;
  /** `s=`; `-` when the sender has no name (RFC 3264 §5). */
  sessionName: string;
  info: string | null;
  uri: string | null;
  emails: string[];
  phones: string[];
  connection: SdpConnection | null;
  bandwidths: SdpBandwidth[];
  timings: SdpTiming[];
  /** `z=` kept verbatim. */
  timeZones: string | null;
  key: string | null;
  extra: SdpLine[];
  media: MediaDescription[];
}

/** RFC 3264 §5.1 stream direction attributes. */
export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/**
 * A payload format of an RTP media description, with static payload types (RFC 3551 §6)
 * resolved when no `a=rtpmap` names them.
 */
export interface Codec {
  /** Payload type number, 0..127. */
  pt: number;
  /** Encoding name as written in the SDP (`PCMU`, `opus`, `telephone-event`). */
  name: string;
  /** RTP clock rate in Hz (8000 for G.722, per RFC 3551 §4.5.2). */
  clockRate: number;
  /** Audio channels; 1 when the rtpmap omits it. */
  channels: number;
  /** `a=fmtp` parameters for this payload type, or null. */
  fmtp: string | null;
}
