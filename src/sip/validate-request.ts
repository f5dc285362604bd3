/**
 * Semantic checks a server runs on a parsed message before processing it (RFC 3261 §8.2,
 * §16.3, §18.1.2). The split of work with the parser:
 *
 * - `parseMessage` rejects what makes *framing* impossible or ambiguous: bad start line, bad
 *   header line, missing/negative/multiple/overlarge Content-Length (RFC 4475 §3.1.2.2, .3,
 *   §3.3.9, .7, .8, .9, .19).
 * - `validateRequest` rejects what is well framed but wrong: missing mandatory headers,
 *   several values in single-value headers, malformed structured headers, out-of-range scalars,
 *   CSeq/method mismatch, headers in the Request-URI (§3.1.2.4, .6, .11, .14-.18, §3.3.1, §3.3.8),
 *   and unknown SIP versions (505).
 *
 * Everything after that (unknown URI schemes -> 416, Require -> 420, Content-Type -> 415...)
 * is the business of the core that knows what it supports.
 */
import { SipParseError, SipParseErrorCode } from './errors.ts';
import type { SipMessage } from './message.ts';

/** What to answer. `code` is a stable label for logs and metrics. */
export interface ValidationFailure {
  status: number;
  reason: string;
  code: string;
}

/** Headers that must appear in every request (§8.1.1; Max-Forwards is optional for servers). */
const MANDATORY: ReadonlyArray<readonly [key: string, name: string]> = [
  ['to', 'To'],
  ['from', 'From'],
  ['cseq', 'CSeq'],
  ['call-id', 'Call-ID'],
  ['via', 'Via'],
];

/** Headers that carry exactly one value (§20; RFC 4475 §3.3.8, §3.3.9). */
const SINGLE: ReadonlyArray<readonly [key: string, name: string]> = [
  ['from', 'From'],
  ['to', 'To'],
  ['call-id', 'Call-ID'],
  ['cseq', 'CSeq'],
  ['max-forwards', 'Max-Forwards'],
  ['content-length', 'Content-Length'],
  ['content-type', 'Content-Type'],
  ['expires', 'Expires'],
];

/**
 * Returns the error response to send, or null when the request may be processed.
 *
 * @example
 *   const bad = validateRequest(msg);
 *   if (bad) return send(createResponse(msg, bad.status, bad.reason));
 */
export function validateRequest(msg: SipMessage): ValidationFailure | null {
  if (msg.version.toUpperCase() !== 'SIP/2.0') {
    return { status: 505, reason: 'Version Not Supported', code: 'SIP_ERR_VALIDATE_VERSION' };
  }
  const common = checkCommon(msg);
  if (common !== null) return common;
  try {
    const uri = msg.requestUri;
    // Headers belong in a Request-URI only when built from a Contact for a new request (§19.1.5).
    if (uri.headers.size > 0) return bad('Headers Not Allowed In Request-URI', 'SIP_ERR_VALIDATE_RURI_HEADERS');
    if (msg.cseq.method !== msg.method) return bad('CSeq Method Does Not Match', 'SIP_ERR_VALIDATE_CSEQ_METHOD');
    void msg.maxForwards;
    void msg.expires;
    void msg.contacts;
    void msg.route;
    void msg.recordRoute;
  } catch (err) {
    return fromError(err);
  }
  return null;
}

/**
 * Checks a received response before it reaches the transaction layer. Non-null means drop it
 * silently (§18.1.2: a malformed response is discarded); `status` is 0.
 */
export function validateResponse(msg: SipMessage): ValidationFailure | null {
  if (msg.version.toUpperCase() !== 'SIP/2.0') return { status: 0, reason: 'Version Not Supported', code: 'SIP_ERR_VALIDATE_VERSION' };
  const common = checkCommon(msg);
  if (common !== null) return { ...common, status: 0 };
  return null;
}

function checkCommon(msg: SipMessage): ValidationFailure | null {
  for (const [key, name] of MANDATORY) {
    if (!msg.hasHeader(key)) return bad(`Missing ${name} Header`, 'SIP_ERR_VALIDATE_MISSING_HEADER');
  }
  for (const [key, name] of SINGLE) {
    if (msg.hasSeveralValues(key)) return bad(`Multiple ${name} Values`, 'SIP_ERR_VALIDATE_MULTIPLE_VALUES');
  }
  try {
    void msg.via;
    void msg.from;
    void msg.to;
    void msg.callId;
    void msg.cseq;
  } catch (err) {
    return fromError(err);
  }
  return null;
}

/** Fixed phrases: never echo the offending input into a reason phrase (it may hold CTLs). */
const PHRASE_BY_CODE: Record<string, string> = {
  [SipParseErrorCode.URI]: 'Malformed URI',
  [SipParseErrorCode.VIA]: 'Malformed Via Header',
  [SipParseErrorCode.NAME_ADDR]: 'Malformed Address Header',
  [SipParseErrorCode.PARAMS]: 'Malformed Header Parameters',
  [SipParseErrorCode.CSEQ]: 'Malformed Or Overlarge CSeq',
  [SipParseErrorCode.MAX_FORWARDS]: 'Malformed Or Overlarge Max-Forwards',
  [SipParseErrorCode.EXPIRES]: 'Malformed Or Overlarge Expires',
  [SipParseErrorCode.CALL_ID]: 'Malformed Call-ID',
  [SipParseErrorCode.MISSING_HEADER]: 'Missing Mandatory Header',
};

function fromError(err: unknown): ValidationFailure {
  if (err instanceof SipParseError) return bad(PHRASE_BY_CODE[err.code] ?? 'Bad Request', err.code);
  throw err;
}

function bad(reason: string, code: string): ValidationFailure {
  return { status: 400, reason, code };
}
