/**
 * The Replaces header (RFC 3891 §6.1): names a dialog that the INVITE carrying it replaces
 * (attended transfer, call pickup).
 *
 *     Replaces       = "Replaces" HCOLON callid *(SEMI replaces-param)
 *     replaces-param = to-tag / from-tag / early-flag / generic-param
 *     to-tag         = "to-tag" EQUAL token
 *     from-tag       = "from-tag" EQUAL token
 *     early-flag     = "early-only"
 *
 *     Replaces: 12adf2f34456gs5;to-tag=12345;from-tag=54321;early-only
 *
 * Inside a Refer-To URI the whole value is one escaped URI header (`?Replaces=a%40b%3Bto-tag%3D1...`,
 * see `header-refer-to.ts`). The tags are named from the point of view of the UA that *receives*
 * the INVITE: `to-tag` is its local tag, `from-tag` its remote tag (§3).
 */
import { indexOfUnquoted, skipWs, TOKEN_CHARS, allIn } from './header-chars.ts';
import { formatParams, parseParams } from './header-params.ts';
import type { SipParams } from './header-params.ts';
import { SipReferError, SipReferErrorCode } from './refer-errors.ts';

/** A parsed Replaces value. Strings are exact: Call-ID and tags compare case-sensitively (RFC 3261 §12). */
export interface Replaces {
  callId: string;
  /** Local tag of the replaced dialog at the recipient. */
  toTag: string;
  /** Remote tag of the replaced dialog at the recipient. */
  fromTag: string;
  /** `early-only`: replace the dialog only while it is early (§3: else 486). */
  earlyOnly: boolean;
  /** Other (extension) parameters, names lowercased, values as on the wire. */
  params: SipParams;
}

/** word = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" / "(" / ")" / "<" / ">" / ":" / "\" / DQUOTE / "/" / "[" / "]" / "?" / "{" / "}") (RFC 3261 §25.1) */
const WORD_CHARS = (() => {
  const t = new Uint8Array(128);
  for (let c = 0x30; c <= 0x39; c++) t[c] = 1;
  for (let c = 0x41; c <= 0x5a; c++) t[c] = 1;
  for (let c = 0x61; c <= 0x7a; c++) t[c] = 1;
  for (const ch of '-.!%*_+`\'~()<>:\\"/[]?{}') t[ch.charCodeAt(0)] = 1;
  return t;
})();

/** callid = word [ "@" word ] */
function isCallId(s: string): boolean {
  const at = s.indexOf('@');
  if (at === -1) return allIn(WORD_CHARS, s);
  return allIn(WORD_CHARS, s.slice(0, at)) && allIn(WORD_CHARS, s.slice(at + 1));
}

const KNOWN = new Set(['to-tag', 'from-tag', 'early-only']);

/**
 * Parses a Replaces value strictly: exactly one `to-tag` and one `from-tag` (§6.1: "MUST
 * contain exactly one to-tag and exactly one from-tag"), both tokens; `early-only` without a value.
 *
 * @example parseReplaces('98732@sip.example.com;from-tag=r33th4x0r;to-tag=ff87ff').toTag // 'ff87ff'
 * @throws SipReferError `SIP_ERR_REPLACES_INVALID` (sipStatus 400)
 */
export function parseReplaces(value: string): Replaces {
  const s = value.trim();
  let end = 0;
  while (end < s.length) {
    const c = s.charCodeAt(end);
    if (c === 0x3b || c === 0x20 || c === 0x09) break;
    end++;
  }
  const callId = s.slice(0, end);
  if (!isCallId(callId)) throw invalid(value, 'the Call-ID is missing or not a word ["@" word]');
  const params: SipParams = new Map();
  let i: number;
  try {
    i = skipWs(s, parseParams(s, end, params));
  } catch (err) {
    throw invalid(value, (err as Error).message, err);
  }
  if (i !== s.length) throw invalid(value, `unexpected "${s[i]}"`);
  // parseParams keeps the last of duplicate names; "exactly one" needs the count.
  for (const name of KNOWN) if (countParam(s, end, name) > 1) throw invalid(value, `more than one ${name}`);
  const toTag = params.get('to-tag');
  const fromTag = params.get('from-tag');
  if (toTag === undefined || toTag === null || !allIn(TOKEN_CHARS, toTag)) throw invalid(value, 'to-tag missing or not a token');
  if (fromTag === undefined || fromTag === null || !allIn(TOKEN_CHARS, fromTag)) throw invalid(value, 'from-tag missing or not a token');
  const early = params.get('early-only');
  if (early !== undefined && early !== null) throw invalid(value, 'early-only takes no value');
  const rest: SipParams = new Map();
  for (const [name, v] of params) if (!KNOWN.has(name)) rest.set(name, v);
  return { callId, toTag, fromTag, earlyOnly: early !== undefined, params: rest };
}

/** How many `;name` parameters (outside quoted-strings) follow `start`. */
function countParam(s: string, start: number, name: string): number {
  let n = 0;
  let i = indexOfUnquoted(s, 0x3b, start);
  while (i !== -1) {
    const next = indexOfUnquoted(s, 0x3b, i + 1);
    const seg = s.slice(i + 1, next === -1 ? s.length : next);
    const eq = seg.indexOf('=');
    if ((eq === -1 ? seg : seg.slice(0, eq)).trim().toLowerCase() === name) n++;
    i = next;
  }
  return n;
}

/**
 * Formats a Replaces value (header form, unescaped): `callid;to-tag=x;from-tag=y[;early-only]`.
 * Use `formatReferTo({ replaces })` to embed it in a Refer-To URI, which escapes it.
 */
export function formatReplaces(r: Replaces | Omit<Replaces, 'params'>): string {
  const extra = 'params' in r ? formatParams(r.params) : '';
  return `${r.callId};to-tag=${r.toTag};from-tag=${r.fromTag}${r.earlyOnly ? ';early-only' : ''}${extra}`;
}

function invalid(value: string, why: string, cause?: unknown): SipReferError {
  return new SipReferError(SipReferErrorCode.REPLACES_INVALID, `invalid Replaces "${value}": ${why}`, cause === undefined ? undefined : { cause });
}
