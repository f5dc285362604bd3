/**
 * Digest authentication, server side (RFC 3261 §22.4, RFC 7616, RFC 8760).
 *
 * Choices:
 * - Nonces are stateless (timestamp + HMAC, `digest-nonce.ts`): they work
 *   across restarts and cluster nodes sharing `secret`.
 * - Every challenge carries qop="auth". By default a 401 holds one value per
 *   algorithm, SHA-256 first (RFC 8760 §2.4: "the server SHOULD send the
 *   challenges in order of preference, most preferred first"); callers may
 *   narrow it to a subset per request, because real UAs mishandle several
 *   challenges: Debian's baresip 1.0.0 rejects the whole 401 when any of them
 *   is not MD5, JsSIP keeps only the last header, sipp 3.6 answers the first.
 * - qop=auth is required. The RFC 2069 form (no qop, no nc, no cnonce)
 *   cannot be protected against replay within the nonce lifetime, so it is
 *   refused unless `allowRfc2069` is set, and then only for MD5 (the only
 *   algorithm such old devices know). qop=auth-int is not offered.
 * - Nonce counts are checked against a bounded table (`digest-nonce-count.ts`).
 *
 * Answering: callers MUST NOT reveal whether a user exists. For every
 * result except `ok`, answer 401/407 with {@link DigestServer.challenges}
 * (`stale` true only for the `stale` result). `unknown_user` and
 * `bad_credentials` are distinct only for logs and metrics; the server also
 * hashes against a dummy HA1 for unknown users so both take the same work.
 */
import { timingSafeEqual } from 'node:crypto';
import {
  computeDigestResponse,
  computeHa1,
  digestHashOf,
  parseDigestAlgorithm,
} from './digest-algorithm.ts';
import type { DigestAlgorithm, DigestHash } from './digest-algorithm.ts';
import { formatDigestChallenge } from './digest-challenge.ts';
import { parseDigestCredentials } from './digest-credentials.ts';
import { NonceCountTracker } from './digest-nonce-count.ts';
import { checkNonce, createNonce } from './digest-nonce.ts';
import { systemTimers } from './timers.ts';
import type { Clock } from './timers.ts';

/** Options of {@link createDigestServer}. */
export interface DigestServerOptions {
  readonly realm: string;
  /** HMAC key for nonces; at least 16 bytes; share it between cluster nodes. */
  readonly secret: Buffer;
  /** Nonce lifetime before it is stale. Default 300 000 ms. */
  readonly nonceTtlMs?: number;
  /** Default: the system clock. */
  readonly clock?: Clock;
  /** Offered and accepted algorithms, most preferred first. Default ['SHA-256', 'MD5']. */
  readonly algorithms?: readonly DigestAlgorithm[];
  /** Nonces tracked for nonce-count replay protection. Default 100 000. */
  readonly maxTrackedNonces?: number;
  /** Accept RFC 2069 credentials (no qop) with MD5. Default false. */
  readonly allowRfc2069?: boolean;
}

/** Looks up the stored HA1 for a user; `hash` is the base hash (MD5 for MD5-sess). */
export type LookupHa1 = (
  username: string,
  realm: string,
  hash: DigestHash,
) => string | undefined | Promise<string | undefined>;

/** Per-request inputs of {@link DigestServer.verify}. */
export interface DigestVerifyOptions {
  readonly method: string;
  readonly lookupHa1: LookupHa1;
  /** Request-URI as sent on the request line; when given, `uri=` must equal it. */
  readonly requestUri?: string;
}

/** Why a request was refused; stable strings, usable as metric labels. */
export type DigestFailure =
  | 'malformed'
  | 'realm_mismatch'
  | 'unsupported_algorithm'
  | 'bad_qop'
  | 'uri_mismatch'
  | 'invalid_nonce'
  | 'replay'
  | 'unknown_user'
  | 'bad_credentials';

/** Outcome of {@link DigestServer.verify}. */
export type DigestVerifyResult =
  | { readonly kind: 'ok'; readonly username: string; readonly algorithm: DigestAlgorithm }
  | { readonly kind: 'stale'; readonly username: string }
  | { readonly kind: DigestFailure; readonly username?: string };

/** Options of {@link DigestServer.challenges}. */
export interface DigestChallengeOptions {
  readonly stale?: boolean;
  /** The algorithms to offer, in order; default: every accepted one. */
  readonly algorithms?: readonly DigestAlgorithm[];
}

export interface DigestServer {
  readonly realm: string;
  /** Accepted algorithms, most preferred first (the default offer). */
  readonly algorithms: readonly DigestAlgorithm[];
  /**
   * Header values for WWW-Authenticate (or Proxy-Authenticate), one per
   * algorithm, sharing one fresh nonce. `algorithms` (default: all accepted,
   * in order) narrows the offer; values not accepted are skipped, and an
   * offer left empty falls back to the first accepted algorithm.
   */
  challenges(opts?: DigestChallengeOptions): string[];
  /** Challenge values to send after a failed {@link verify}. */
  challengesFor(result: DigestVerifyResult, opts?: { readonly algorithms?: readonly DigestAlgorithm[] }): string[];
  /** Checks an Authorization (or Proxy-Authorization) header value. */
  verify(authorization: string, opts: DigestVerifyOptions): Promise<DigestVerifyResult>;
  /** Nonces currently tracked for replay protection. */
  readonly trackedNonces: number;
}

/**
 * Creates a digest server.
 *
 * @example
 * ```ts
 * const digest = createDigestServer({ realm: 'pbx.example.com', secret });
 * const r = await digest.verify(req.getHeader('authorization'), {
 *   method: req.method, requestUri: req.uri, lookupHa1: (u, realm, hash) => devices.ha1(u, hash),
 * });
 * if (r.kind !== 'ok') reply(401, { 'WWW-Authenticate': digest.challengesFor(r) });
 * ```
 */
export function createDigestServer(options: DigestServerOptions): DigestServer {
  const realm = options.realm;
  const secret = options.secret;
  if (secret.length < 16) throw new RangeError(`digest secret must be >= 16 bytes, got ${secret.length}`);
  const ttl = options.nonceTtlMs ?? 300_000;
  const clock = options.clock ?? systemTimers;
  const algorithms = options.algorithms ?? (['SHA-256', 'MD5'] as const);
  if (algorithms.length === 0) throw new RangeError('digest server needs at least one algorithm');
  const allowRfc2069 = options.allowRfc2069 ?? false;
  const tracker = new NonceCountTracker(options.maxTrackedNonces ?? 100_000);

  // Every challenge differs only in its nonce (base64url: nothing to quote), so each
  // algorithm's value is formatted once around a marker and reassembled per 401.
  const MARK = '\u0000';
  type Template = readonly [string, string];
  const template = (algorithm: DigestAlgorithm, stale: boolean): Template => {
    const text = formatDigestChallenge({ realm, nonce: MARK, algorithm, qop: ['auth'], stale });
    const at = text.indexOf(MARK);
    return [text.slice(0, at), text.slice(at + MARK.length)];
  };
  const fresh = new Map<DigestAlgorithm, Template>(algorithms.map((a) => [a, template(a, false)]));
  const staleTemplates = new Map<DigestAlgorithm, Template>(algorithms.map((a) => [a, template(a, true)]));

  function challenges(opts?: DigestChallengeOptions): string[] {
    const nonce = createNonce(secret, realm, clock.now());
    const parts = opts?.stale === true ? staleTemplates : fresh;
    const offer = opts?.algorithms ?? algorithms;
    const out: string[] = [];
    for (const a of offer) {
      const t = parts.get(a);
      if (t !== undefined) out.push(t[0] + nonce + t[1]);
    }
    if (out.length === 0) {
      const t = parts.get(algorithms[0]!)!;
      out.push(t[0] + nonce + t[1]);
    }
    return out;
  }

  async function verify(authorization: string, opts: DigestVerifyOptions): Promise<DigestVerifyResult> {
    const c = parseDigestCredentials(authorization);
    if (c === undefined) return { kind: 'malformed' };
    const username = c.username;
    if (c.realm !== realm) return { kind: 'realm_mismatch', username };
    const algorithm = parseDigestAlgorithm(c.algorithm);
    if (algorithm === undefined || !algorithms.includes(algorithm)) {
      return { kind: 'unsupported_algorithm', username };
    }
    if (c.qop !== undefined ? c.qop !== 'auth' : !(allowRfc2069 && algorithm === 'MD5')) {
      return { kind: 'bad_qop', username };
    }
    const qop = c.qop === undefined ? undefined : 'auth';
    if (opts.requestUri !== undefined && c.uri !== opts.requestUri) return { kind: 'uri_mismatch', username };

    const now = clock.now();
    const nonce = checkNonce(secret, realm, c.nonce, now, ttl);
    if (nonce.kind === 'invalid') return { kind: 'invalid_nonce', username };
    let stale = nonce.kind === 'expired';
    const nc = c.nc === undefined ? 0 : Number.parseInt(c.nc, 16);
    if (!stale && qop !== undefined) {
      // Read-only check first; the count is recorded only once authenticated.
      const seen = tracker.check(c.nonce, nonce.issuedAt, nc);
      if (seen === 'replay') return { kind: 'replay', username };
      if (seen === 'forgotten') stale = true;
    }

    const hash = digestHashOf(algorithm);
    const found = opts.lookupHa1(username, realm, hash);
    // A cached HA1 comes back at once: no await, so no turn of the microtask queue.
    const stored = found === undefined || typeof found === 'string' ? found : await found;
    // Unknown users cost the same hashing as known ones (no timing oracle here;
    // the lookup itself should also take comparable time).
    const ha1 = stored ?? computeHa1(hash, username, realm, '');
    const expected = computeDigestResponse({
      algorithm,
      ha1,
      nonce: c.nonce,
      method: opts.method,
      uri: c.uri,
      qop,
      nc: c.nc,
      cnonce: c.cnonce,
    });
    const match = constantTimeEqualHex(expected, c.response);
    if (stored === undefined) return { kind: 'unknown_user', username };
    if (!match) return { kind: 'bad_credentials', username };
    // RFC 7616 §3.3: stale=true only when the credentials were right.
    if (stale) return { kind: 'stale', username };
    if (qop !== undefined) tracker.record(c.nonce, nonce.issuedAt, nc);
    return { kind: 'ok', username, algorithm };
  }

  return {
    realm,
    algorithms,
    challenges,
    challengesFor: (result, opts) => challenges({ stale: result.kind === 'stale', algorithms: opts?.algorithms }),
    verify,
    get trackedNonces() {
      return tracker.size;
    },
  };
}

/** Timing-safe comparison of two hex digests (case-insensitive). */
function constantTimeEqualHex(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'latin1');
  const b = Buffer.from(given.toLowerCase(), 'latin1');
  // Compare against itself on length mismatch so the work stays the same.
  return timingSafeEqual(a, a.length === b.length ? b : a) && a.length === b.length;
}
