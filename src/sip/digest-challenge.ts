/**
 * Digest challenges: the value of WWW-Authenticate / Proxy-Authenticate
 * (RFC 3261 §22.4, RFC 7616 §3.3).
 *
 *   Digest realm="atlanta.com", nonce="…", algorithm=SHA-256, qop="auth", stale=true
 */
import { parseDigestAlgorithm } from './digest-algorithm.ts';
import type { DigestAlgorithm } from './digest-algorithm.ts';
import { formatAuthParams, parseAuthParams } from './digest-params.ts';
import type { AuthParamEntry } from './digest-params.ts';

/** A parsed Digest challenge. */
export interface DigestChallenge {
  readonly realm: string;
  readonly nonce: string;
  /** Undefined when the server named an algorithm we do not implement. */
  readonly algorithm: DigestAlgorithm | undefined;
  /** The `algorithm=` token as sent (MD5 when absent). */
  readonly algorithmToken: string;
  /** qop-options, lowercased (`["auth", "auth-int"]`); empty for RFC 2069 servers. */
  readonly qop: readonly string[];
  readonly opaque?: string | undefined;
  readonly domain?: string | undefined;
  /** RFC 7616 §3.3: the nonce was stale, the credentials were right: retry silently. */
  readonly stale: boolean;
}

/**
 * Every Digest challenge in one header value (other schemes are skipped).
 * A challenge without realm or nonce is dropped. Returns [] when nothing
 * usable is found, including on malformed input.
 */
export function parseDigestChallenges(value: string): DigestChallenge[] {
  const all = parseAuthParams(value);
  if (all === undefined) return [];
  const out: DigestChallenge[] = [];
  for (const c of all) {
    if (c.scheme.toLowerCase() !== 'digest') continue;
    const p = c.params;
    const realm = p.get('realm');
    const nonce = p.get('nonce');
    if (realm === undefined || nonce === undefined) continue;
    const algorithmToken = p.get('algorithm') ?? 'MD5';
    const qopRaw = p.get('qop');
    out.push({
      realm,
      nonce,
      algorithm: parseDigestAlgorithm(algorithmToken),
      algorithmToken,
      qop:
        qopRaw === undefined
          ? []
          : qopRaw
              .split(',')
              .map((q) => q.trim().toLowerCase())
              .filter((q) => q !== ''),
      opaque: p.get('opaque'),
      domain: p.get('domain'),
      stale: p.get('stale')?.toLowerCase() === 'true',
    });
  }
  return out;
}

/** Fields of a challenge we emit. */
export interface DigestChallengeFields {
  readonly realm: string;
  readonly nonce: string;
  readonly algorithm: DigestAlgorithm;
  readonly qop?: readonly string[] | undefined;
  readonly opaque?: string | undefined;
  readonly stale?: boolean | undefined;
}

/**
 * Formats a challenge. `qop` is a quoted list in challenges but a bare token
 * in credentials (RFC 7616 §3.3 vs §3.4); `algorithm` and `stale` are tokens.
 */
export function formatDigestChallenge(c: DigestChallengeFields): string {
  const entries: AuthParamEntry[] = [
    ['realm', c.realm, true],
    ['nonce', c.nonce, true],
  ];
  if (c.opaque !== undefined) entries.push(['opaque', c.opaque, true]);
  entries.push(['algorithm', c.algorithm, false]);
  if (c.qop !== undefined && c.qop.length > 0) entries.push(['qop', c.qop.join(','), true]);
  if (c.stale === true) entries.push(['stale', 'true', false]);
  return formatAuthParams('Digest', entries);
}
