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
  if (n > POOL_SIZE) throw new RangeError(`randomView: ${n} > ${POOL_SIZE} bytes`);
  if (offset + n > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const view = pool.subarray(offset, offset + n);
  offset += n;
  return view;
}
