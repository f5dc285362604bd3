/**
 * Certificates from an ACME CA (RFC 8555) through `acme-client`, proven with the HTTP-01
 * challenge (RFC 8555 §8.3): the CA fetches `http://<domain>/.well-known/acme-challenge/<token>`
 * and our HTTP API answers it from `AcmeChallenges` (src/api/acme-challenge.ts). The CA reaches
 * that URL on port 80, so the HTTP port must be 80 or forwarded from it.
 *
 * `acme-client` (with axios and its ASN.1 stack, ~2 MB of heap) is imported on the first order.
 */
import { Agent } from 'node:https';

/** Tokens the CA will fetch now, and the key authorization each must return. */
export class AcmeChallenges {
  private readonly tokens = new Map<string, string>();
  /** Challenge fetches answered with a key authorization (the CA's validation requests). */
  answered = 0;

  set(token: string, keyAuthorization: string): void {
    this.tokens.set(token, keyAuthorization);
  }

  delete(token: string): void {
    this.tokens.delete(token);
  }

  /** The key authorization the CA's fetch of `token` gets, counted; undefined for an unknown token. */
  answer(token: string): string | undefined {
    const v = this.tokens.get(token);
    if (v !== undefined) this.answered++;
    return v;
  }

  get size(): number {
    return this.tokens.size;
  }
}

/** The CA refused or could not be reached; the API answers 502 with `message`. */
export class AcmeFailed extends Error {
  constructor(message: string, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'AcmeFailed';
  }
}

export interface AcmeRequest {
  directoryUrl: string;
  email?: string;
  domains: readonly string[];
  /** The account key of earlier orders (PEM); a new one is made when absent. */
  accountKey: string | null;
  /** Extra CA certificates trusted for the directory's HTTPS (a private ACME CA). */
  directoryCa?: string;
}

export interface AcmeIssued {
  /** PEM chain, leaf first. */
  cert: string;
  key: string;
  accountKey: string;
}

/**
 * One order: account (created or found by its key), new order, HTTP-01 for every domain,
 * finalize with a CSR of a fresh RSA key, certificate download.
 *
 * @example
 * ```ts
 * const issued = await issueCertificate({ directoryUrl, domains: ['pbx.example.com'], accountKey: null }, challenges);
 * ```
 */
export async function issueCertificate(req: AcmeRequest, challenges: AcmeChallenges): Promise<AcmeIssued> {
  const { default: acme } = await import('acme-client');
  // The shared axios instance of acme-client: the agent decides which CAs its HTTPS trusts.
  acme.axios.defaults.httpsAgent = req.directoryCa ? new Agent({ ca: req.directoryCa }) : undefined;
  // Retries with a growing sleep (5 s, 10 s, …) would hold the API request for minutes.
  const defaults = acme.axios.defaults as { acmeSettings?: Record<string, number> };
  defaults.acmeSettings = { ...defaults.acmeSettings, retryMaxAttempts: 1, retryDefaultDelay: 1 };
  const accountKey = req.accountKey ?? (await acme.crypto.createPrivateEcdsaKey()).toString();
  // RSA: the phones that still cannot do ECDSA are the ones that matter most here.
  const [key, csr] = await acme.crypto.createCsr({ commonName: req.domains[0], altNames: [...req.domains] }, await acme.crypto.createPrivateRsaKey(2048));
  const client = new acme.Client({ directoryUrl: req.directoryUrl, accountKey, backoffAttempts: 10, backoffMin: 200, backoffMax: 2000 });
  try {
    const cert = await client.auto({
      csr,
      email: req.email,
      termsOfServiceAgreed: true,
      challengePriority: ['http-01'],
      // acme-client would fetch the token itself on port 80 first; the CA's own check is the one that counts.
      skipChallengeVerification: true,
      challengeCreateFn: async (_authz, challenge, keyAuthorization) => { challenges.set(challenge.token, keyAuthorization); },
      challengeRemoveFn: async (_authz, challenge) => { challenges.delete(challenge.token); },
    });
    return { cert, key: key.toString(), accountKey };
  } catch (err) {
    throw new AcmeFailed(`ACME at ${req.directoryUrl} failed: ${describe(err)}`, { cause: err });
  }
}

/** The CA's problem document (RFC 8555 §6.7) when there is one, else the error's message. */
function describe(err: unknown): string {
  const e = err as { message?: string; response?: { data?: { detail?: string } } };
  return e.response?.data?.detail ?? e.message ?? String(err);
}
