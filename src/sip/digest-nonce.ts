/**
 * Stateless digest nonces (RFC 7616 §3.3 suggests "time-stamp H(time-stamp
 * ":" ETag ":" secret-data)"): any node holding the secret can check a nonce
 * it did not issue, and nonces survive restarts.
 *
 *    0                   6                  14                                30
 *   +-------------------+-------------------+----------------------------------+
 *   | issued-at ms (BE) | random (8 bytes)  | HMAC-SHA256(secret, realm 0 ts r) |
 *   |     uint48        |                   |       truncated to 16 bytes      |
 *   +-------------------+-------------------+----------------------------------+
 *   encoded base64url (40 characters, no padding: safe inside a quoted-string)
 *
 * The realm is inside the MAC so a nonce issued for one realm is refused in
 * another. The random part makes each nonce unique for nonce-count tracking.
 */
import { timingSafeEqual } from 'node:crypto';
import { Hmac } from '../net/hmac.ts';
import { randomView } from './random-pool.ts';

const TS_LEN = 6;
const RAND_LEN = 8;
const MAC_LEN = 16;
const BODY_LEN = TS_LEN + RAND_LEN;
const NONCE_LEN = BODY_LEN + MAC_LEN;
const NONCE_CHARS = Math.ceil((NONCE_LEN * 4) / 3);
/** Nonces dated this far in the future are accepted (cluster clock skew). */
const FUTURE_SKEW_MS = 5_000;

/** Outcome of {@link checkNonce}. */
export type NonceCheck =
  | { readonly kind: 'valid'; readonly issuedAt: number }
  | { readonly kind: 'expired'; readonly issuedAt: number }
  | { readonly kind: 'invalid' };

const INVALID: NonceCheck = { kind: 'invalid' };

/** The MAC of each secret in use (a server has one; its pads are computed once). */
const macs = new WeakMap<Buffer, Hmac>();

function mac(secret: Buffer, realm: string, body: Buffer): Buffer {
  let m = macs.get(secret);
  if (m === undefined) macs.set(secret, (m = new Hmac('sha256', secret)));
  return m.digestText(realm, body).subarray(0, MAC_LEN);
}

/** Issues a nonce for `realm` dated `nowMs`; `random` is injectable for tests. */
export function createNonce(secret: Buffer, realm: string, nowMs: number, random: Buffer = randomView(RAND_LEN)): string {
  const buf = Buffer.allocUnsafe(NONCE_LEN);
  buf.writeUIntBE(Math.max(0, Math.floor(nowMs)), 0, TS_LEN);
  random.copy(buf, TS_LEN, 0, RAND_LEN);
  mac(secret, realm, buf.subarray(0, BODY_LEN)).copy(buf, BODY_LEN);
  return buf.toString('base64url');
}

/**
 * Verifies the MAC (timing-safe) and the age of `nonce`. A nonce older than
 * `ttlMs` is `expired` (the server answers stale=true if the credentials
 * are otherwise right); a forged, truncated or other-realm nonce is `invalid`.
 */
export function checkNonce(secret: Buffer, realm: string, nonce: string, nowMs: number, ttlMs: number): NonceCheck {
  if (nonce.length !== NONCE_CHARS) return INVALID;
  const buf = Buffer.from(nonce, 'base64url');
  if (buf.length !== NONCE_LEN || buf.toString('base64url') !== nonce) return INVALID;
  const expected = mac(secret, realm, buf.subarray(0, BODY_LEN));
  if (!timingSafeEqual(expected, buf.subarray(BODY_LEN))) return INVALID;
  const issuedAt = buf.readUIntBE(0, TS_LEN);
  if (issuedAt > nowMs + FUTURE_SKEW_MS) return INVALID;
  if (nowMs - issuedAt > ttlMs) return { kind: 'expired', issuedAt };
  return { kind: 'valid', issuedAt };
}
