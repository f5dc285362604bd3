/**
 * The INVITE a call sends to each callee fork: its own dialog (Call-ID, From tag), the
 * caller's display name, the caller id the route chose (or the trunk's), and 100rel as
 * the caller asked for it.
 */
import { addressFamily } from '../sip/endpoint.ts';
import type { SipMessage } from '../sip/message.ts';
import type { SendTarget } from '../sip/transport-types.ts';
import { createRequest } from '../sip/message-build.ts';
import type { CallTarget } from './call-router.ts';
import { ALLOW, contactFor, type SipLegEnv } from './leg-sip.ts';
import { trunkRequestUri, trunkToUri } from './trunk-target.ts';

export interface CalleeInviteContext {
  legEnv: SipLegEnv;
  domain: string;
  /** The caller's INVITE. */
  callerInvite: SipMessage;
  callerId: string;
  callId: string;
  fromTag: string;
  /** The caller requires 100rel (RFC 3262). */
  requires100rel: boolean;
}

export function buildCalleeInvite(c: CalleeInviteContext, target: CallTarget, to: SendTarget, body: string | undefined, cseq: number): SipMessage {
  const adv = c.legEnv.advertise(to.protocol, addressFamily(to.address));
  const msg = c.callerInvite;
  const display = msg.from.displayName;
  const fromHost = target.kind === 'trunk' ? (target.trunk.from_domain ?? adv.host) : c.domain;
  const requestUri = target.kind === 'contact' ? target.binding.contactUri : trunkRequestUri(target.trunk, target.number);
  const toUri = target.kind === 'contact' ? `<sip:${target.binding.aor}@${c.domain}>` : trunkToUri(target.trunk, target.number);
  const mf = msg.maxForwards;
  const fromUser = target.kind === 'trunk' && target.trunk.caller_id ? target.trunk.caller_id : c.callerId;
  return createRequest({
    method: 'INVITE',
    uri: requestUri,
    from: `${display ? `"${display.replace(/["\\]/g, '')}" ` : ''}<sip:${fromUser}@${fromHost}>;tag=${c.fromTag}`,
    to: toUri,
    callId: c.callId,
    cseq,
    maxForwards: mf === null ? 70 : Math.max(0, mf - 1),
    contact: contactFor(c.legEnv, to),
    // RFC 3262 towards the callee: a caller that requires 100rel (early media it must not
    // miss) gets the same guarantee end to end; every other callee may still use it.
    headers: { Allow: ALLOW, 'User-Agent': 'Strowger', ...(c.requires100rel ? { Require: '100rel' } : { Supported: '100rel' }) },
    body,
    contentType: body === undefined ? undefined : 'application/sdp',
  });
}
