/**
 * SDES `a=crypto` (RFC 4568 §9.1): `<tag> <crypto-suite> inline:<key||salt base64>[|<lifetime>][|<MKI>:<length>]
 * [<session-params>]`. The SDP layer reads and writes the attribute; which suites are known
 * and how long their keys are is the caller's business (`media/srtp`), passed in as lengths.
 *
 * Only what peers use is accepted: one key per attribute (several keys need MKIs on every
 * packet), no session parameters that weaken or change the transform (`UNENCRYPTED_*`,
 * `UNAUTHENTICATED_SRTP`, `KDR` other than 0, FEC_ORDER/FEC_KEY, WSH below 64). An attribute we
 * do not accept is skipped by the offer/answer code, not fatal to the SDP (§6.1: the answerer
 * picks one it supports).
 */
export interface CryptoAttribute {
  /** 1–999999999, echoed in the answer (§6.1). */
  tag: number;
  suite: string;
  /** Master key followed by master salt. */
  keySalt: Buffer;
  /** Packets the key may protect, null = the suite's maximum (we never rekey: shorter than 2^20 is refused). */
  lifetime: number | null;
}

const TAG = /^[1-9]\d{0,8}$/;
const SUITE = /^[A-Za-z0-9_]+$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** Session parameters that leave the transform as RFC 3711 defines it (§6.3). */
const HARMLESS = /^(KDR=0|WSH=\d+)$/;
/**
 * Shortest key lifetime accepted. We never rekey; 2^20 packets (the common default, RFC 4568
 * examples) last 5.8 hours at 50 packets/s, longer than STROWGER_MAX_CALL_SECONDS' default.
 */
const MIN_LIFETIME = 2 ** 20;

export type CryptoParse = { ok: true; value: CryptoAttribute } | { ok: false; reason: string };

/** `expectedLength` = key + salt octets of `suite`, or undefined for a suite we do not know. */
export function parseCryptoAttribute(value: string, expectedLength: (suite: string) => number | undefined): CryptoParse {
  const parts = value.trim().split(/\s+/);
  if (parts.length < 3) return { ok: false, reason: 'needs a tag, a suite and key parameters' };
  const [tagText, suite, keyParams, ...session] = parts as [string, string, string, ...string[]];
  if (!TAG.test(tagText)) return { ok: false, reason: `bad tag "${tagText}"` };
  if (!SUITE.test(suite)) return { ok: false, reason: `bad suite "${suite}"` };
  const length = expectedLength(suite);
  if (length === undefined) return { ok: false, reason: `unsupported suite ${suite}` };
  if (keyParams.includes(';')) return { ok: false, reason: 'several keys (MKI) are not supported' };
  if (!keyParams.startsWith('inline:')) return { ok: false, reason: 'key method must be inline' };
  const [b64, ...extras] = keyParams.slice('inline:'.length).split('|');
  if (!b64 || !BASE64.test(b64)) return { ok: false, reason: 'key is not base64' };
  const keySalt = Buffer.from(b64, 'base64');
  if (keySalt.length !== length) return { ok: false, reason: `${suite} needs ${length} octets of key and salt, got ${keySalt.length}` };
  let lifetime: number | null = null;
  for (const extra of extras) {
    if (extra.includes(':')) return { ok: false, reason: 'MKI is not supported' };
    const m = /^(?:2\^(\d{1,2})|(\d{1,15}))$/.exec(extra);
    if (!m) return { ok: false, reason: `bad lifetime "${extra}"` };
    lifetime = m[1] !== undefined ? 2 ** Number(m[1]) : Number(m[2]);
    if (lifetime < MIN_LIFETIME) return { ok: false, reason: `key lifetime ${extra} is shorter than we support (re-keying is not implemented)` };
  }
  const unsupported = session.find((p) => !HARMLESS.test(p) || (p.startsWith('WSH=') && Number(p.slice(4)) < 64));
  if (unsupported) return { ok: false, reason: `session parameter ${unsupported} is not supported` };
  return { ok: true, value: { tag: Number(tagText), suite, keySalt, lifetime } };
}

export function formatCryptoAttribute(a: Pick<CryptoAttribute, 'tag' | 'suite' | 'keySalt'>): string {
  return `${a.tag} ${a.suite} inline:${a.keySalt.toString('base64')}`;
}
