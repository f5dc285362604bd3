/**
 * Digest authentication, client side (RFC 3261 §22.2/§22.3, RFC 7616 §3.4,
 * RFC 8760 §2.4: "the client SHOULD use the strongest algorithm it supports").
 *
 * Supported: MD5, SHA-256, SHA-512-256 and their -sess variants; qop=auth,
 * and the RFC 2069 form when the server offers no qop. qop=auth-int alone is
 * not supported (we would need the body hash); such challenges are skipped.
 */
import { randomBytes } from 'node:crypto';
import { computeDigestResponse, computeHa1, digestStrength } from './digest-algorithm.ts';
import type { DigestAlgorithm } from './digest-algorithm.ts';
import { parseDigestChallenges } from './digest-challenge.ts';
import type { DigestChallenge } from './digest-challenge.ts';
import { formatDigestCredentials } from './digest-credentials.ts';
import { DigestError, DigestErrorCode } from './digest-errors.ts';

/** The request being authorized. */
export interface DigestRequest {
  readonly method: string;
  /** Request-URI as it will appear on the request line. */
  readonly uri: string;
}

/** Options of {@link answerChallenge}. */
export interface DigestAnswerOptions extends DigestRequest {
  readonly username: string;
  readonly password: string;
  /** Default: 16 random bytes, hex. */
  readonly cnonce?: string;
  /** Nonce count, default 1. */
  readonly nc?: number;
}

/** A challenge we can answer, with the qop we will use. */
interface Usable {
  readonly challenge: DigestChallenge;
  readonly algorithm: DigestAlgorithm;
  readonly qop: 'auth' | undefined;
}

/**
 * Picks the strongest challenge we can answer among all values of
 * WWW-Authenticate / Proxy-Authenticate (ties keep the server's order).
 * Throws {@link DigestError} when none is usable.
 */
export function selectDigestChallenge(values: string | readonly string[]): DigestChallenge {
  return select(values).challenge;
}

function select(values: string | readonly string[]): Usable {
  const list = typeof values === 'string' ? [values] : values;
  let best: Usable | undefined;
  let seen = 0;
  for (const v of list) {
    for (const challenge of parseDigestChallenges(v)) {
      seen++;
      const algorithm = challenge.algorithm;
      if (algorithm === undefined) continue;
      let qop: 'auth' | undefined;
      if (challenge.qop.includes('auth')) qop = 'auth';
      else if (challenge.qop.length > 0) continue; // only auth-int (or unknown) offered
      if (best === undefined || digestStrength(algorithm) > digestStrength(best.algorithm)) {
        best = { challenge, algorithm, qop };
      }
    }
  }
  if (best !== undefined) return best;
  if (seen === 0) throw new DigestError(DigestErrorCode.NO_CHALLENGE, 'no Digest challenge with realm and nonce');
  throw new DigestError(DigestErrorCode.UNSUPPORTED, `none of ${seen} Digest challenges uses a supported algorithm/qop`);
}

function answerUsable(u: Usable, opts: DigestAnswerOptions, ha1: string): string {
  const { challenge, algorithm, qop } = u;
  const nc = qop === undefined ? undefined : formatNc(opts.nc ?? 1);
  const cnonce = qop === undefined && !algorithm.endsWith('-sess') ? undefined : (opts.cnonce ?? newCnonce());
  const response = computeDigestResponse({
    algorithm,
    ha1,
    nonce: challenge.nonce,
    method: opts.method,
    uri: opts.uri,
    qop,
    nc,
    cnonce,
  });
  return formatDigestCredentials({
    username: opts.username,
    realm: challenge.realm,
    nonce: challenge.nonce,
    uri: opts.uri,
    response,
    // Echo the server's spelling of the algorithm token (RFC 7616 §3.4).
    algorithm: challenge.algorithmToken,
    qop,
    nc,
    cnonce,
    opaque: challenge.opaque,
  });
}

/**
 * Answers a challenge: returns the Authorization (or Proxy-Authorization)
 * header value for the strongest usable challenge among `challenges`.
 *
 * @example
 * answerChallenge(res.getHeader('www-authenticate'), {
 *   username: 'alice', password: 'secret', method: 'REGISTER', uri: 'sip:example.com',
 * });
 */
export function answerChallenge(challenges: string | readonly string[], opts: DigestAnswerOptions): string {
  const u = select(challenges);
  return answerUsable(u, opts, computeHa1For(u, opts.username, opts.password));
}

/** Nonce-count as 8 lowercase hex digits (RFC 7616 §3.4: nc-value = 8LHEX). */
export function formatNc(nc: number): string {
  if (!Number.isInteger(nc) || nc < 1 || nc > 0xffffffff) throw new RangeError(`nc out of range: ${nc}`);
  return nc.toString(16).padStart(8, '0');
}

function newCnonce(): string {
  return randomBytes(16).toString('hex');
}

function computeHa1For(u: Usable, username: string, password: string): string {
  return computeHa1(u.algorithm, username, u.challenge.realm, password);
}

/** Options of {@link DigestClient}. */
export interface DigestClientOptions {
  readonly username: string;
  readonly password: string;
  /** Source of cnonces; default 16 random bytes, hex. */
  readonly cnonce?: () => string;
}

/**
 * Keeps the last challenge answered so later requests to the same server can
 * carry credentials up front (RFC 3261 §22.3 allows reusing credentials for
 * the same realm), incrementing nc for each one (RFC 7616 §3.4).
 *
 * Contract for callers: a second 401/407 to an answered request that is not
 * `stale` means the credentials are wrong: do not retry (RFC 3261 §22.2).
 * {@link answer} reports this through {@link DigestAnswer.retry}.
 */
export class DigestClient {
  private last: Usable | undefined;
  private ha1 = '';
  private nc = 0;

  constructor(private readonly options: DigestClientOptions) {}

  /** Answers a 401/407 and caches its challenge. */
  answer(challenges: string | readonly string[], req: DigestRequest): DigestAnswer {
    const u = select(challenges);
    // Same nonce again without stale=true: the server refused our answer.
    const retry = this.last === undefined || u.challenge.stale || u.challenge.nonce !== this.last.challenge.nonce;
    if (this.last === undefined || this.last.challenge.realm !== u.challenge.realm || this.last.algorithm !== u.algorithm) {
      this.ha1 = computeHa1For(u, this.options.username, this.options.password);
    }
    this.last = u;
    this.nc = 0;
    return { header: this.next(req), retry };
  }

  /**
   * Credentials for a new request from the cached challenge, or undefined
   * when nothing was cached. Each call uses the next nc.
   */
  authorize(req: DigestRequest): string | undefined {
    return this.last === undefined ? undefined : this.next(req);
  }

  /** Realm of the cached challenge, if any. */
  get realm(): string | undefined {
    return this.last?.challenge.realm;
  }

  /** Forgets the cached challenge. */
  reset(): void {
    this.last = undefined;
    this.nc = 0;
  }

  private next(req: DigestRequest): string {
    const u = this.last!;
    // RFC 2069 servers have no nc: reusing their nonce is all we can do.
    if (u.qop !== undefined) this.nc++;
    return answerUsable(
      u,
      {
        username: this.options.username,
        password: this.options.password,
        method: req.method,
        uri: req.uri,
        nc: Math.max(1, this.nc),
        cnonce: this.options.cnonce?.(),
      },
      this.ha1,
    );
  }
}

/** Result of {@link DigestClient.answer}. */
export interface DigestAnswer {
  /** Authorization / Proxy-Authorization header value. */
  readonly header: string;
  /** False when retrying is pointless (same nonce, not stale: wrong credentials). */
  readonly retry: boolean;
}
