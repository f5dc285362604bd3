/**
 * What the media engine checks and derives from its options and a leg's remote: the address
 * it advertises when bound to a wildcard, and the remote's RTP/RTCP target as a socket of the
 * leg's family can reach it.
 */
import { isIP } from 'node:net';
import os from 'node:os';
import { MediaError } from './errors.ts';
import type { RemoteTarget } from './relay-protocol.ts';
import type { MediaEngineOptions, RemoteOptions } from './media-engine-types.ts';

/** `value` when it is a positive finite number. @throws MediaError `MEDIA_ERR_BAD_OPTION`. */
export function positiveOption(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new MediaError('MEDIA_ERR_BAD_OPTION', { detail: `${name} = ${value}` });
  return value;
}

export interface EngineAddresses {
  bindAddress: string;
  /** The engine's own family is IPv6 (bound to an IPv6 address). */
  ipv6: boolean;
  advertisedAddress: string;
  /** Local address of IPv6 legs on an IPv4 engine, null when there are none. */
  bindAddress6: string | null;
  advertisedAddress6: string | null;
}

/**
 * The engine's addresses from its options: an IPv4 engine on loopback or the wildcard also
 * binds IPv6 legs to the matching IPv6 address unless told otherwise.
 * @throws MediaError `MEDIA_ERR_BAD_OPTION` (an address that is not an IP literal of its family).
 */
export function engineAddresses(options: Pick<MediaEngineOptions, 'bindAddress' | 'advertisedAddress' | 'bindAddress6' | 'advertisedAddress6'>): EngineAddresses {
  const bindAddress = options.bindAddress ?? '0.0.0.0';
  const family = isIP(bindAddress);
  if (family === 0) throw new MediaError('MEDIA_ERR_BAD_OPTION', { detail: `bindAddress "${bindAddress}" is not an IP literal` });
  const ipv6 = family === 6;
  let bind6 = options.bindAddress6 ?? null;
  if (bind6 === null && !ipv6) bind6 = bindAddress === '127.0.0.1' ? '::1' : bindAddress === '0.0.0.0' ? '::' : null;
  if (bind6 !== null && isIP(bind6) !== 6) throw new MediaError('MEDIA_ERR_BAD_OPTION', { detail: `bindAddress6 "${bind6}" is not an IPv6 literal` });
  return {
    bindAddress, ipv6,
    advertisedAddress: options.advertisedAddress ?? defaultAdvertisedAddress(bindAddress, ipv6),
    bindAddress6: ipv6 ? null : bind6,
    advertisedAddress6: ipv6 ? null : options.advertisedAddress6 ?? (bind6 === null ? null : defaultAdvertisedAddress(bind6, true)),
  };
}

/** The bind address, or for a wildcard the first external address of that family (loopback when there is none). */
function defaultAdvertisedAddress(bindAddress: string, ipv6: boolean): string {
  if (bindAddress !== '0.0.0.0' && bindAddress !== '::') return bindAddress;
  const family = ipv6 ? 'IPv6' : 'IPv4';
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const a of addresses ?? []) if (!a.internal && a.family === family) return a.address;
  }
  return ipv6 ? '::1' : '127.0.0.1';
}

/**
 * The target a leg with `udp6` sockets (else udp4) sends to.
 * @throws MediaError `MEDIA_ERR_BAD_ADDRESS` (not an IP literal, or IPv6 for udp4), `MEDIA_ERR_BAD_PORT`.
 */
export function remoteTarget(remote: RemoteOptions, udp6: boolean): RemoteTarget {
  const family = isIP(remote.address);
  let address = remote.address;
  if (family === 0 || (family === 6 && !udp6)) {
    throw new MediaError('MEDIA_ERR_BAD_ADDRESS', { detail: `"${remote.address}" for ${udp6 ? 'udp6' : 'udp4'} sockets` });
  }
  // A udp6 socket reaches IPv4 peers through IPv4-mapped addresses (RFC 4291 §2.5.5.2).
  if (family === 4 && udp6) address = `::ffff:${address}`;
  const rtcpMux = remote.rtcpMux ?? remote.rtcpPort === remote.rtpPort;
  const rtcpPort = remote.rtcpPort ?? (rtcpMux ? remote.rtpPort : remote.rtpPort + 1);
  for (const p of [remote.rtpPort, rtcpPort]) {
    // Port 0 means a rejected stream (RFC 3264 §6): the caller must not relay it at all.
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw new MediaError('MEDIA_ERR_BAD_PORT', { detail: `got ${p}` });
  }
  return { address, rtpPort: remote.rtpPort, rtcpPort, rtcpMux };
}
