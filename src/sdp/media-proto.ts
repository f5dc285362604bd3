/**
 * Transport protocols of `m=` lines (RFC 8866 §5.14, RFC 3551, RFC 3711, RFC 5764, RFC 8843).
 */

/** True for the RTP profiles (RTP/AVP, RTP/SAVPF, UDP/TLS/RTP/SAVPF...), whose formats are payload types. */
export function isRtpProto(proto: string): boolean {
  return proto.startsWith('RTP/') || proto.includes('/RTP/');
}

/** The plain RTP profiles a B2BUA can relay without SRTP: RTP/AVP (RFC 3551) and RTP/AVPF (RFC 4585). */
export const PLAIN_RTP_PROTOS: readonly string[] = ['RTP/AVP', 'RTP/AVPF'];
