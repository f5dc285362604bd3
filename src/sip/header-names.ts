/**
 * Header field names: compact forms, canonical spelling, and which headers are comma lists.
 *
 * Messages store names as a lowercased full name (the *key*: `via`, `call-id`) so lookups are
 * one string compare; serialization writes the canonical spelling (`Call-ID`, `CSeq`).
 */
import { TOKEN_CHARS, allIn } from './header-chars.ts';

/** Compact forms (RFC 3261 §7.3.3, §20; IANA "Header Fields" registry). */
const COMPACT: Record<string, string> = {
  a: 'accept-contact', // RFC 3841
  b: 'referred-by', // RFC 3892
  c: 'content-type',
  d: 'request-disposition', // RFC 3841
  e: 'content-encoding',
  f: 'from',
  i: 'call-id',
  j: 'reject-contact', // RFC 3841
  k: 'supported',
  l: 'content-length',
  m: 'contact',
  n: 'identity-info', // RFC 4474
  o: 'event', // RFC 6665
  r: 'refer-to', // RFC 3515
  s: 'subject',
  t: 'to',
  u: 'allow-events', // RFC 6665
  v: 'via',
  x: 'session-expires', // RFC 4028
  y: 'identity', // RFC 8224
};

/** Spellings that simple word capitalisation gets wrong. */
const SPECIAL_CASE: Record<string, string> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  'mime-version': 'MIME-Version',
  rack: 'RAck',
  rseq: 'RSeq',
  'sip-etag': 'SIP-ETag',
  'sip-if-match': 'SIP-If-Match',
  'p-asserted-identity': 'P-Asserted-Identity',
  'p-preferred-identity': 'P-Preferred-Identity',
  'p-charging-vector': 'P-Charging-Vector',
  'security-client': 'Security-Client',
  'min-se': 'Min-SE', // RFC 4028
  'session-expires': 'Session-Expires',
  'reject-contact': 'Reject-Contact',
};

/** Headers whose canonical spelling is known: compact targets, RFC 3261 §20 and common extensions. */
const KNOWN = [
  ...Object.values(COMPACT),
  'accept', 'accept-encoding', 'accept-language', 'alert-info', 'allow', 'authentication-info',
  'authorization', 'call-info', 'content-disposition', 'content-language', 'cseq', 'date',
  'error-info', 'expires', 'in-reply-to', 'max-forwards', 'mime-version', 'min-expires',
  'organization', 'priority', 'proxy-authenticate', 'proxy-authorization', 'proxy-require',
  'record-route', 'reply-to', 'require', 'retry-after', 'route', 'server', 'timestamp',
  'unsupported', 'user-agent', 'warning', 'www-authenticate', 'path', 'service-route',
  'min-se', 'rack', 'rseq', 'reason', 'privacy', 'p-asserted-identity', 'p-preferred-identity',
  'history-info', 'diversion', 'subscription-state', 'sip-etag', 'sip-if-match', 'replaces',
  'join', 'security-client', 'security-server', 'security-verify', 'p-charging-vector',
];

const CANONICAL = new Map<string, string>();
for (const key of KNOWN) {
  CANONICAL.set(key, SPECIAL_CASE[key] ?? key.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase()));
}

/**
 * Headers whose value is a comma-separated list (RFC 3261 §7.3.1: such headers may be combined
 * into one line). Single-value headers are listed too where a comma would be a protocol error
 * (From, To, CSeq...), so `validateRequest` can count their values. Headers absent here (e.g.
 * WWW-Authenticate, Authorization, Date, Subject, User-Agent, unknown ones) are never split:
 * their commas are part of the value.
 */
const LIST = new Set([
  'via', 'contact', 'route', 'record-route', 'path', 'service-route', 'allow', 'supported',
  'require', 'proxy-require', 'unsupported', 'accept', 'accept-encoding', 'accept-language',
  'content-encoding', 'content-language', 'allow-events', 'alert-info', 'call-info',
  'error-info', 'in-reply-to', 'warning', 'reason', 'history-info', 'diversion',
  'p-asserted-identity', 'p-preferred-identity', 'security-client', 'security-server',
  'security-verify', 'accept-contact', 'reject-contact', 'request-disposition',
  // single-value headers: split only so that a second value is visible (RFC 4475 §3.3.8)
  'from', 'to', 'call-id', 'cseq', 'max-forwards', 'content-length', 'content-type', 'expires',
]);

/**
 * Known keys bucketed by (length, first letter) for `knownKey`, which matches a name inside the
 * header text without slicing it out: the parser's per-line hot path.
 */
const BUCKETS: string[][] = [];
for (const key of CANONICAL.keys()) {
  const b = (BUCKETS[bucketOf(key.length, key.charCodeAt(0))] ??= []);
  b.push(key);
}
const COMPACT_BY_CODE: Array<string | undefined> = [];
for (const [letter, key] of Object.entries(COMPACT)) {
  COMPACT_BY_CODE[letter.charCodeAt(0)] = key;
  COMPACT_BY_CODE[letter.toUpperCase().charCodeAt(0)] = key;
}

function bucketOf(length: number, firstChar: number): number {
  return length * 32 + ((firstChar | 0x20) & 31);
}

/**
 * The key of the known header whose name is `text[start, end)` in any letter case (compact
 * forms included), or null when it is not a known header (then use `headerKey` on the slice).
 */
export function knownKey(text: string, start: number, end: number): string | null {
  const len = end - start;
  if (len === 1) return COMPACT_BY_CODE[text.charCodeAt(start)] ?? null;
  const bucket = BUCKETS[bucketOf(len, text.charCodeAt(start))];
  if (bucket === undefined) return null;
  outer: for (let b = 0; b < bucket.length; b++) {
    const cand = bucket[b];
    for (let k = 0; k < len; k++) {
      const c = text.charCodeAt(start + k);
      const d = cand.charCodeAt(k);
      // candidates hold only [a-z-]: a letter matches either case, anything else exactly
      if (c !== d && (d < 0x61 || c !== d - 0x20)) continue outer;
    }
    return cand;
  }
  return null;
}

/** Cache of name-as-written -> key; bounded so hostile traffic cannot grow it forever. */
const KEY_CACHE = new Map<string, string>();
const KEY_CACHE_MAX = 2048;

/**
 * The lowercased full name for a header name as written (`V`, `Via`, `VIA` -> `via`), or null
 * when the name is not a token (RFC 3261 §25.1 header-name).
 */
export function headerKey(name: string): string | null {
  const cached = KEY_CACHE.get(name);
  if (cached !== undefined) return cached;
  if (!allIn(TOKEN_CHARS, name)) return null;
  const lower = name.toLowerCase();
  const key = lower.length === 1 ? (COMPACT[lower] ?? lower) : lower;
  if (KEY_CACHE.size < KEY_CACHE_MAX) KEY_CACHE.set(name, key);
  return key;
}

/** Like `headerKey` for names coming from our own code: throws on an invalid name. */
export function requireHeaderKey(name: string): string {
  const key = headerKey(name);
  if (key === null) throw new TypeError(`invalid SIP header name "${name}"`);
  return key;
}

/** Canonical spelling of a key, or `fallback` (the name as written) for unknown headers. */
export function canonicalName(key: string, fallback: string): string {
  return CANONICAL.get(key) ?? fallback;
}

/** True when the header's value is a comma list and may be split. */
export function isListHeader(key: string): boolean {
  return LIST.has(key);
}
