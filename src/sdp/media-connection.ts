/**
 * Connection data rewriting for a B2BUA that anchors media (RFC 8866 §5.7, RFC 3605 `a=rtcp`)
 * and the origin version bump of re-offers (RFC 3264 §8).
 */
import { formatRtcp, parseRtcp } from './attribute-values.ts';
import { SdpError } from './errors.ts';
import type { MediaDescription, SdpConnection, SessionDescription } from './types.ts';

/** `IP6` when the address contains a colon, else `IP4`. */
export function addrTypeOf(address: string): 'IP4' | 'IP6' {
  return address.includes(':') ? 'IP6' : 'IP4';
}

/** The RFC 2543 hold / "address not known yet" address (RFC 3264 §8.4) in IPv4 or IPv6 form. */
export function isNullAddress(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || address.startsWith('0.0.0.0/');
}

/**
 * True when the stream uses ICE (RFC 8839): then `c=` carries only a default candidate and
 * `0.0.0.0` (with port 9, §4.2.1 of RFC 8840) means "see the candidates", not hold.
 */
export function usesIce(sd: SessionDescription, media: MediaDescription): boolean {
  return media.attributes.some((a) => a.name === 'ice-ufrag') || sd.attributes.some((a) => a.name === 'ice-ufrag');
}

/**
 * True when `media` is held or parked the RFC 2543 way: effective connection address
 * `0.0.0.0` without ICE (RFC 3264 §8.4).
 */
export function hasLegacyNullAddress(sd: SessionDescription, media: MediaDescription): boolean {
  const c = effectiveConnection(sd, media);
  return c !== null && isNullAddress(c.address) && !usesIce(sd, media);
}

/** The connection that applies to `media`: its own first `c=`, else the session one. */
export function effectiveConnection(sd: SessionDescription, media: MediaDescription): SdpConnection | null {
  return media.connections[0] ?? sd.connection;
}

export interface RewriteConnectionOptions {
  /** Our media address (IPv4 or IPv6); `addrtype` follows from it. */
  address: string;
  /** New RTP port per m= line, in order; ignored for rejected (port 0) streams. */
  ports: readonly number[];
}

/**
 * Points every stream of `sd` at our relay: rewrites `c=` (session and media level, RFC 8866
 * §5.7), each `m=` port, and each `a=rtcp` (RFC 3605) keeping its offset from the RTP port
 * (so RTCP on port+1 stays port+1 and a muxed `a=rtcp` equal to the RTP port stays equal).
 * Mutates `sd`.
 *
 * Kept as they are, on purpose:
 * - streams with port 0: a rejected stream must stay rejected (RFC 3264 §8.2);
 * - the null address `0.0.0.0` of a stream without ICE: it means hold or "address unknown"
 *   (RFC 3264 §8.4), a meaning the far side must still see. With ICE it is only a
 *   placeholder (RFC 8839) and is rewritten like any address;
 * - the `o=` line: its address names the session creator; see {@link bumpVersion}.
 *
 * @throws SdpError `SDP_ERR_PORT_COUNT` when `ports.length !== sd.media.length`.
 */
export function rewriteConnection(sd: SessionDescription, options: RewriteConnectionOptions): void {
  const { address, ports } = options;
  if (ports.length !== sd.media.length) {
    throw new SdpError('SDP_ERR_PORT_COUNT', { detail: `got ${ports.length}, need ${sd.media.length}` });
  }
  const addrType = addrTypeOf(address);
  const ours: SdpConnection = { netType: 'IN', addrType, address };
  // Session-level c= is kept only if every enabled stream relying on it is a legacy hold.
  const sessionIsLegacyHold =
    sd.connection !== null &&
    isNullAddress(sd.connection.address) &&
    sd.media.every((m) => m.port === 0 || m.connections.length > 0 || !usesIce(sd, m));
  if (sd.connection !== null && !sessionIsLegacyHold) sd.connection = { ...ours };

  for (let i = 0; i < sd.media.length; i++) {
    const m = sd.media[i];
    if (m.port === 0) continue;
    const keepNull = !usesIce(sd, m);
    const rewrite = (c: SdpConnection): SdpConnection => (keepNull && isNullAddress(c.address) ? c : { ...ours });
    const oldPort = m.port;
    m.port = ports[i];
    m.connections = m.connections.map(rewrite);
    for (let k = 0; k < m.attributes.length; k++) {
      const a = m.attributes[k];
      if (a.name !== 'rtcp' || a.value === null) continue;
      const rtcp = parseRtcp(a.value);
      if (rtcp === null) continue;
      const port = Math.min(65535, Math.max(0, ports[i] + (rtcp.port - oldPort)));
      const connection = rtcp.connection === null ? null : rewrite(rtcp.connection);
      m.attributes[k] = { name: 'rtcp', value: formatRtcp({ port, connection }) };
    }
  }
}

/**
 * Increments the `o=` session version by one, as RFC 3264 §8 requires for every modified
 * offer or answer in a session (re-INVITE, UPDATE). Uses BigInt: versions are often NTP-sized.
 * Mutates `sd`.
 */
export function bumpVersion(sd: SessionDescription): void {
  sd.origin.sessionVersion = (BigInt(sd.origin.sessionVersion) + 1n).toString();
}
