/**
 * The ACK an INVITE client transaction sends for a 300-699 response
 * (RFC 3261 §17.1.1.3). ACKs for 2xx are the TU's business (§13.2.2.4).
 */
import { createRequest } from './message-build.ts';
import type { SipMessage } from './message.ts';

/**
 * Request-URI, Call-ID, From and CSeq number of the INVITE; To of the
 * response (with its tag); one Via equal to the INVITE's top Via (same
 * branch, so it matches the server transaction); the INVITE's Route
 * headers; no body.
 *
 * @example tx.transmit(buildNonSuccessAck(invite, res486), target);
 */
export function buildNonSuccessAck(invite: SipMessage, response: SipMessage): SipMessage {
  const topVia = invite.getHeader('via');
  return createRequest({
    method: 'ACK',
    uri: invite.requestUriText,
    via: topVia === null ? [] : [topVia],
    route: invite.getHeaders('route'),
    from: invite.getHeader('from') ?? '',
    to: response.getHeader('to') ?? '',
    callId: invite.callId,
    cseq: invite.cseq.seq,
  });
}
