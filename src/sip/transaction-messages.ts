/**
 * Messages the transaction layer builds itself: the ACK for a non-2xx final
 * response (§17.1.1.3), the 100 Trying of an INVITE server transaction
 * (§17.2.1, §8.2.6.1) and the local 408/503 a client transaction reports
 * on timeout or transport failure (§8.1.3.1).
 *
 * Local helpers built on the `SipMessage` constructor, so the transaction
 * layer depends on the message model only.
 */
import { SipMessage } from './message.ts';

/**
 * ACK for a 300-699 response to `invite` (§17.1.1.3): Request-URI, Call-ID,
 * From and CSeq number of the INVITE, To of the response (with its tag),
 * one Via equal to the INVITE's top Via (same branch), the INVITE's Route
 * headers, no body.
 */
export function buildNonSuccessAck(invite: SipMessage, response: SipMessage): SipMessage {
  const keys: string[] = [];
  const names: string[] = [];
  const values: string[] = [];
  const add = (key: string, name: string, value: string | null): void => {
    if (value === null) return;
    keys.push(key);
    names.push(name);
    values.push(value);
  };
  add('via', 'Via', invite.getHeader('via'));
  for (const r of invite.getHeaders('route')) add('route', 'Route', r);
  add('max-forwards', 'Max-Forwards', '70');
  add('from', 'From', invite.getHeader('from'));
  add('to', 'To', response.getHeader('to'));
  add('call-id', 'Call-ID', invite.getHeader('call-id'));
  add('cseq', 'CSeq', `${invite.cseq.seq} ACK`);
  add('content-length', 'Content-Length', '0');
  return new SipMessage(true, 'ACK', invite.requestUriText, 0, '', 'SIP/2.0', keys, names, values);
}

/**
 * A response to `req` built from its Via, From, To, Call-ID and CSeq
 * (§8.2.6.2), without To tag: used for 100 Trying and for the 408/503 a
 * client transaction reports to its TU.
 */
export function buildLocalResponse(req: SipMessage, status: number, reason: string): SipMessage {
  const keys: string[] = [];
  const names: string[] = [];
  const values: string[] = [];
  for (const v of req.getHeaders('via')) {
    keys.push('via');
    names.push('Via');
    values.push(v);
  }
  for (const [key, name] of COPIED) {
    const v = req.getHeader(key);
    if (v === null) continue;
    keys.push(key);
    names.push(name);
    values.push(v);
  }
  keys.push('content-length');
  names.push('Content-Length');
  values.push('0');
  return new SipMessage(false, '', '', status, reason, 'SIP/2.0', keys, names, values);
}

const COPIED: ReadonlyArray<readonly [string, string]> = [
  ['from', 'From'],
  ['to', 'To'],
  ['call-id', 'Call-ID'],
  ['cseq', 'CSeq'],
];
