/**
 * Error catalogue of digest authentication (client side; the server returns
 * result values instead of throwing, see `digest-server.ts`).
 */
import { SipError } from './errors.ts';

export const DigestErrorCode = {
  /** No Digest challenge with a realm and nonce in the header values. */
  NO_CHALLENGE: 'SIP_ERR_DIGEST_NO_CHALLENGE',
  /** Digest challenges found, but none with an algorithm and qop we implement. */
  UNSUPPORTED: 'SIP_ERR_DIGEST_UNSUPPORTED',
} as const;

export type DigestErrorCode = (typeof DigestErrorCode)[keyof typeof DigestErrorCode];

/** A challenge could not be answered. */
export class DigestError extends SipError {
  constructor(code: DigestErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, 0, options);
    this.name = 'DigestError';
  }
}
