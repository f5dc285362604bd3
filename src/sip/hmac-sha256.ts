/**
 * HMAC-SHA256 (RFC 2104) for short messages on a hot path, with the key's pads computed once.
 *
 * `createHmac()` builds a KeyObject, a native Hmac context and a JS wrapper for every MAC:
 * ~4 µs each under load, and the digest nonces take two per REGISTER (issue one, check one).
 * HMAC is H((K ^ opad) || H((K ^ ipad) || m)), and Node's one-shot `crypto.hash()` (20.12+)
 * hashes a buffer without any object: two calls over buffers we keep give the same bytes at a
 * fraction of the cost. Where `crypto.hash` is missing, `createHmac` does the work.
 */
import crypto from 'node:crypto';

const BLOCK = 64;
const OUT = 32;

type OneShot = (algorithm: string, data: Uint8Array, outputEncoding: 'buffer') => Buffer;
const oneShot = (crypto as unknown as { hash?: OneShot }).hash;

export class HmacSha256 {
  /** ipad'ed key, then the message (grown on demand). */
  private inner: Buffer;
  /** opad'ed key, then the inner digest. */
  private readonly outer = Buffer.alloc(BLOCK + OUT);

  constructor(private readonly key: Buffer) {
    const k = key.length > BLOCK ? crypto.createHash('sha256').update(key).digest() : key;
    this.inner = Buffer.alloc(BLOCK + 128);
    for (let i = 0; i < BLOCK; i++) {
      const b = i < k.length ? k[i]! : 0;
      this.inner[i] = b ^ 0x36;
      this.outer[i] = b ^ 0x5c;
    }
  }

  /** The MAC of `text` (UTF-8), a zero byte, then `bytes`. */
  mac(text: string, bytes: Uint8Array): Buffer {
    if (oneShot === undefined) return crypto.createHmac('sha256', this.key).update(text).update('\0').update(bytes).digest();
    const len = BLOCK + Buffer.byteLength(text) + 1 + bytes.length;
    if (len > this.inner.length) {
      const grown = Buffer.alloc(len * 2);
      this.inner.copy(grown, 0, 0, BLOCK);
      this.inner = grown;
    }
    const inner = this.inner;
    let n = BLOCK + inner.write(text, BLOCK);
    inner[n++] = 0;
    inner.set(bytes, n);
    n += bytes.length;
    oneShot('sha256', inner.subarray(0, n), 'buffer').copy(this.outer, BLOCK);
    return oneShot('sha256', this.outer, 'buffer');
  }
}
