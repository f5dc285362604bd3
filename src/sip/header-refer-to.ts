/**
 * Refer-To (RFC 3515 §2.1), compact form `r`: where a REFER sends its recipient. The URI may
 * embed headers for the request the recipient will send (RFC 3261 §19.1.1 `?hname=hvalue&...`),
 * notably an escaped Replaces for attended transfer (RFC 3891 §6.1, RFC 5589 §7).
 *
 *     Refer-To = ("Refer-To" / "r") HCOLON ( name-addr / addr-spec ) *(SEMI generic-param)
 *
 *     Refer-To: <sip:carol@chicago.example.com>
 *     Refer-To: <sip:alice@atlanta.example.com?Replaces=12345%40192.168.118.3%3Bto-tag%3D12345%3Bfrom-tag%3D5FFE-3994>
 *                                                      \___ "12345@192.168.118.3;to-tag=12345;from-tag=5FFE-3994" ___/
 */
import type { SipMessage } from './message.ts';
import { indexOfUnquoted } from './header-chars.ts';
import { formatNameAddr, parseNameAddr } from './header-name-addr.ts';
import type { NameAddr } from './header-name-addr.ts';
import type { SipParams } from './header-params.ts';
import { headerKey } from './header-names.ts';
import { formatReplaces, parseReplaces } from './header-replaces.ts';
import type { Replaces } from './header-replaces.ts';
import { SipReferError, SipReferErrorCode } from './refer-errors.ts';
import { parseUri, unescapeUri } from './uri.ts';
import type { SipUri } from './uri.ts';

/** A parsed Refer-To. */
export interface ReferTo {
  /** The value as parsed: display name, URI (embedded headers still escaped), header params. */
  nameAddr: NameAddr;
  /** Where the triggered request goes: the URI without its `?headers` and `method` parameter. */
  target: SipUri;
  /** Method of the triggered request: the URI's `method` parameter (§19.1.1), default `INVITE`. */
  method: string;
  /** The embedded Replaces, parsed (RFC 3891 §6.1), or null. */
  replaces: Replaces | null;
  /**
   * The other embedded headers in order, names as written, values unescaped. What a request
   * built from the URI may carry is the caller's decision: see `triggeredRequestHeaders`.
   */
  headers: Array<[name: string, value: string]>;
}

/**
 * Parses one Refer-To value (RFC 3515 §2.1) and its embedded headers (RFC 3261 §19.1.1).
 *
 * @example parseReferTo('<sip:bob@b.example?Replaces=1%40a%3Bto-tag%3D2%3Bfrom-tag%3D3>').replaces?.callId // '1@a'
 * @throws SipReferError (sipStatus 400): `SIP_ERR_REFER_TO_INVALID` for a bad name-addr or
 *   embedded header, `SIP_ERR_REPLACES_INVALID` for a bad embedded Replaces, and
 *   `SIP_ERR_REPLACES_MISPLACED` for two of them or one with a method other than INVITE.
 */
export function parseReferTo(value: string): ReferTo {
  let nameAddr: NameAddr;
  try {
    nameAddr = parseNameAddr(value);
  } catch (err) {
    throw invalid(value, (err as Error).message, err);
  }
  const uri = nameAddr.uri;
  const methodParam = uri.params.get('method');
  if (methodParam === null) throw invalid(value, 'the method parameter has no value');
  const method = methodParam ?? 'INVITE';
  if (countEmbedded(value, 'replaces') > 1) {
    // parseUri keeps one value per name, so the count comes from the text.
    throw new SipReferError(SipReferErrorCode.REPLACES_MISPLACED, `two Replaces embedded in Refer-To "${value}"`);
  }
  let replaces: Replaces | null = null;
  const headers: Array<[string, string]> = [];
  for (const [name, raw] of uri.headers) {
    const key = headerKey(unescapeUri(name));
    if (key === null) throw invalid(value, `embedded header name "${name}" is not a token`);
    const v = unescapeUri(raw);
    if (key !== 'replaces') {
      headers.push([unescapeUri(name), v]);
      continue;
    }
    if (replaces !== null) throw new SipReferError(SipReferErrorCode.REPLACES_MISPLACED, `two Replaces embedded in Refer-To "${value}"`);
    if (method !== 'INVITE') throw new SipReferError(SipReferErrorCode.REPLACES_MISPLACED, `Replaces embedded in a Refer-To for ${method} (RFC 3891 §3: INVITE only)`);
    replaces = parseReplaces(v);
  }
  const params: SipParams = new Map(uri.params);
  params.delete('method');
  const target: SipUri = { ...uri, params, headers: new Map() };
  return { nameAddr, target, method, replaces, headers };
}

/**
 * The Refer-To of a REFER request: exactly one value is required (RFC 3515 §2.4.1).
 *
 * @throws SipReferError 400: `SIP_ERR_REFER_TO_MISSING`, `SIP_ERR_REFER_TO_MULTIPLE`, or a parse error of `parseReferTo`.
 */
export function referToOfRequest(refer: SipMessage): ReferTo {
  const values = refer.getHeaders('refer-to');
  if (values.length === 0) throw new SipReferError(SipReferErrorCode.REFER_TO_MISSING, 'REFER without Refer-To (RFC 3515 §2.4.1)');
  // Refer-To is not split as a list, so `<a>, <b>` on one line is one string: look for the comma.
  if (values.length > 1 || indexOfUnquoted(values[0], 0x2c) !== -1) {
    throw new SipReferError(SipReferErrorCode.REFER_TO_MULTIPLE, 'REFER with more than one Refer-To value (RFC 3515 §2.4.1)');
  }
  return parseReferTo(values[0]);
}

/**
 * Headers that a Refer-To URI must not smuggle into the triggered request: the ones the UA
 * builds itself for a new dialog (RFC 3261 §19.1.5: "headers that... the UA constructs"), plus
 * framing. Everything else (Replaces, Require, Accept-Contact, Subject...) is copied.
 */
const NOT_FROM_URI = new Set([
  'via', 'from', 'to', 'call-id', 'cseq', 'contact', 'route', 'record-route', 'max-forwards',
  'content-length', 'content-type', 'content-encoding', 'authorization', 'proxy-authorization',
  'body',
]);

/** The embedded headers (Replaces excluded) a triggered request may carry, as `[name, value]` pairs. */
export function triggeredRequestHeaders(referTo: ReferTo): Array<[string, string]> {
  return referTo.headers.filter(([name]) => !NOT_FROM_URI.has(headerKey(name) ?? ''));
}

/** Options of `formatReferTo`. */
export interface FormatReferToOptions {
  /** The target; its own embedded headers are kept. */
  uri: SipUri | string;
  displayName?: string | null;
  /** Embedded as `?Replaces=<escaped>` (attended transfer, RFC 5589 §7). */
  replaces?: Replaces | Omit<Replaces, 'params'>;
  /** Other headers to embed, values unescaped (they are escaped here). */
  headers?: ReadonlyArray<readonly [string, string]>;
  /** Header parameters after the `>`. */
  params?: SipParams;
}

/**
 * Builds a Refer-To value, always as a name-addr (a URI with `?` needs `<>`, RFC 3261 §20.10),
 * escaping embedded header values per §19.1.1 / §25.1 (`;` `=` `@` `%` ... become `%XX`).
 *
 * @example formatReferTo({ uri: 'sip:bob@b.example', replaces: { callId: '1@a', toTag: '2', fromTag: '3', earlyOnly: false } })
 *   // '<sip:bob@b.example?Replaces=1%40a%3Bto-tag%3D2%3Bfrom-tag%3D3>'
 */
export function formatReferTo(o: FormatReferToOptions): string {
  const base = typeof o.uri === 'string' ? parseUri(o.uri) : o.uri;
  const headers = new Map(base.headers);
  if (o.replaces !== undefined) headers.set('Replaces', escapeUriHeaderValue(formatReplaces(o.replaces)));
  for (const [name, value] of o.headers ?? []) headers.set(name, escapeUriHeaderValue(value));
  return formatNameAddr({
    displayName: o.displayName ?? null,
    uri: { ...base, headers },
    params: o.params ?? new Map(),
  });
}

/** hvalue = *( hnv-unreserved / unreserved / escaped ) (RFC 3261 §25.1); `%` itself is escaped. */
const HVALUE_CHARS = (() => {
  const t = new Uint8Array(128);
  for (let c = 0x30; c <= 0x39; c++) t[c] = 1;
  for (let c = 0x41; c <= 0x5a; c++) t[c] = 1;
  for (let c = 0x61; c <= 0x7a; c++) t[c] = 1;
  for (const ch of "-_.!~*'()[]/?:+$") t[ch.charCodeAt(0)] = 1;
  return t;
})();

/**
 * Escapes text for use as a URI header value (RFC 3261 §19.1.1): every octet outside
 * `hnv-unreserved / unreserved` as `%XX` (UTF-8). `unescapeUri` reverses it.
 *
 * @example escapeUriHeaderValue('a@b;to-tag=1') // 'a%40b%3Bto-tag%3D1'
 */
export function escapeUriHeaderValue(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    if (byte < 128 && HVALUE_CHARS[byte] === 1) out += String.fromCharCode(byte);
    else out += `%${byte < 16 ? '0' : ''}${byte.toString(16).toUpperCase()}`;
  }
  return out;
}

/** How many embedded headers named `key` the URI of a Refer-To value has (names unescaped, any case). */
function countEmbedded(value: string, key: string): number {
  const lt = value.indexOf('<');
  const uriText = lt === -1 ? value : value.slice(lt + 1, value.indexOf('>', lt));
  // The user part may hold '?' (RFC 3261 §25.1 user-unreserved); headers start after the host.
  const q = uriText.indexOf('?', uriText.indexOf('@') + 1);
  if (q === -1) return 0;
  let n = 0;
  for (const h of uriText.slice(q + 1).split('&')) {
    const eq = h.indexOf('=');
    if (headerKey(unescapeUri(eq === -1 ? h : h.slice(0, eq))) === key) n++;
  }
  return n;
}

function invalid(value: string, why: string, cause?: unknown): SipReferError {
  return new SipReferError(SipReferErrorCode.REFER_TO_INVALID, `invalid Refer-To "${value}": ${why}`, cause === undefined ? undefined : { cause });
}
