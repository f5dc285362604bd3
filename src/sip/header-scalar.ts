/**
 * Scalar header values: CSeq (RFC 3261 §20.16), Max-Forwards (§20.22), Expires (§20.19),
 * Content-Length (§20.14) and other delta-seconds.
 *
 *     CSeq = "CSeq" HCOLON 1*DIGIT LWS Method        e.g. "4711 INVITE" (seq < 2**31)
 *
 * Overlarge values are errors, not clamped: RFC 4475 §3.1.2.4 expects a 400.
 */
import { SipParseError, SipParseErrorCode } from './errors.ts';
import { TOKEN_CHARS, scan, skipWs } from './header-chars.ts';

/** Parsed CSeq. */
export interface CSeq {
  seq: number;
  method: string;
}

/** Largest CSeq sequence number (§8.1.1.5: "MUST be less than 2**31"). */
export const CSEQ_MAX = 0x7fffffff;
/** Largest Expires / delta-seconds (§20.19). */
export const EXPIRES_MAX = 0xffffffff;
/** Largest Max-Forwards (§20.22: 0-255). */
export const MAX_FORWARDS_MAX = 255;

/**
 * Parses an unsigned decimal in [0, max]; returns -1 when `s` is not 1*DIGIT (surrounding
 * whitespace allowed) or exceeds `max`. Leading zeros are fine (RFC 4475 §3.1.1.1 sends "0068").
 */
export function parseUnsigned(s: string, max: number): number {
  let i = skipWs(s, 0);
  let end = s.length;
  while (end > i && (s.charCodeAt(end - 1) === 0x20 || s.charCodeAt(end - 1) === 0x09)) end--;
  if (i === end) return -1;
  let n = 0;
  for (; i < end; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
    if (n > max) return -1;
  }
  return n;
}

/**
 * @example parseCSeq('0009\tINVITE') // { seq: 9, method: 'INVITE' }
 * @throws SipParseError `SIP_ERR_PARSE_CSEQ`
 */
export function parseCSeq(s: string): CSeq {
  const start = skipWs(s, 0);
  let i = start;
  while (i < s.length && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39) i++;
  const seq = parseUnsigned(s.slice(start, i), CSEQ_MAX);
  const mStart = skipWs(s, i);
  const mEnd = scan(TOKEN_CHARS, s, mStart);
  if (seq < 0 || mStart === i || mEnd === mStart || skipWs(s, mEnd) !== s.length) {
    throw new SipParseError(SipParseErrorCode.CSEQ, `invalid CSeq "${s}" (need 1*DIGIT below 2**31, LWS, method)`);
  }
  return { seq, method: s.slice(mStart, mEnd) };
}

/** Formats a CSeq value: `4711 INVITE`. */
export function formatCSeq(cseq: CSeq): string {
  return `${cseq.seq} ${cseq.method}`;
}

/** @throws SipParseError `SIP_ERR_PARSE_MAX_FORWARDS` outside 0..255 */
export function parseMaxForwards(s: string): number {
  const n = parseUnsigned(s, MAX_FORWARDS_MAX);
  if (n < 0) throw new SipParseError(SipParseErrorCode.MAX_FORWARDS, `invalid Max-Forwards "${s}" (need 0..255)`);
  return n;
}

/** @throws SipParseError `SIP_ERR_PARSE_EXPIRES` outside 0..2**32-1 */
export function parseExpires(s: string): number {
  const n = parseUnsigned(s, EXPIRES_MAX);
  if (n < 0) throw new SipParseError(SipParseErrorCode.EXPIRES, `invalid Expires "${s}" (need 0..2**32-1)`);
  return n;
}
