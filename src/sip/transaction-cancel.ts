/**
 * Building the CANCEL for a pending INVITE client transaction (RFC 3261 §9.1).
 * The TU sends it with `layer.request(cancel, tx.target, …)` — its own
 * non-INVITE transaction, same branch, method CANCEL — and only once a
 * provisional response arrived (§9.1: "MUST NOT be sent" before one).
 */
import { createRequest } from './message-build.ts';
import type { SipMessage } from './message.ts';

/**
 * Request-URI, Call-ID, To, From and CSeq number of the INVITE, method
 * CANCEL; one Via equal to the INVITE's top Via (so the server matches it
 * to the INVITE, §9.2); the INVITE's Route headers; `reasons`: Reason header values (RFC 3326,
 * see `header-reason.ts`).
 *
 * @example
 * if (tx.state === 'Proceeding') layer.request(buildCancel(tx.request), tx.target, handlers);
 */
export function buildCancel(invite: SipMessage, reasons: readonly string[] = []): SipMessage {
  const topVia = invite.getHeader('via');
  return createRequest({
    method: 'CANCEL',
    uri: invite.requestUriText,
    via: topVia === null ? [] : [topVia],
    route: invite.getHeaders('route'),
    from: invite.getHeader('from') ?? '',
    to: invite.getHeader('to') ?? '',
    callId: invite.callId,
    cseq: invite.cseq.seq,
    headers: reasons.map((r) => ['Reason', r] as const),
  });
}
