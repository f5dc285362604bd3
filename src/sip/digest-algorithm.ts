/**
 * Digest algorithms and the response computation of RFC 7616 §3.4 (which
 * keeps RFC 2617 §3.2.2 for MD5) as used by SIP (RFC 3261 §22.4, RFC 8760).
 *
 *   HA1      = H(username ":" realm ":" password)
 *   HA1-sess = H(HA1 ":" nonce ":" cnonce)                        (RFC 7616 §3.4.2)
 *   HA2      = H(method ":" digest-uri)                           (qop=auth, §3.4.3)
 *   response = H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2)  (§3.4.1)
 *   response = H(HA1 ":" nonce ":" HA2)                            (no qop, RFC 2069)
 */
import * as crypto from 'node:crypto';

/** Base hash of a digest algorithm: what a stored HA1 is computed with. */
export type DigestHash = 'MD5' | 'SHA-256' | 'SHA-512-256';

/** Algorithm token as it appears in `algorithm=` (RFC 7616 §6.1, RFC 8760 §2). */
export type DigestAlgorithm =
  | 'MD5'
  | 'MD5-sess'
  | 'SHA-256'
  | 'SHA-256-sess'
  | 'SHA-512-256'
  | 'SHA-512-256-sess';

interface AlgorithmInfo {
  readonly name: DigestAlgorithm;
  readonly hash: DigestHash;
  readonly sess: boolean;
  /** Higher is stronger; used by clients choosing among challenges. */
  readonly strength: number;
}

const NODE_HASH: Readonly<Record<DigestHash, string>> = {
  MD5: 'md5',
  'SHA-256': 'sha256',
  'SHA-512-256': 'sha512-256',
};

const ALGORITHMS: readonly AlgorithmInfo[] = [
  { name: 'MD5', hash: 'MD5', sess: false, strength: 1 },
  { name: 'MD5-sess', hash: 'MD5', sess: true, strength: 1 },
  { name: 'SHA-256', hash: 'SHA-256', sess: false, strength: 2 },
  { name: 'SHA-256-sess', hash: 'SHA-256', sess: true, strength: 2 },
  { name: 'SHA-512-256', hash: 'SHA-512-256', sess: false, strength: 3 },
  { name: 'SHA-512-256-sess', hash: 'SHA-512-256', sess: true, strength: 3 },
];

/**
 * One-shot `crypto.hash` (Node >= 20.12) costs half of createHash().update().digest() for
 * these short inputs (2-3 hashes per authenticated REGISTER); older Node falls back.
 */
const hashHex: (algorithm: string, data: string) => string = typeof crypto.hash === 'function'
  ? (algorithm, data) => crypto.hash(algorithm, data, 'hex')
  : (algorithm, data) => crypto.createHash(algorithm).update(data, 'utf8').digest('hex');

const BY_LOWER = new Map(ALGORITHMS.map((a) => [a.name.toLowerCase(), a]));

/**
 * Looks up an `algorithm=` token case-insensitively (RFC 7616 §3.3 says
 * tokens are case-insensitive). An absent parameter means MD5
 * (RFC 2617 §3.2.1). Returns undefined for unknown algorithms.
 */
export function parseDigestAlgorithm(token: string | undefined): DigestAlgorithm | undefined {
  if (token === undefined) return 'MD5';
  return BY_LOWER.get(token.toLowerCase())?.name;
}

/** Base hash of `algorithm` (`SHA-256-sess` -> `SHA-256`). */
export function digestHashOf(algorithm: DigestAlgorithm): DigestHash {
  return info(algorithm).hash;
}

/** True for the `-sess` variants. */
export function isSessionAlgorithm(algorithm: DigestAlgorithm): boolean {
  return info(algorithm).sess;
}

/** Relative strength used to pick the best offered challenge. */
export function digestStrength(algorithm: DigestAlgorithm): number {
  return info(algorithm).strength;
}

/** Lowercase hex digest of `data` (UTF-8) with `hash`. */
export function digestHex(hash: DigestHash, data: string): string {
  return hashHex(NODE_HASH[hash], data);
}

/**
 * HA1 = H(username:realm:password). Store this per device and per base
 * hash instead of the password; `-sess` variants use the same stored HA1.
 *
 * @example
 * computeHa1('MD5', 'Mufasa', 'testrealm@host.com', 'Circle Of Life');
 * // '939e7578ed9e3c518a452acee763bce9'
 */
export function computeHa1(
  algorithm: DigestAlgorithm | DigestHash,
  username: string,
  realm: string,
  password: string,
): string {
  return digestHex(digestHashOf(algorithm), `${username}:${realm}:${password}`);
}

/** Inputs of {@link computeDigestResponse}. */
export interface DigestResponseInput {
  readonly algorithm: DigestAlgorithm;
  /** The stored, non-session HA1 (see {@link computeHa1}). */
  readonly ha1: string;
  readonly nonce: string;
  readonly method: string;
  readonly uri: string;
  /** `auth` or undefined for the RFC 2069 form. */
  readonly qop?: 'auth' | undefined;
  /** Eight hex digits, required with qop. */
  readonly nc?: string | undefined;
  /** Required with qop and with `-sess` algorithms. */
  readonly cnonce?: string | undefined;
}

/** The `response=` value for the given request (RFC 7616 §3.4.1). */
export function computeDigestResponse(input: DigestResponseInput): string {
  const { hash, sess } = info(input.algorithm);
  const cnonce = input.cnonce ?? '';
  const ha1 = sess ? digestHex(hash, `${input.ha1}:${input.nonce}:${cnonce}`) : input.ha1;
  const ha2 = digestHex(hash, `${input.method}:${input.uri}`);
  if (input.qop === undefined) return digestHex(hash, `${ha1}:${input.nonce}:${ha2}`);
  return digestHex(hash, `${ha1}:${input.nonce}:${input.nc ?? ''}:${cnonce}:${input.qop}:${ha2}`);
}

function info(algorithm: DigestAlgorithm | DigestHash): AlgorithmInfo {
  const found = BY_LOWER.get(algorithm.toLowerCase());
  if (found === undefined) throw new TypeError(`unknown digest algorithm ${algorithm}`);
  return found;
}
