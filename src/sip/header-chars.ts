/**
 * Character classes and small scanners shared by the header parsers (RFC 3261 §25.1).
 *
 * Lookup tables over ASCII (index = char code) so the hot loops do one array read per
 * character instead of a regex or a chain of comparisons.
 */

function table(chars: string, alnum = true): Uint8Array {
  const t = new Uint8Array(128);
  if (alnum) {
    for (let c = 0x30; c <= 0x39; c++) t[c] = 1;
    for (let c = 0x41; c <= 0x5a; c++) t[c] = 1;
    for (let c = 0x61; c <= 0x7a; c++) t[c] = 1;
  }
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1;
  return t;
}

/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
export const TOKEN_CHARS = table("-.!%*_+`'~");
/** gen-value = token / host / quoted-string: unquoted values may also hold IPv6 `[::1]`. */
export const GEN_VALUE_CHARS = table("-.!%*_+`'~:[]");
/** Characters of a host name, IPv4 or (bracketed) IPv6 reference (§25.1 hostport). */
export const HOST_CHARS = table('-.:[]');
/** user = 1*( unreserved / escaped / user-unreserved ) (§25.1). */
export const USER_CHARS = table("-_.!~*'()%&=+$,;?/");
/** password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," ) (§25.1). */
export const PASSWORD_CHARS = table("-_.!~*'()%&=+$,");
/** paramchar = param-unreserved / unreserved / escaped (§25.1 uri-parameter). */
export const URI_PARAM_CHARS = table("-_.!~*'()%[]/:&+$");
/** hname / hvalue = hnv-unreserved / unreserved / escaped (§25.1 header). */
export const URI_HEADER_CHARS = table("-_.!~*'()%[]/?:+$");
/** scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (§25.1). */
export const SCHEME_CHARS = table('+-.');

/** True when `c` (a char code) is in `t`; non-ASCII is never in a table. */
export function inTable(t: Uint8Array, c: number): boolean {
  return c < 128 && t[c] === 1;
}

/** True when every character of `s` is in `t` (and `s` is not empty). */
export function allIn(t: Uint8Array, s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || t[c] !== 1) return false;
  }
  return true;
}

/** Skips SP and HTAB (folded lines were already joined with SP by the message parser). */
export function skipWs(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09) break;
    i++;
  }
  return i;
}

/** Index just past the end of the run of `t` characters starting at `i`. */
export function scan(t: Uint8Array, s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c >= 128 || t[c] !== 1) break;
    i++;
  }
  return i;
}

/**
 * Scans a quoted-string whose opening DQUOTE is at `i`:
 * `quoted-string = SWS DQUOTE *(qdtext / quoted-pair) DQUOTE`, quoted-pair = "\" (%x00-09 /
 * %x0B-0C / %x0E-7F). Returns the index just past the closing quote, or -1 if unterminated.
 */
export function scanQuoted(s: string, i: number): number {
  for (i++; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x5c) i++; // quoted-pair: the next character is literal, even a DQUOTE
    else if (c === 0x22) return i + 1;
  }
  return -1;
}

/** Removes the surrounding quotes of a quoted-string and resolves its quoted-pairs. */
export function unquote(q: string): string {
  const inner = q.slice(1, -1);
  if (inner.indexOf('\\') === -1) return inner;
  let out = '';
  for (let i = 0; i < inner.length; i++) {
    const ch = inner[i];
    if (ch === '\\' && i + 1 < inner.length) out += inner[++i];
    else out += ch;
  }
  return out;
}

/** Writes `s` as a quoted-string, escaping `"` and `\` (§25.1 quoted-pair). */
export function quote(s: string): string {
  let needs = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22 || c === 0x5c) {
      needs = true;
      break;
    }
  }
  return needs ? `"${s.replace(/["\\]/g, '\\$&')}"` : `"${s}"`;
}

/**
 * Index of the first `ch` (a char code) at or after `i` that is outside quoted-strings and
 * outside `<...>`, or -1. This is how list headers are split on commas (§7.3.1).
 */
export function indexOfUnquoted(s: string, ch: number, i = 0): number {
  let angle = false;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22 && !angle) {
      const end = scanQuoted(s, i);
      if (end === -1) return -1;
      i = end - 1;
    } else if (c === 0x3c) angle = true;
    else if (c === 0x3e) angle = false;
    else if (c === ch && !angle) return i;
  }
  return -1;
}

/**
 * Splits a header value on the commas that separate list elements (outside quotes and `<>`),
 * trimming each element. An unterminated quote keeps the rest as one element so the structured
 * parser reports it. Empty elements are kept (RFC 4475 §3.1.2.1 wants them rejected later).
 */
export function splitList(value: string, out: string[]): void {
  let start = 0;
  for (;;) {
    const comma = indexOfUnquoted(value, 0x2c, start);
    if (comma === -1) {
      out.push(start === 0 ? value : value.slice(start).trim());
      return;
    }
    out.push(value.slice(start, comma).trim());
    start = comma + 1;
  }
}
