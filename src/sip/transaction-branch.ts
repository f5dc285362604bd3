/**
 * Branch ids (RFC 3261 §8.1.1.7): "z9hG4bK" + a value unique across space
 * and time. 96 random bits (crypto) encoded base64url (token-safe: A-Z a-z
 * 0-9 - _), taken from a pooled buffer so each id costs one small string.
 */
import { randomFillSync } from 'node:crypto';
import { MAGIC_COOKIE } from './transaction-key.ts';

const ID_BYTES = 12;
const POOL_IDS = 256;
const pool = Buffer.allocUnsafe(ID_BYTES * POOL_IDS);
let next = POOL_IDS;

/**
 * A fresh branch id, e.g. `z9hG4bKq3Zb0cH2l9Kx1wYt`.
 *
 * @example via.params.set('branch', generateBranch());
 */
export function generateBranch(): string {
  if (next === POOL_IDS) {
    randomFillSync(pool);
    next = 0;
  }
  const start = next++ * ID_BYTES;
  return MAGIC_COOKIE + pool.toString('base64url', start, start + ID_BYTES);
}
