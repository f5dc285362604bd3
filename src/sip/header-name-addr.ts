/**
 * name-addr / addr-spec with header parameters: From, To, Contact, Route, Record-Route,
 * Reply-To, Refer-To, P-Asserted-Identity... (RFC 3261 §20.10, §25.1).
 *
 *     name-addr    = [ display-name ] LAQUOT addr-spec RAQUOT      LAQUOT = SWS "<", RAQUOT = ">" SWS
 *     display-name = *(token LWS) / quoted-string
 *     "Alice \"A\"" <sip:alice@example.com;transport=tcp>;tag=1928
 *     sip:alice@example.com;tag=1928      (addr-spec: every ";param" is a header parameter)
 */
import { SipParseError, SipParseErrorCode } from './errors.ts';
import { TOKEN_CHARS, inTable, quote, scanQuoted, skipWs, unquote } from './header-chars.ts';
import { NO_PARAMS, formatParams, parseParams } from './header-params.ts';
import type { SipParams } from './header-params.ts';
import { formatUri, parseUri } from './uri.ts';
import type { SipUri } from './uri.ts';

/** A parsed name-addr or addr-spec. `displayName` is unquoted; null when absent. */
export interface NameAddr {
  displayName: string | null;
  uri: SipUri;
  /** Header parameters (`tag`, `expires`, `q`, `+sip.instance`...), names lowercased. */
  params: SipParams;
}

/**
 * Parses one name-addr or addr-spec (lists were already split on commas).
 *
 * @example parseNameAddr('"Bob" <sip:bob@example.com>;tag=a6c85cf').params.get('tag') // 'a6c85cf'
 * @throws SipParseError `SIP_ERR_PARSE_NAME_ADDR` (or `SIP_ERR_PARSE_URI` for a bad URI)
 */
export function parseNameAddr(s: string): NameAddr {
  let i = skipWs(s, 0);
  let displayName: string | null = null;
  let uriText: string;
  if (s.charCodeAt(i) === 0x22) {
    const end = scanQuoted(s, i);
    if (end === -1) throw nameAddrError(s, 'unterminated quoted display name');
    displayName = unquote(s.slice(i, end));
    i = skipWs(s, end);
    if (s.charCodeAt(i) !== 0x3c) throw nameAddrError(s, 'expected "<" after display name');
  } else {
    const lt = s.indexOf('<', i);
    if (lt !== -1) {
      displayName = tokenDisplayName(s, i, lt);
      i = lt;
    }
  }
  if (s.charCodeAt(i) === 0x3c) {
    const gt = s.indexOf('>', i + 1);
    if (gt === -1) throw nameAddrError(s, 'missing ">"');
    uriText = s.slice(i + 1, gt);
    i = gt + 1;
  } else {
    // addr-spec: the URI ends at the first ';' or whitespace (§20.10).
    let end = i;
    while (end < s.length) {
      const c = s.charCodeAt(end);
      if (c === 0x3b || c === 0x20 || c === 0x09) break;
      end++;
    }
    uriText = s.slice(i, end);
    i = end;
  }
  // LAQUOT / RAQUOT allow no whitespace inside the brackets (RFC 4475 §3.1.2.14).
  const uri = parseUri(uriText);
  i = skipWs(s, i);
  let params = NO_PARAMS;
  if (s.charCodeAt(i) === 0x3b) {
    params = new Map();
    try {
      i = skipWs(s, parseParams(s, i, params));
    } catch (err) {
      throw nameAddrError(s, (err as Error).message);
    }
  }
  if (i !== s.length) throw nameAddrError(s, `unexpected "${s[i]}"`);
  return { displayName, uri, params };
}

/** `*(token LWS)` before `<`: tokens joined by one space; null when empty. */
function tokenDisplayName(s: string, start: number, end: number): string | null {
  let out = '';
  let i = start;
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c === 0x20 || c === 0x09) {
      i++;
      continue;
    }
    let j = i;
    while (j < end && inTable(TOKEN_CHARS, s.charCodeAt(j))) j++;
    if (j === i) throw nameAddrError(s, `non-token character "${s[i]}" in display name`);
    out += out.length === 0 ? s.slice(i, j) : ` ${s.slice(i, j)}`;
    i = j;
  }
  return out.length === 0 ? null : out;
}

/**
 * Formats as a name-addr (always with `<>`, which is never wrong: §20.10 requires it whenever the
 * URI has `,` `;` or `?`). The display name is written as a quoted-string.
 */
export function formatNameAddr(na: NameAddr): string {
  const dn = na.displayName === null || na.displayName.length === 0 ? '' : `${quote(na.displayName)} `;
  return `${dn}<${formatUri(na.uri)}>${formatParams(na.params)}`;
}

function nameAddrError(s: string, why: string): SipParseError {
  return new SipParseError(SipParseErrorCode.NAME_ADDR, `${why} in "${s}"`);
}
