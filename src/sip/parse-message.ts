/**
 * Message framing and parsing (RFC 3261 §7, §18.3, §25).
 *
 *     *(CRLF)                                  ignored before the start line (§7.5)
 *     INVITE sip:bob@example.com SIP/2.0 CRLF  Request-Line = Method SP Request-URI SP SIP-Version
 *     SIP/2.0 180 Ringing CRLF                 Status-Line  = SIP-Version SP Status-Code SP Reason-Phrase
 *     Name : value CRLF                        HCOLON = *( SP / HTAB ) ":" SWS
 *       continued value CRLF                   folding: CRLF + WSP == one SP (§7.3.1)
 *     CRLF
 *     body (Content-Length octets)
 *
 * Eager work is only what framing and routing need: the start line, one (key, value) pair per
 * header line, and Content-Length. Everything structured is parsed lazily by `SipMessage`.
 * Bare-LF line ends are accepted as well as CRLF (robustness, §7.5 spirit).
 */
import { SipParseError, SipParseErrorCode } from './errors.ts';
import type { SipReplyHeaders } from './errors.ts';
import { SCHEME_CHARS, TOKEN_CHARS, allIn, inTable } from './header-chars.ts';
import { headerKey, knownKey } from './header-names.ts';
import { SipMessage } from './message.ts';

/** Options of `parseMessage`. */
export interface ParseOptions {
  /** Largest accepted message in octets (default 65536: the largest UDP datagram, §18.1.1). */
  maxSize?: number;
}

export const DEFAULT_MAX_SIZE = 65536;

const CRLFCRLF = Buffer.from('\r\n\r\n');
const LFLF = Buffer.from('\n\n');
const EMPTY = Buffer.alloc(0);

/**
 * Parses exactly one message from a datagram or a framed stream chunk.
 *
 * With a Content-Length the body is that many octets and anything after it is ignored (UDP,
 * RFC 4475 §3.1.1.8); without one, the body is the rest of the buffer (§18.3 for UDP). The
 * returned message's `raw` is a view of `buf`: keep `buf` untouched while the message lives.
 *
 * @example parseMessage(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\n...\r\n\r\n')).method // 'OPTIONS'
 * @throws SipParseError; `isRequest` says whether to answer 400 (with `replyHeaders`) or drop.
 */
export function parseMessage(buf: Buffer, options?: ParseOptions): SipMessage {
  const maxSize = options?.maxSize ?? DEFAULT_MAX_SIZE;
  let start = 0;
  while (start < buf.length && (buf[start] === 0x0d || buf[start] === 0x0a)) start++;
  if (start === buf.length) throw new SipParseError(SipParseErrorCode.EMPTY, 'empty message');
  if (buf.length > maxSize) {
    throw failure(buf, start, SipParseErrorCode.TOO_LARGE, `message of ${buf.length} octets exceeds ${maxSize}`);
  }

  let headEnd = buf.indexOf(CRLFCRLF, start);
  let sepLen = 4;
  // Bare-LF senders: only looked for when the start line does not end in CRLF (saves a scan).
  const firstLf = buf.indexOf(0x0a, start);
  if (headEnd === -1 || (firstLf > start && buf[firstLf - 1] !== 0x0d)) {
    const lf = buf.indexOf(LFLF, start);
    if (lf !== -1 && (headEnd === -1 || lf < headEnd)) {
      headEnd = lf;
      sepLen = 2;
    }
  }
  if (headEnd === -1) throw failure(buf, start, SipParseErrorCode.NO_HEADER_END, 'no empty line after the headers');
  const text = buf.toString('utf8', start, headEnd + (sepLen >> 1));

  // ---- header lines ----
  let lineEnd = text.indexOf('\n');
  const startLine = trimCr(text, 0, lineEnd === -1 ? text.length : lineEnd);
  const keys: string[] = [];
  const names: string[] = [];
  const values: string[] = [];
  let contentLength = -1;
  let clIndex = -1;
  let pos = lineEnd === -1 ? text.length : lineEnd + 1;
  while (pos < text.length) {
    lineEnd = text.indexOf('\n', pos);
    if (lineEnd === -1) lineEnd = text.length;
    let end = lineEnd;
    if (end > pos && text.charCodeAt(end - 1) === 0x0d) end--;
    const c0 = text.charCodeAt(pos);
    if (c0 === 0x20 || c0 === 0x09) {
      // Continuation line (§7.3.1): joins the previous value with one SP.
      if (keys.length === 0) throw headerFailure(text, startLine, 'continuation line before any header');
      const more = text.slice(pos, end).trim();
      const last = values.length - 1;
      if (more.length > 0) values[last] = values[last].length === 0 ? more : `${values[last]} ${more}`;
    } else if (end > pos) {
      let nameEnd = pos;
      while (nameEnd < end) {
        const c = text.charCodeAt(nameEnd);
        if (c === 0x3a || c === 0x20 || c === 0x09) break;
        nameEnd++;
      }
      let colon = nameEnd;
      while (colon < end && (text.charCodeAt(colon) === 0x20 || text.charCodeAt(colon) === 0x09)) colon++;
      if (colon === end || text.charCodeAt(colon) !== 0x3a) throw headerFailure(text, startLine, `header line without ":" at offset ${pos}`);
      // Known names are matched in place (no slice, no hashing); others go through headerKey.
      let key = knownKey(text, pos, nameEnd);
      let name: string;
      if (key !== null) name = key;
      else {
        name = text.slice(pos, nameEnd);
        key = headerKey(name);
        if (key === null) throw headerFailure(text, startLine, `invalid header name "${name}"`);
      }
      let vStart = colon + 1;
      while (vStart < end && (text.charCodeAt(vStart) === 0x20 || text.charCodeAt(vStart) === 0x09)) vStart++;
      let vEnd = end;
      while (vEnd > vStart && (text.charCodeAt(vEnd - 1) === 0x20 || text.charCodeAt(vEnd - 1) === 0x09)) vEnd--;
      if (key === 'content-length') {
        if (clIndex !== -1) throw headerFailure(text, startLine, 'more than one Content-Length', SipParseErrorCode.CONTENT_LENGTH_MULTIPLE);
        clIndex = keys.length;
      }
      keys.push(key);
      names.push(name);
      values.push(text.slice(vStart, vEnd));
    }
    pos = lineEnd + 1;
  }

  // ---- start line ----
  let isRequest: boolean;
  let method = '';
  let requestUri = '';
  let version: string;
  let status = 0;
  let reason = '';
  if (isStatusLine(startLine)) {
    isRequest = false;
    const sp = startLine.indexOf(' ');
    version = startLine.slice(0, sp);
    if (sp === -1 || !isVersion(version)) throw headerFailure(text, startLine, 'bad SIP-Version in Status-Line', SipParseErrorCode.START_LINE);
    const codeEnd = sp + 4;
    status = parseStatus(startLine, sp + 1);
    if (status < 0 || (codeEnd < startLine.length && startLine.charCodeAt(codeEnd) !== 0x20)) {
      throw headerFailure(text, startLine, `bad Status-Code in "${startLine}"`, SipParseErrorCode.STATUS_CODE);
    }
    reason = codeEnd < startLine.length ? startLine.slice(codeEnd + 1) : '';
  } else {
    isRequest = true;
    // Exactly one SP between elements (RFC 4475 §3.1.2.8, §3.1.2.9); trailing SP tolerated (§3.1.2.10).
    let lineLen = startLine.length;
    while (lineLen > 0 && startLine.charCodeAt(lineLen - 1) === 0x20) lineLen--;
    const sp1 = startLine.indexOf(' ');
    const sp2 = startLine.lastIndexOf(' ', lineLen - 1);
    if (sp1 <= 0 || sp2 <= sp1 + 1) throw headerFailure(text, startLine, `bad Request-Line "${startLine}"`, SipParseErrorCode.START_LINE);
    method = startLine.slice(0, sp1);
    requestUri = startLine.slice(sp1 + 1, sp2);
    version = startLine.slice(sp2 + 1, lineLen);
    if (!allIn(TOKEN_CHARS, method) || !isVersion(version) || !isAbsoluteUri(requestUri)) {
      throw headerFailure(text, startLine, `bad Request-Line "${startLine}"`, SipParseErrorCode.START_LINE);
    }
  }

  // ---- body framing ----
  const bodyStart = headEnd + sepLen;
  let bodyEnd: number;
  if (clIndex !== -1) {
    contentLength = parseLength(values[clIndex], maxSize);
    if (contentLength < 0) throw headerFailure(text, startLine, `bad Content-Length "${values[clIndex]}"`, SipParseErrorCode.CONTENT_LENGTH);
    bodyEnd = bodyStart + contentLength;
    if (bodyEnd > buf.length) {
      throw headerFailure(text, startLine, `Content-Length ${contentLength} but only ${buf.length - bodyStart} octets`, SipParseErrorCode.CONTENT_LENGTH_EXCEEDS);
    }
  } else {
    bodyEnd = buf.length;
  }
  const msg = new SipMessage(isRequest, method, requestUri, status, reason, version, keys, names, values, EMPTY, null);
  msg._setSource(buf, start, bodyStart, bodyEnd);
  return msg;
}

function trimCr(text: string, from: number, to: number): string {
  return to > from && text.charCodeAt(to - 1) === 0x0d ? text.slice(from, to - 1) : text.slice(from, to);
}

/** `SIP/` in any case starts a Status-Line: a method token cannot contain `/`. */
function isStatusLine(line: string): boolean {
  return (
    line.length > 4 &&
    line.charCodeAt(3) === 0x2f &&
    (line.charCodeAt(0) | 0x20) === 0x73 &&
    (line.charCodeAt(1) | 0x20) === 0x69 &&
    (line.charCodeAt(2) | 0x20) === 0x70
  );
}

/** SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT (case-insensitive, §25.1). */
function isVersion(v: string): boolean {
  return v === 'SIP/2.0' || /^SIP\/\d+\.\d+$/i.test(v);
}

/** Status-Code = 3DIGIT in 100..699 (§7.2, §21; RFC 4475 §3.1.2.19). */
function parseStatus(line: string, i: number): number {
  if (i + 3 > line.length) return -1;
  let n = 0;
  for (let k = i; k < i + 3; k++) {
    const d = line.charCodeAt(k) - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n >= 100 && n <= 699 ? n : -1;
}

/** Request-URI = SIP-URI / SIPS-URI / absoluteURI: a scheme, ':', and no whitespace or `<>`. */
function isAbsoluteUri(uri: string): boolean {
  const colon = uri.indexOf(':');
  if (colon < 1 || colon === uri.length - 1) return false;
  const c0 = uri.charCodeAt(0) | 0x20;
  if (c0 < 0x61 || c0 > 0x7a) return false;
  for (let i = 1; i < colon; i++) if (!inTable(SCHEME_CHARS, uri.charCodeAt(i))) return false;
  for (let i = colon + 1; i < uri.length; i++) {
    const c = uri.charCodeAt(i);
    if (c <= 0x20 || c === 0x3c || c === 0x3e || c === 0x22 || c === 0x7f) return false;
  }
  return true;
}

/** Content-Length = 1*DIGIT, at most `max` (a length beyond any acceptable message is absurd). */
function parseLength(v: string, max: number): number {
  if (v.length === 0 || v.length > 10) return -1;
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const d = v.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n <= max ? n : -1;
}

// ---- error paths (cold) ---------------------------------------------------------------------

/** True when a start line has the shape of a Request-Line, even a malformed one. */
function looksLikeRequest(startLine: string): boolean {
  return !isStatusLine(startLine) && /^[!-~]+ .*\bSIP\/\d+\.\d+\s*$/i.test(startLine);
}

function failure(buf: Buffer, start: number, code: SipParseErrorCode, why: string): SipParseError {
  const end = Math.min(buf.length, start + DEFAULT_MAX_SIZE);
  const text = buf.toString('utf8', start, end);
  const nl = text.indexOf('\n');
  return headerFailure(text, trimCr(text, 0, nl === -1 ? text.length : nl), why, code);
}

function headerFailure(
  text: string,
  startLine: string,
  why: string,
  code: SipParseErrorCode = SipParseErrorCode.HEADER_LINE,
): SipParseError {
  const isRequest = looksLikeRequest(startLine);
  return new SipParseError(code, why, isRequest, isRequest ? salvageReplyHeaders(text) : null);
}

/**
 * Best-effort scan for the headers a 400 needs (§8.2.6.1) in text that failed to parse:
 * unfolds lines, accepts compact names, skips anything unreadable.
 */
export function salvageReplyHeaders(text: string): SipReplyHeaders | null {
  const out: SipReplyHeaders = { via: [], from: null, to: null, callId: null, cseq: null };
  const lines = text.split(/\r?\n/);
  const headerEnd = lines.indexOf('');
  const unfolded: string[] = [];
  for (const line of lines.slice(1, headerEnd === -1 ? lines.length : headerEnd)) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && unfolded.length > 0) unfolded[unfolded.length - 1] += ` ${line.trim()}`;
    else unfolded.push(line);
  }
  for (const line of unfolded) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = headerKey(line.slice(0, colon).trim());
    const value = line.slice(colon + 1).trim();
    if (key === 'via') out.via.push(value);
    else if (key === 'from' && out.from === null) out.from = value;
    else if (key === 'to' && out.to === null) out.to = value;
    else if (key === 'call-id' && out.callId === null) out.callId = value;
    else if (key === 'cseq' && out.cseq === null) out.cseq = value;
  }
  if (out.via.length === 0 && out.from === null && out.to === null && out.callId === null && out.cseq === null) return null;
  return out;
}
