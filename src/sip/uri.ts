/**
 * URIs: `sip:` / `sips:` (RFC 3261 §19.1, IPv6 per RFC 5118), `tel:` (RFC 3966) and any other
 * scheme kept as an opaque absolute URI (§19.1.6, RFC 4475 §3.3.2).
 *
 *     sip:user:password@host:port;uri-parameters?headers
 *     tel:+1-201-555-0123;phone-context=example.com
 *     urn:service:sos              (opaque: scheme + everything after ":")
 */
import { isIPv6 } from 'node:net';
import { SipParseError, SipParseErrorCode } from './errors.ts';
import {
  PASSWORD_CHARS,
  SCHEME_CHARS,
  URI_HEADER_CHARS,
  URI_PARAM_CHARS,
  USER_CHARS,
  allIn,
  inTable,
  scan,
} from './header-chars.ts';
import { NO_PARAMS, NO_URI_HEADERS, type SipParams } from './header-params.ts';

/**
 * A parsed URI. Plain data: mutate freely, then `formatUri` it; except that a parsed URI without
 * parameters or headers shares the read-only `NO_PARAMS` / `NO_URI_HEADERS` (give it a new
 * Map to add some).
 *
 * - `user` and `password` are unescaped (`%41` -> `A`) because they are identity keys
 *   (registrar bindings, digest usernames); `formatUri` escapes them again where needed.
 *   For `tel:` the telephone-subscriber (`+1-201-555-0123`) is in `user`.
 * - `host` is lowercased, IPv6 without brackets (`::1`); '' for `tel:` and opaque URIs.
 * - `params` / `headers` keep values as on the wire (escaped); `unescapeUri` gives their meaning.
 * - `opaque` is set only for schemes other than sip, sips and tel.
 */
export interface SipUri {
  scheme: string;
  user: string | null;
  password: string | null;
  host: string;
  port: number | null;
  params: SipParams;
  headers: Map<string, string>;
  opaque: string | null;
}

/** Hostnames: alphanum, `-`, `.` and (seen in the wild, harmless) `_`. */
const HOSTNAME_CHARS = (() => {
  const t = new Uint8Array(128);
  for (const ch of '-._0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ') t[ch.charCodeAt(0)] = 1;
  return t;
})();
const IPV6_CHARS = (() => {
  const t = new Uint8Array(128);
  for (const ch of ':.0123456789abcdefABCDEF') t[ch.charCodeAt(0)] = 1;
  return t;
})();
/** RFC 3966 phonedigit-hex plus visual separators and the `*#` keys; kept lenient. */
const TEL_CHARS = (() => {
  const t = new Uint8Array(128);
  for (const ch of "+-.()*#0123456789abcdefABCDEFpwPW") t[ch.charCodeAt(0)] = 1;
  return t;
})();

/**
 * Parses a URI.
 *
 * @example parseUri('sip:alice@[2001:db8::1]:5070;transport=tcp').port // 5070
 * @throws SipParseError `SIP_ERR_PARSE_URI` when the text is not a valid URI of its scheme.
 */
export function parseUri(s: string): SipUri {
  if (s.startsWith('sip:')) return parseSipUri(s, 'sip', 4); // the usual spelling: no scheme work
  const colon = s.indexOf(':');
  if (colon < 1 || !isScheme(s, colon)) throw uriError(s, 'missing or invalid scheme');
  const scheme = s.slice(0, colon).toLowerCase();
  if (scheme === 'sip' || scheme === 'sips') return parseSipUri(s, scheme, colon + 1);
  if (scheme === 'tel') return parseTelUri(s, colon + 1);
  const opaque = s.slice(colon + 1);
  if (opaque.length === 0 || /[\s<>"]/.test(opaque)) throw uriError(s, 'invalid opaque URI');
  return { scheme, user: null, password: null, host: '', port: null, params: NO_PARAMS, headers: NO_URI_HEADERS, opaque };
}

function isScheme(s: string, end: number): boolean {
  const c0 = s.charCodeAt(0) | 0x20;
  if (c0 < 0x61 || c0 > 0x7a) return false;
  for (let i = 1; i < end; i++) if (!inTable(SCHEME_CHARS, s.charCodeAt(i))) return false;
  return true;
}

function parseSipUri(s: string, scheme: string, start: number): SipUri {
  let user: string | null = null;
  let password: string | null = null;
  // '@' cannot appear unescaped in params or headers (§25.1), so the first one ends userinfo;
  // the user part itself may hold ';' '?' ',' (RFC 4475 §3.1.1.2, §3.1.1.9).
  const at = s.indexOf('@', start);
  let i = start;
  if (at !== -1) {
    const pw = s.indexOf(':', start);
    const userEnd = pw !== -1 && pw < at ? pw : at;
    const rawUser = s.slice(start, userEnd);
    if (!allIn(USER_CHARS, rawUser)) throw uriError(s, 'invalid user part');
    user = unescapeUri(rawUser);
    if (userEnd !== at) {
      const rawPw = s.slice(userEnd + 1, at);
      if (rawPw.length > 0 && !allIn(PASSWORD_CHARS, rawPw)) throw uriError(s, 'invalid password');
      password = unescapeUri(rawPw);
    }
    i = at + 1;
  }
  let host: string;
  if (s.charCodeAt(i) === 0x5b) {
    // IPv6reference = "[" IPv6address "]" (RFC 5118 §4.1)
    const close = s.indexOf(']', i);
    if (close === -1) throw uriError(s, 'unterminated IPv6 reference');
    host = s.slice(i + 1, close).toLowerCase();
    // RFC 5954 §4.1: IPv6address is RFC 3986's, not RFC 3261's buggy ABNF that let
    // `2001:db8:::192.0.2.1` through (RFC 5118 §4.8 "ipv6-bug-abnf-3-colons"). isIPv6 also
    // takes zone ids (`%eth0`), which the character check has already refused.
    if (!allIn(IPV6_CHARS, host) || !isIPv6(host)) throw uriError(s, 'invalid IPv6 address');
    i = close + 1;
  } else {
    const end = scan(HOSTNAME_CHARS, s, i);
    if (end === i) throw uriError(s, 'missing host');
    host = s.slice(i, end).toLowerCase();
    i = end;
  }
  let port: number | null = null;
  if (s.charCodeAt(i) === 0x3a) {
    const end = scanDigits(s, i + 1);
    if (end === i + 1 || end - i - 1 > 5) throw uriError(s, 'invalid port');
    port = Number(s.slice(i + 1, end));
    if (port > 65535) throw uriError(s, 'port out of range');
    i = end;
  }
  let params = NO_PARAMS;
  if (s.charCodeAt(i) === 0x3b) {
    params = new Map();
    i = parseUriParams(s, i, params);
  }
  let headers = NO_URI_HEADERS;
  if (s.charCodeAt(i) === 0x3f) {
    headers = new Map();
    i = parseUriHeaders(s, i + 1, headers);
  }
  if (i !== s.length) throw uriError(s, `unexpected "${s[i]}"`);
  return { scheme, user, password, host, port, params, headers, opaque: null };
}

function parseTelUri(s: string, start: number): SipUri {
  const end = scan(TEL_CHARS, s, start);
  if (end === start) throw uriError(s, 'missing telephone-subscriber');
  let params = NO_PARAMS;
  let i = end;
  if (s.charCodeAt(i) === 0x3b) {
    params = new Map();
    i = parseUriParams(s, i, params);
  }
  if (i !== s.length) throw uriError(s, `unexpected "${s[i]}"`);
  return { scheme: 'tel', user: s.slice(start, end), password: null, host: '', port: null, params, headers: NO_URI_HEADERS, opaque: null };
}

/** `*( ";" pname [ "=" pvalue ] )` with no whitespace: LWS inside a URI is an error (RFC 4475 §3.1.2.8). */
function parseUriParams(s: string, i: number, out: SipParams): number {
  while (i < s.length && s.charCodeAt(i) === 0x3b) {
    const nameEnd = scan(URI_PARAM_CHARS, s, i + 1);
    if (nameEnd === i + 1) throw uriError(s, 'empty URI parameter name');
    const name = s.slice(i + 1, nameEnd).toLowerCase();
    if (nameEnd < s.length && s.charCodeAt(nameEnd) === 0x3d) {
      const vEnd = scan(URI_PARAM_CHARS, s, nameEnd + 1);
      if (vEnd === nameEnd + 1) throw uriError(s, `URI parameter "${name}" has no value`);
      out.set(name, s.slice(nameEnd + 1, vEnd));
      i = vEnd;
    } else {
      out.set(name, null);
      i = nameEnd;
    }
  }
  return i;
}

/** `hname "=" hvalue *( "&" hname "=" hvalue )`; hvalue may be empty. */
function parseUriHeaders(s: string, i: number, out: Map<string, string>): number {
  for (;;) {
    const nameEnd = scan(URI_HEADER_CHARS, s, i);
    if (nameEnd === i || s.charCodeAt(nameEnd) !== 0x3d) throw uriError(s, 'invalid URI header');
    const vEnd = scan(URI_HEADER_CHARS, s, nameEnd + 1);
    out.set(s.slice(i, nameEnd), s.slice(nameEnd + 1, vEnd));
    if (vEnd >= s.length || s.charCodeAt(vEnd) !== 0x26) return vEnd;
    i = vEnd + 1;
  }
}

function scanDigits(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) break;
    i++;
  }
  return i;
}

/**
 * Writes a URI in canonical form: lowercase scheme and host, user/password escaped where the
 * grammar requires, IPv6 hosts bracketed, params and headers as stored.
 *
 * @example formatUri(parseUri('SIP:%61lice@EXAMPLE.com')) // 'sip:alice@example.com'
 */
export function formatUri(uri: SipUri): string {
  if (uri.opaque !== null) return `${uri.scheme}:${uri.opaque}`;
  let out = `${uri.scheme}:`;
  if (uri.scheme === 'tel') out += uri.user ?? '';
  else {
    if (uri.user !== null) {
      out += escapeUri(uri.user, USER_CHARS);
      if (uri.password !== null) out += `:${escapeUri(uri.password, PASSWORD_CHARS)}`;
      out += '@';
    }
    out += uri.host.indexOf(':') === -1 ? uri.host : `[${uri.host}]`;
    if (uri.port !== null) out += `:${uri.port}`;
  }
  for (const [name, value] of uri.params) out += value === null ? `;${name}` : `;${name}=${value}`;
  let sep = '?';
  for (const [name, value] of uri.headers) {
    out += `${sep}${name}=${value}`;
    sep = '&';
  }
  return out;
}

/**
 * Resolves `%XX` escapes. Escaped UTF-8 sequences become their characters; if the octets are
 * not valid UTF-8 each one becomes the character of the same code (latin1), and a `%` not
 * followed by two hex digits stays literal (RFC 4475 §3.1.1.5 sends such text).
 */
export function unescapeUri(s: string): string {
  if (s.indexOf('%') === -1) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s.replace(/%([0-9a-fA-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  }
}

/** Escapes every character of `s` not in `allowed` (and `%` itself) as UTF-8 `%XX`. */
function escapeUri(s: string, allowed: Uint8Array): string {
  let ok = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 || !inTable(allowed, c)) {
      ok = false;
      break;
    }
  }
  if (ok) return s;
  let out = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (c !== 0x25 && inTable(allowed, c)) out += ch;
    else if (c < 0x80) out += `%${c < 16 ? '0' : ''}${c.toString(16).toUpperCase()}`;
    else out += encodeURIComponent(ch);
  }
  return out;
}

/** Params that must be present in both URIs if present in either (§19.1.4). */
const SIGNIFICANT_PARAMS = ['user', 'ttl', 'method', 'maddr', 'transport'] as const;

/**
 * URI equality per RFC 3261 §19.1.4 (sip/sips) and RFC 3966 §4 (tel):
 * userinfo case-sensitive after unescaping; host, scheme, param names/values case-insensitive;
 * an absent port is not 5060; `user`, `ttl`, `method`, `maddr`, `transport` must match when
 * present in either; other params only when present in both; headers must all match.
 */
export function uriEquals(a: SipUri, b: SipUri): boolean {
  if (a.scheme !== b.scheme) return false;
  if (a.opaque !== null || b.opaque !== null) return a.opaque === b.opaque;
  if (a.scheme === 'tel') return telEquals(a, b);
  if (a.user !== b.user || a.password !== b.password) return false;
  if (a.host !== b.host || a.port !== b.port) return false;
  for (const name of SIGNIFICANT_PARAMS) {
    if (a.params.has(name) !== b.params.has(name)) return false;
  }
  for (const [name, va] of a.params) {
    if (!b.params.has(name)) continue;
    if (!componentEquals(va, b.params.get(name) ?? null)) return false;
  }
  if (a.headers.size !== b.headers.size) return false;
  for (const [name, va] of a.headers) {
    const vb = findHeader(b.headers, name);
    if (vb === undefined || !componentEquals(va, vb)) return false;
  }
  return true;
}

/** RFC 3966 §4: numbers compare without visual separators; all parameters must match. */
function telEquals(a: SipUri, b: SipUri): boolean {
  const strip = (n: string | null) => (n ?? '').replace(/[-.()]/g, '').toLowerCase();
  if (strip(a.user) !== strip(b.user) || a.params.size !== b.params.size) return false;
  for (const [name, va] of a.params) {
    if (!b.params.has(name) || !componentEquals(va, b.params.get(name) ?? null)) return false;
  }
  return true;
}

function componentEquals(a: string | null, b: string | null): boolean {
  if (a === b) return true;
  if (a === null || b === null) return false;
  return unescapeUri(a).toLowerCase() === unescapeUri(b).toLowerCase();
}

function findHeader(headers: Map<string, string>, name: string): string | undefined {
  const v = headers.get(name);
  if (v !== undefined) return v;
  const lower = name.toLowerCase();
  for (const [n, value] of headers) if (n.toLowerCase() === lower) return value;
  return undefined;
}

function uriError(s: string, why: string): SipParseError {
  return new SipParseError(SipParseErrorCode.URI, `${why} in URI "${s}"`);
}
