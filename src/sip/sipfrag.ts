/**
 * `message/sipfrag` bodies (RFC 3420) as the refer event package uses them (RFC 3515 §2.4.5):
 * each NOTIFY reports the progress of the referenced request with a body that begins with that
 * request's latest Status-Line.
 *
 *     sipfrag     = [ start-line ] *message-header [ CRLF [ message-body ] ]   (RFC 3420 §2)
 *     Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF           (RFC 3261 §7.2)
 *
 *     SIP/2.0 180 Ringing\r\n
 */
import { reasonPhrase } from './message-reasons.ts';
import { SipReferError, SipReferErrorCode } from './refer-errors.ts';

/** Content-Type of refer NOTIFY bodies (RFC 3515 §2.4.5 requires `version=2.0` support). */
export const SIPFRAG_CONTENT_TYPE = 'message/sipfrag;version=2.0';

/**
 * A sipfrag made of one Status-Line (RFC 3515 §2.4.5: the minimum, and all a transferor needs).
 * The reason defaults to the standard phrase (`503` -> `Service Unavailable`).
 *
 * @example sipfragOfStatus(180).toString() // 'SIP/2.0 180 Ringing\r\n'
 */
export function sipfragOfStatus(status: number, reason?: string): Buffer {
  if (!Number.isInteger(status) || status < 100 || status > 699) throw new RangeError(`sipfrag status ${status} is not 100..699`);
  const phrase = reason ?? reasonPhrase(status);
  if (/[\r\n]/.test(phrase)) throw new RangeError('sipfrag reason phrase contains CR or LF');
  return Buffer.from(`SIP/2.0 ${status} ${phrase}\r\n`, 'latin1');
}

/** The Status-Line of a received sipfrag. */
export interface SipfragStatus {
  /** `SIP/2.0` as written. */
  version: string;
  status: number;
  /** May be empty (RFC 3261 allows an empty Reason-Phrase). */
  reason: string;
}

/**
 * Reads the Status-Line that starts a refer NOTIFY's sipfrag. Lenient where peers differ
 * harmlessly (LF instead of CRLF, no line end, extra header lines after it); strict on the
 * line's shape: `SIP/<digits>.<digits> <3-digit 100..699> <reason>`.
 *
 * @example parseSipfragStatus('SIP/2.0 200 OK\r\n').status // 200
 * @throws SipReferError `SIP_ERR_SIPFRAG_INVALID` (sipStatus 400: answer the NOTIFY with it)
 */
export function parseSipfragStatus(body: Buffer | string): SipfragStatus {
  const text = typeof body === 'string' ? body : body.toString('latin1');
  const nl = text.indexOf('\n');
  let line = nl === -1 ? text : text.slice(0, nl);
  if (line.endsWith('\r')) line = line.slice(0, -1);
  const m = /^(SIP\/\d+\.\d+) ([1-6]\d\d)(?: (.*))?$/.exec(line);
  if (m === null) {
    throw new SipReferError(SipReferErrorCode.SIPFRAG_INVALID, `sipfrag does not begin with a SIP Status-Line: "${line.slice(0, 80)}"`);
  }
  return { version: m[1], status: Number(m[2]), reason: m[3] ?? '' };
}

/** True for `message/sipfrag` with any parameters, in any letter case (RFC 2045 §5.1). */
export function isSipfragContentType(contentType: string | null): boolean {
  if (contentType === null) return false;
  const semi = contentType.indexOf(';');
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase() === 'message/sipfrag';
}
