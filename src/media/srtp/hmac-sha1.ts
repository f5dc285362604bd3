/**
 * HMAC-SHA1 (RFC 2104) with the key's pads computed once per session key: `createHmac` builds
 * and frees an OpenSSL context per packet (~3.5 µs), two one-shot `crypto.hash` calls over a
 * reused scratch buffer cost about a third less (bench/README.md "SRTP legs").
 */
import { hash } from 'node:crypto';

const BLOCK = 64;
const DIGEST = 20;

export class HmacSha1 {
  private inner = Buffer.alloc(BLOCK + 2048);
  private readonly outer = Buffer.alloc(BLOCK + DIGEST);

  constructor(key: Buffer) {
    const k = key.length > BLOCK ? hash('sha1', key, 'buffer') : key;
    for (let i = 0; i < BLOCK; i++) {
      const b = i < k.length ? k[i]! : 0;
      this.inner[i] = b ^ 0x36;
      this.outer[i] = b ^ 0x5c;
    }
  }

  /** HMAC of `data` followed by `suffix` (the SRTP ROC), 20 octets. */
  digest(data: Buffer, suffix?: Buffer): Buffer {
    const n = data.length + (suffix ? suffix.length : 0);
    if (this.inner.length < BLOCK + n) {
      const grown = Buffer.alloc(BLOCK + n);
      this.inner.copy(grown, 0, 0, BLOCK);
      this.inner = grown;
    }
    data.copy(this.inner, BLOCK);
    if (suffix) suffix.copy(this.inner, BLOCK + data.length);
    hash('sha1', this.inner.subarray(0, BLOCK + n), 'buffer').copy(this.outer, BLOCK);
    return hash('sha1', this.outer, 'buffer');
  }
}
