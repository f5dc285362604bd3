/**
 * Generic header parameters: `*( SEMI generic-param )` (RFC 3261 §25.1, §7.3.1).
 *
 *     ;  name  =  value     SEMI = SWS ";" SWS, EQUAL = SWS "=" SWS
 *     generic-param = token [ EQUAL gen-value ];  gen-value = token / host / quoted-string
 *
 * Names are case-insensitive and stored lowercased; values are kept exactly as on the wire
 * (a quoted value keeps its quotes) so formatting is lossless. A flag parameter (no `=`) has the
 * value `null`.
 */
import { SipParseError, SipParseErrorCode } from './errors.ts';
import { GEN_VALUE_CHARS, TOKEN_CHARS, scan, scanQuoted, skipWs, unquote } from './header-chars.ts';

/** Parameters by lowercased name, in wire order; `null` = present without a value. */
export type SipParams = Map<string, string | null>;

/**
 * An empty map that refuses changes. Parsed URIs and name-addrs without parameters (most
 * From, To and Request-URIs) share one instead of allocating two Maps each: a REGISTER or
 * INVITE parses several. Edit a copy (`new Map(params)`), as the code already does.
 */
class EmptyMap<V> extends Map<string, V> {
  override set(): this {
    throw readOnly();
  }
  override delete(): boolean {
    throw readOnly();
  }
  override clear(): void {
    throw readOnly();
  }
}

const readOnly = (): TypeError => new TypeError('shared empty parameter map: copy it (new Map(params)) before changing it');

/** The shared empty parameters (read-only). */
export const NO_PARAMS: SipParams = Object.freeze(new EmptyMap<string | null>()) as SipParams;
/** The shared empty URI headers (read-only). */
export const NO_URI_HEADERS: Map<string, string> = Object.freeze(new EmptyMap<string>()) as Map<string, string>;

/**
 * Parses parameters from `s` starting at `i` (at or before the first `;`) into `out`, stopping
 * at the end of `s` or at the first character that cannot continue the list. Returns the index
 * where it stopped; the caller decides whether anything may follow.
 *
 * @throws SipParseError `SIP_ERR_PARSE_PARAMS` on an empty name (`;;`) or a missing value after `=`.
 */
export function parseParams(s: string, i: number, out: SipParams): number {
  for (;;) {
    const semi = skipWs(s, i);
    if (semi >= s.length || s.charCodeAt(semi) !== 0x3b) return i;
    const nameStart = skipWs(s, semi + 1);
    const nameEnd = scan(TOKEN_CHARS, s, nameStart);
    if (nameEnd === nameStart) throw paramError(s, 'empty parameter name');
    const name = s.slice(nameStart, nameEnd).toLowerCase();
    const eq = skipWs(s, nameEnd);
    if (eq < s.length && s.charCodeAt(eq) === 0x3d) {
      const vStart = skipWs(s, eq + 1);
      let vEnd: number;
      if (vStart < s.length && s.charCodeAt(vStart) === 0x22) {
        vEnd = scanQuoted(s, vStart);
        if (vEnd === -1) throw paramError(s, 'unterminated quoted parameter value');
      } else {
        vEnd = scan(GEN_VALUE_CHARS, s, vStart);
        if (vEnd === vStart) throw paramError(s, `parameter "${name}" has no value`);
      }
      out.set(name, s.slice(vStart, vEnd));
      i = vEnd;
    } else {
      out.set(name, null);
      i = nameEnd;
    }
  }
}

/** Formats parameters as `;name=value;flag`, values as stored (already wire form). */
export function formatParams(params: SipParams): string {
  let out = '';
  for (const [name, value] of params) out += value === null ? `;${name}` : `;${name}=${value}`;
  return out;
}

/** A parameter's value, unquoted if it was a quoted-string (e.g. `+sip.instance`), or null. */
export function paramValue(params: SipParams, name: string): string | null {
  const v = params.get(name);
  if (v === undefined || v === null) return null;
  return v.length >= 2 && v.charCodeAt(0) === 0x22 ? unquote(v) : v;
}

function paramError(s: string, why: string): SipParseError {
  return new SipParseError(SipParseErrorCode.PARAMS, `${why} in "${s}"`);
}
