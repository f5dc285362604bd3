/**
 * The shedding fast path of overload control (issue 12): looks at a datagram's bytes before
 * the parser does and, for the two cases shedding is about, says what it is:
 *
 *     INVITE sip:… SIP/2.0 CRLF      a new INVITE or REGISTER (no To tag): may get a 503
 *     REGISTER sip:… SIP/2.0 CRLF    built from byte ranges of the request (§8.2.6.2 copies
 *     Via / v: …      (each line)    Via, From, To, Call-ID and CSeq; To gets our tag),
 *     From / f: …                    without a SipMessage, header arrays or serialization;
 *     To / t: …
 *     Call-ID / i: …                 an ACK whose To tag is one of our shed tags: the ACK of
 *     CSeq: …                        a stateless 503 (§17.1.1.3), nothing to do with it.
 *     Content-Length / l: n
 *     CRLF
 *
 * Everything else, and anything unusual in these (a folded line, a bare LF, a byte over 0x7f,
 * a header name that is not a token, a missing or repeated From/To/Call-ID/CSeq, a
 * Content-Length the parser would refuse, a To or Via its parsers reject, an RFC 2543
 * branch), is left to the full parser: `triage` returns null and the request goes the normal
 * way, getting the same 400 or drop as before. So the fast path only ever answers requests
 * the full path would have shed too, with the same bytes (the tag aside).
 */
import { isRfc3261Branch, rfc3261ServerKey } from './transaction-key.ts';
import { parseVia } from './header-via.ts';
import { parseNameAddr } from './header-name-addr.ts';
import { TOKEN_CHARS, SCHEME_CHARS, splitList } from './header-chars.ts';
import { headerKey } from './header-names.ts';
import { DEFAULT_MAX_SIZE } from './parse-message.ts';
import { randomTag } from './message-build.ts';
import { SipParseError } from './errors.ts';

/**
 * Prefix of the To tag of every 503 overload control sends: the ACK it draws is recognised
 * without parsing. `.` is no hex digit, so no tag of ours from `randomTag` starts like this.
 */
export const SHED_TAG_PREFIX = 'shed.';

/** A new INVITE or REGISTER as byte ranges of the datagram (all ASCII, lines end CRLF). */
export class RawRequest {
  readonly isRequest = true;
  constructor(
    readonly buf: Buffer,
    readonly method: 'INVITE' | 'REGISTER',
    /** [start, end) of each Via line's value, in order. */
    readonly vias: number[],
    /** [start, end) of the From, To, Call-ID and CSeq values. */
    readonly from: number, readonly fromEnd: number,
    readonly to: number, readonly toEnd: number,
    readonly callId: number, readonly callIdEnd: number,
    readonly cseq: number, readonly cseqEnd: number,
    /** [nameStart, nameEnd, valueStart, valueEnd] of every header line. */
    private readonly lines: number[],
    /** Key of the server transaction a retransmission would match (RFC 3261 branch only). */
    readonly transactionKey: string,
    /**
     * It carries Authorization: it answers a registrar's 401 (overload control spares such a
     * REGISTER). Not Proxy-Authorization: that answers a proxy's 407, and the full path
     * (`SipEndpoint`'s admission of a parsed request) looks at Authorization alone, so both decide alike.
     */
    readonly credentials: boolean,
  ) {}

  /** The first line of a header, as `SipMessage.getHeader` gives a single-valued one such as User-Agent (for the endpoint's filter; list values are not split). */
  getHeader(name: string): string | null {
    const key = headerKey(name);
    for (let i = 0; i < this.lines.length; i += 4) {
      const n = this.buf.toString('latin1', this.lines[i]!, this.lines[i + 1]!);
      if (headerKey(n) !== key) continue;
      return this.buf.toString('latin1', this.lines[i + 2]!, this.lines[i + 3]!);
    }
    return null;
  }
}

export type Triage =
  | { kind: 'new'; req: RawRequest }
  | { kind: 'shed-ack' }
  | null;

// Module-local: an imported binding read per byte costs a getter call under some loaders.
const TOKEN: Uint8Array = TOKEN_CHARS;
const SCHEME: Uint8Array = SCHEME_CHARS;

/** The headers the fast path reads, by name in any case (compact forms included). */
const enum Name { Other, Via, From, To, CallId, CSeq, ContentLength, Credentials }

/** True when `buf[start, start + s.length)` is `s` (lower-case letters and `-`) in any letter case. */
function nameIs(buf: Buffer, start: number, s: string): boolean {
  for (let i = 0; i < s.length; i++) if ((buf[start + i]! | 0x20) !== s.charCodeAt(i)) return false;
  return true;
}

/** Which header `buf[start, end)` names, without making a string ('-' | 0x20 is '-'). */
function nameOf(buf: Buffer, start: number, end: number): Name {
  switch (end - start) {
    case 1: {
      const c = buf[start]! | 0x20;
      return c === 0x76 ? Name.Via : c === 0x66 ? Name.From : c === 0x74 ? Name.To : c === 0x69 ? Name.CallId : c === 0x6c ? Name.ContentLength : Name.Other;
    }
    case 2: return nameIs(buf, start, 'to') ? Name.To : Name.Other;
    case 3: return nameIs(buf, start, 'via') ? Name.Via : Name.Other;
    case 4: return nameIs(buf, start, 'from') ? Name.From : nameIs(buf, start, 'cseq') ? Name.CSeq : Name.Other;
    case 7: return nameIs(buf, start, 'call-id') ? Name.CallId : Name.Other;
    case 13: return nameIs(buf, start, 'authorization') ? Name.Credentials : Name.Other;
    case 14: return nameIs(buf, start, 'content-length') ? Name.ContentLength : Name.Other;
    default: return Name.Other;
  }
}

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;
const VERSION = ' SIP/2.0';

/** True when `buf` at `at` holds the ASCII bytes of `s`. */
function startsWith(buf: Buffer, at: number, s: string): boolean {
  if (at + s.length > buf.length) return false;
  for (let i = 0; i < s.length; i++) if (buf[at + i] !== s.charCodeAt(i)) return false;
  return true;
}

/** Request-URI = absoluteURI as `parseMessage` checks it: scheme ":" then no SP, CTL, <, >, ". */
function isAbsoluteUri(buf: Buffer, start: number, end: number): boolean {
  let colon = start;
  while (colon < end && buf[colon] !== COLON) colon++;
  if (colon === start || colon >= end - 1) return false;
  const c0 = buf[start]! | 0x20;
  if (c0 < 0x61 || c0 > 0x7a) return false;
  for (let i = start + 1; i < colon; i++) if (SCHEME[buf[i]!] !== 1) return false;
  for (let i = colon + 1; i < end; i++) {
    const c = buf[i]!;
    if (c <= SP || c === 0x3c || c === 0x3e || c === 0x22 || c >= 0x7f) return false;
  }
  return true;
}

/**
 * What a datagram is, for shedding, or null when the full parser must decide. Cheap for
 * everything else: responses and other methods are turned away on their first bytes.
 */
export function triage(buf: Buffer): Triage {
  const c0 = buf[0];
  if (c0 !== 0x49 && c0 !== 0x52 && c0 !== 0x41) return null; // I, R, A
  if (buf.length > DEFAULT_MAX_SIZE) return null;
  let method: 'INVITE' | 'REGISTER' | 'ACK';
  if (startsWith(buf, 0, 'INVITE ')) method = 'INVITE';
  else if (startsWith(buf, 0, 'REGISTER ')) method = 'REGISTER';
  else if (startsWith(buf, 0, 'ACK ')) method = 'ACK';
  else return null;
  const lineEnd = buf.indexOf(LF);
  if (lineEnd < 2 || buf[lineEnd - 1] !== CR) return null;
  const uriStart = method.length + 1;
  const uriEnd = lineEnd - 1 - VERSION.length;
  if (uriEnd <= uriStart || !startsWith(buf, uriEnd, VERSION) || !isAbsoluteUri(buf, uriStart, uriEnd)) return null;

  const lines: number[] = [];
  const vias: number[] = [];
  let from = -1, fromEnd = -1, to = -1, toEnd = -1, callId = -1, callIdEnd = -1, cseq = -1, cseqEnd = -1;
  let contentLength = -1;
  let credentials = false;
  let pos = lineEnd + 1;
  for (;;) {
    const lf = buf.indexOf(LF, pos);
    if (lf === -1 || buf[lf - 1] !== CR) return null;
    const end = lf - 1;
    if (end === pos) { pos = lf + 1; break; } // the empty line
    const first = buf[pos]!;
    if (first === SP || first === HTAB) return null; // folding: the parser joins lines
    let nameEnd = pos;
    for (; nameEnd < end; nameEnd++) {
      const c = buf[nameEnd]!;
      if (c === COLON || c === SP || c === HTAB) break;
      if (TOKEN[c] !== 1) return null;
    }
    let colon = nameEnd;
    while (colon < end && (buf[colon] === SP || buf[colon] === HTAB)) colon++;
    if (nameEnd === pos || colon === end || buf[colon] !== COLON) return null;
    let v = colon + 1;
    while (v < end && (buf[v] === SP || buf[v] === HTAB)) v++;
    let vEnd = end;
    while (vEnd > v && (buf[vEnd - 1] === SP || buf[vEnd - 1] === HTAB)) vEnd--;
    for (let i = v; i < vEnd; i++) if (buf[i]! >= 0x80) return null; // UTF-8: the parser decodes, replaces; leave it to it
    lines.push(pos, nameEnd, v, vEnd);
    const key = nameOf(buf, pos, nameEnd);
    if (key === Name.Via) vias.push(v, vEnd);
    else if (key === Name.From) { if (from !== -1) return null; from = v; fromEnd = vEnd; }
    else if (key === Name.To) { if (to !== -1) return null; to = v; toEnd = vEnd; }
    else if (key === Name.CallId) { if (callId !== -1) return null; callId = v; callIdEnd = vEnd; }
    else if (key === Name.CSeq) { if (cseq !== -1) return null; cseq = v; cseqEnd = vEnd; }
    else if (key === Name.Credentials) credentials = true;
    else if (key === Name.ContentLength) {
      if (contentLength !== -1 || vEnd === v || vEnd - v > 10) return null;
      contentLength = 0;
      for (let i = v; i < vEnd; i++) {
        const d = buf[i]! - 0x30;
        if (d < 0 || d > 9) return null;
        contentLength = contentLength * 10 + d;
      }
    }
    pos = lf + 1;
  }
  if (contentLength > DEFAULT_MAX_SIZE || (contentLength !== -1 && pos + contentLength > buf.length)) return null;
  if (to === -1) return null;
  const toText = buf.toString('latin1', to, toEnd);
  if (method === 'ACK') return toText.includes(`;tag=${SHED_TAG_PREFIX}`) && !toText.includes('"') ? { kind: 'shed-ack' } : null;
  if (vias.length === 0 || from === -1 || callId === -1 || cseq === -1) return null;
  // What the full path reads before shedding must read the same here: To (its tag) and every
  // Via (the transaction key); where those parsers throw, the full path answers 400.
  let key: string;
  try {
    if (parseNameAddr(toText).params.has('tag')) return null;
    const parts: string[] = [];
    for (let i = 0; i < vias.length; i += 2) splitList(buf.toString('latin1', vias[i]!, vias[i + 1]!), parts);
    const top = parseVia(parts[0]!);
    for (let i = 1; i < parts.length; i++) parseVia(parts[i]!);
    const branch = top.branch;
    if (!isRfc3261Branch(branch)) return null;
    key = rfc3261ServerKey(branch, top.host, top.port, method);
  } catch (err) {
    if (err instanceof SipParseError) return null;
    throw err;
  }
  return { kind: 'new', req: new RawRequest(buf, method, vias, from, fromEnd, to, toEnd, callId, callIdEnd, cseq, cseqEnd, lines, key, credentials) };
}

/**
 * The 503 for `req`, byte for byte what `createResponse` + the endpoint's Server header +
 * `serialize` would make (RFC 3261 §8.2.6.2, §21.5.4): Via lines, From, To with `;tag=<toTag>`,
 * Call-ID, CSeq, Retry-After, Server (when not ''), Content-Length: 0.
 */
export function shedResponse(req: RawRequest, retryAfterSeconds: number, server: string, toTag = SHED_TAG_PREFIX + randomTag()): Buffer {
  const buf = req.buf;
  const tail = `\r\nRetry-After: ${retryAfterSeconds}\r\n${server === '' ? '' : `Server: ${server}\r\n`}Content-Length: 0\r\n\r\n`;
  const head = 'SIP/2.0 503 Service Unavailable\r\n';
  let size = head.length + Buffer.byteLength(tail);
  for (let i = 0; i < req.vias.length; i += 2) size += 7 + req.vias[i + 1]! - req.vias[i]!; // "Via: " CRLF
  size += 8 + req.fromEnd - req.from; // "From: " CRLF
  size += 6 + req.toEnd - req.to + 5 + toTag.length; // "To: " ";tag=" CRLF
  size += 11 + req.callIdEnd - req.callId; // "Call-ID: " CRLF
  size += 6 + req.cseqEnd - req.cseq; // "CSeq: " (CRLF is the tail's)
  const out = Buffer.allocUnsafe(size);
  let at = out.write(head, 0, 'latin1');
  for (let i = 0; i < req.vias.length; i += 2) {
    at += out.write('Via: ', at, 'latin1');
    at += buf.copy(out, at, req.vias[i]!, req.vias[i + 1]!);
    at += out.write('\r\n', at, 'latin1');
  }
  at += out.write('From: ', at, 'latin1');
  at += buf.copy(out, at, req.from, req.fromEnd);
  at += out.write('\r\nTo: ', at, 'latin1');
  at += buf.copy(out, at, req.to, req.toEnd);
  at += out.write(`;tag=${toTag}\r\nCall-ID: `, at, 'latin1');
  at += buf.copy(out, at, req.callId, req.callIdEnd);
  at += out.write('\r\nCSeq: ', at, 'latin1');
  at += buf.copy(out, at, req.cseq, req.cseqEnd);
  at += out.write(tail, at, 'utf8');
  return at === size ? out : out.subarray(0, at);
}
