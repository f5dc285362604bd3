/**
 * Where a call to a trunk goes: the Request-URI and To of the INVITE, and the ordered targets
 * RFC 3263 gives for the trunk's host (NAPTR → SRV → A/AAAA, explicit port and transport
 * honoured), each with the trunk's TLS policy. The UAC leg tries them in order (`leg-sip-uac.ts`).
 */
import type { SipLocator } from '../sip/dns-resolve.ts';
import type { SendTarget, TlsClientPolicy } from '../sip/transport-types.ts';
import type { Trunk } from '../store/trunks.ts';

function hostPart(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** `sip:<number>@<host>[:<port>]`: the port only when configured (none: the SRV records chose). */
export function trunkRequestUri(trunk: Trunk, number: string): string {
  return `sip:${number}@${hostPart(trunk.host)}${trunk.port === null ? '' : `:${trunk.port}`}`;
}

export function trunkToUri(trunk: Trunk, number: string): string {
  return `<sip:${number}@${hostPart(trunk.host)}>`;
}

export function trunkTlsPolicy(trunk: Trunk): TlsClientPolicy {
  return { verify: trunk.tls_verify, ca: trunk.tls_ca ?? undefined, fingerprint256: trunk.tls_fingerprint ?? undefined };
}

/** Every target of the trunk, in the order to try them; throws `SipDnsError` when there is none. */
export async function trunkSendTargets(locator: SipLocator, trunk: Trunk): Promise<SendTarget[]> {
  const located = await locator.locate({ host: trunk.host, port: trunk.port ?? undefined, transport: trunk.transport ?? undefined });
  const tls = trunkTlsPolicy(trunk);
  return located.map((t) => ({ protocol: t.protocol, address: t.address, port: t.port, serverName: t.serverName, tls: t.protocol === 'tls' ? tls : undefined }));
}
