/**
 * Which IP family each media leg of a new call needs. The caller's leg follows the address its
 * SDP offer names (`c=IN IP6 …`), the callee's leg the address its INVITE goes to (a phone
 * registered over IPv6 gets an IPv6 `c=`); legs of different families bridge like any others.
 * Without IPv6 media configured every leg is IPv4, and an IPv6 offer is refused with 488.
 */
import { isIPv6 } from 'node:net';
import type { CallTarget } from './call-router.ts';

export type MediaFamily = 4 | 6;

/** `c=IN IP6` at session or media level: a cheap scan, the offer is parsed properly later. */
export function offerFamily(body: Buffer, fallback: MediaFamily): MediaFamily {
  if (body.length === 0) return fallback;
  const text = body.toString('latin1');
  if (/^c=IN IP6 /m.test(text)) return 6;
  if (/^c=IN IP4 /m.test(text)) return 4;
  return fallback;
}

export function targetFamily(target: CallTarget | undefined, fallback: MediaFamily): MediaFamily {
  if (target === undefined) return fallback;
  const address = target.kind === 'contact' ? target.binding.sourceIp : target.trunk.host;
  return isIPv6(address) ? 6 : 4;
}

/**
 * @param ipv6 the media engine can bind IPv6 legs
 * @param source the address the INVITE came from (the family of a late offer's caller)
 */
export function legFamilies(ipv6: boolean, body: Buffer, source: string, firstTarget: CallTarget | undefined): [MediaFamily, MediaFamily] {
  if (!ipv6) return [4, 4];
  const signalled: MediaFamily = isIPv6(source) && !source.startsWith('::ffff:') ? 6 : 4;
  return [offerFamily(body, signalled), targetFamily(firstTarget, 4)];
}
