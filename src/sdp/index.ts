/**
 * SDP layer: parse/serialize (RFC 8866), offer/answer and codec negotiation (RFC 3264),
 * static payload types (RFC 3551), telephone-event (RFC 4733). Depends on nothing of ours.
 */
export { parseSdp } from './parse-sdp.ts';
export { serializeSdp } from './serialize-sdp.ts';
export { cloneSdp, cloneMedia } from './clone-sdp.ts';
export { SdpError, SDP_ERRORS } from './errors.ts';
export type { SdpErrorCode, SdpErrorOptions } from './errors.ts';
export { getAttribute, getAttributes, hasAttribute, addAttribute, setAttribute, removeAttributes } from './attribute-access.ts';
export {
  parseRtpmap,
  parseFmtp,
  parseFmtpParameters,
  parsePacketTime,
  parseRtcp,
  formatRtcp,
  parseCrypto,
  parseFingerprint,
} from './attribute-values.ts';
export type { Rtpmap, Fmtp, RtcpAttribute, CryptoAttribute, FingerprintAttribute } from './attribute-values.ts';
export { codecs, isTelephoneEvent } from './codec-list.ts';
export { staticPayloadType, findStaticPayloadType } from './static-payload-types.ts';
export type { StaticPayloadType } from './static-payload-types.ts';
export { isRtpProto, PLAIN_RTP_PROTOS } from './media-proto.ts';
export { getDirection, setDirection, isOnHold, answerDirection } from './media-direction.ts';
export {
  rewriteConnection,
  bumpVersion,
  effectiveConnection,
  isNullAddress,
  hasLegacyNullAddress,
  usesIce,
  addrTypeOf,
} from './media-connection.ts';
export type { RewriteConnectionOptions } from './media-connection.ts';
export { negotiate } from './negotiate.ts';
export type { CodecCapability, NegotiateOptions, NegotiatedMedia, NegotiatedOutcome, Negotiation } from './negotiate.ts';
export { createAnswer } from './create-answer.ts';
export type { CreateAnswerOptions, Answer } from './create-answer.ts';
export type {
  SessionDescription,
  MediaDescription,
  MediaDirection,
  Codec,
  SdpOrigin,
  SdpConnection,
  SdpBandwidth,
  SdpTiming,
  SdpAttribute,
  SdpAttributeOwner,
  SdpLine,
} from './types.ts';
