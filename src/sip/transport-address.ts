/**
 * Address canonicalisation for connection keys. Connection reuse (RFC 3261
 * §18, RFC 5923) looks flows up by (protocol, address, port), so "::1",
 * "0:0::1", "[::1]" and an IPv4-mapped "::ffff:127.0.0.1" must produce one key.
 */
import { isIP, SocketAddress } from 'node:net';
import type { AddressFamily } from './transport-types.ts';

const MAPPED_V4_PREFIX = '::ffff:';

/**
 * Canonical text of an IP literal, or '' when `address` is not one.
 *
 * @example
 * canonicalAddress('[0:0::1]') // '::1'
 * canonicalAddress('::FFFF:10.0.0.1') // '10.0.0.1'
 * canonicalAddress('example.com') // ''
 */
export function canonicalAddress(address: string): string {
  let a = address;
  if (a.charCodeAt(0) === 0x5b /* [ */ && a.charCodeAt(a.length - 1) === 0x5d /* ] */) {
    a = a.slice(1, -1);
  }
  const kind = isIP(a);
  if (kind === 4) return a;
  if (kind !== 6) return '';
  // Inet_ntop via SocketAddress gives RFC 5952 text (lower case, longest zero run compressed).
  const text = new SocketAddress({ address: a, family: 'ipv6' }).address;
  if (text.startsWith(MAPPED_V4_PREFIX) && isIP(text.slice(MAPPED_V4_PREFIX.length)) === 4) {
    return text.slice(MAPPED_V4_PREFIX.length);
  }
  return text;
}

/**
 * Canonical form of an address Node reports for a socket: already RFC 5952,
 * so only the IPv4-mapped prefix of dual-stack sockets is stripped (cheap).
 */
export function socketAddress(address: string | undefined): string {
  if (address === undefined) return '';
  if (address.startsWith(MAPPED_V4_PREFIX) && address.indexOf('.') !== -1) {
    return address.slice(MAPPED_V4_PREFIX.length);
  }
  return address;
}

export function familyOf(canonical: string): AddressFamily {
  return canonical.indexOf(':') === -1 ? 'IPv4' : 'IPv6';
}

/** Key of the connection table's reuse index. */
export function connectionKey(protocol: string, address: string, port: number): string {
  return `${protocol}|${address}|${port}`;
}
