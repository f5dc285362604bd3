/**
 * Random bytes for identifiers minted per message (tags §19.3, branches §8.1.1.7, Call-IDs,
 * digest nonces), drawn from a pooled buffer refilled from the CSPRNG 4 KiB at a time.
 *
 * `crypto.randomBytes(6)` costs a trip into OpenSSL (~15-20 us) for 6 bytes; a REGISTER with
 * digest mints three such values (two To tags and a nonce), which showed up in the
 * registration benchmark. Each byte is handed out once, the same trade Node makes for
 * `crypto.randomUUID()`.
 */
import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let offset = POOL_SIZE;

/**
 * `n` fresh random bytes (n <= 4096). The returned view is only valid until the next call:
 * copy or encode it at once.
 *
 * @example randomView(6).toString('hex') // a 48-bit tag
 */
export function randomView(n: number): Buffer {
  const start = take(n);
  return pool.subarray(start, start + n);
}

/**
 * `n` fresh random bytes as lowercase hex (2n characters): identifiers of calls and legs.
 * Encodes straight from the pool, without the view `randomView` makes.
 */
export function randomHex(n: number): string {
  const start = take(n);
  return pool.toString('hex', start, start + n);
}

/** `n` fresh random bytes as base64url: Via branches. */
export function randomBase64url(n: number): string {
  const start = take(n);
  return pool.toString('base64url', start, start + n);
}

/** Reserves `n` bytes of the pool (refilling it first when too few are left); returns their offset. */
function take(n: number): number {
  if (n > POOL_SIZE) throw new RangeError(`random pool: ${n} > ${POOL_SIZE} bytes`);
  if (offset + n > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const start = offset;
  offset += n;
  return start;
}
