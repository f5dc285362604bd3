/**
 * The INVITE of a leg we place without a caller's INVITE to copy from (a transfer target, a
 * PBX-originated call): towards a routed target (a device's contact or a trunk) or straight
 * to a SIP URI, optionally through an outbound proxy (a loose-routing `Route`, RFC 3261 §8.1.2).
 */
import { addressFamily } from '../sip/endpoint.ts';
import type { SipMessage } from '../sip/message.ts';
import type { SendTarget } from '../sip/transport-types.ts';
import { createRequest } from '../sip/message-build.ts';
import type { CallTarget } from './call-router.ts';
import { ALLOW, contactFor, type SipLegEnv } from './leg-sip.ts';
import { trunkRequestUri, trunkToUri } from './trunk-target.ts';

/** Where the INVITE goes: a routed target, or a SIP URI (then `proxy`, a URI, may carry it). */
export type InviteDestination = { kind: 'routed'; target: CallTarget } | { kind: 'uri'; uri: string; proxy?: string };

export interface OutgoingInvite {
  legEnv: Pick<SipLegEnv, 'advertise'>;
  domain: string;
  destination: InviteDestination;
  callId: string;
  fromTag: string;
  /** User part of From (a trunk's `caller_id` takes its place towards that trunk). */
  fromUser: string;
  displayName?: string;
  headers?: Record<string, string>;
}

const quoted = (s: string) => `"${s.replace(/["\\]/g, '')}" `;

/** The INVITE with CSeq `cseq` and offer `body`, sent to `to`. */
export function buildOutgoingInvite(o: OutgoingInvite, to: SendTarget, body: string | undefined, cseq: number): SipMessage {
  const adv = o.legEnv.advertise(to.protocol, addressFamily(to.address));
  const d = o.destination;
  let uri: string; let toUri: string; let fromHost = o.domain; let fromUser = o.fromUser;
  let route: string[] | undefined;
  if (d.kind === 'uri') {
    uri = d.uri;
    toUri = `<${d.uri}>`;
    fromHost = adv.host.includes(':') ? `[${adv.host}]` : adv.host;
    if (d.proxy) route = [`<${d.proxy.replace(/^<|>$/g, '')};lr>`];
  } else if (d.target.kind === 'contact') {
    uri = d.target.binding.contactUri;
    toUri = `<sip:${d.target.binding.aor}@${o.domain}>`;
  } else {
    uri = trunkRequestUri(d.target.trunk, d.target.number);
    toUri = trunkToUri(d.target.trunk, d.target.number);
    fromHost = d.target.trunk.from_domain ?? adv.host;
    if (d.target.trunk.caller_id) fromUser = d.target.trunk.caller_id;
  }
  return createRequest({
    method: 'INVITE', uri,
    from: `${o.displayName ? quoted(o.displayName) : ''}<sip:${fromUser}@${fromHost}>;tag=${o.fromTag}`,
    to: toUri, callId: o.callId, cseq, maxForwards: 70, route,
    contact: contactFor(o.legEnv, to),
    headers: { Allow: ALLOW, 'User-Agent': 'Strowger', ...o.headers },
    body, contentType: body === undefined ? undefined : 'application/sdp',
  });
}
