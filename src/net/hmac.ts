/**
 * HMAC (RFC 2104) with the key's pads computed once, for MACs on hot paths: SRTP packets
 * (HMAC-SHA1, `media/srtp/`) and SIP digest nonces (HMAC-SHA256, `sip/digest-nonce.ts`).
 *
 * `createHmac()` builds a KeyObject, an OpenSSL context and a JS wrapper for every MAC
 * (~3.5–4 µs under load). HMAC is H((K ^ opad) || H((K ^ ipad) || m)), and the one-shot
 * `crypto.hash()` (Node 20.12+) hashes a buffer without any object: two calls over buffers kept
 * here give the same bytes for about a third less (bench/README.md "SRTP legs", "sip").
 */
import { hash } from 'node:crypto';

const BLOCK = 64; // SHA-1 and SHA-256 alike

export class Hmac {
  /** ipad'ed key, then the message (grown on demand). */
  private inner = Buffer.alloc(BLOCK + 256);
  /** opad'ed key, then the inner digest. */
  private readonly outer: Buffer;

  constructor(private readonly algorithm: 'sha1' | 'sha256', key: Buffer) {
    this.outer = Buffer.alloc(BLOCK + (algorithm === 'sha1' ? 20 : 32));
    const k = key.length > BLOCK ? hash(algorithm, key, 'buffer') : key;
    for (let i = 0; i < BLOCK; i++) {
      const b = i < k.length ? k[i]! : 0;
      this.inner[i] = b ^ 0x36;
      this.outer[i] = b ^ 0x5c;
    }
  }

  /** HMAC of `data` followed by `suffix` (an SRTP packet and its ROC). */
  digest(data: Uint8Array, suffix?: Uint8Array): Buffer {
    const n = data.length + (suffix === undefined ? 0 : suffix.length);
    const inner = this.room(n);
    inner.set(data, BLOCK);
    if (suffix !== undefined) inner.set(suffix, BLOCK + data.length);
    return this.finish(n);
  }

  /** HMAC of `text` (UTF-8), a zero octet, then `data` (a digest nonce's realm and body). */
  digestText(text: string, data: Uint8Array): Buffer {
    const t = Buffer.byteLength(text);
    const inner = this.room(t + 1 + data.length);
    inner.write(text, BLOCK);
    inner[BLOCK + t] = 0;
    inner.set(data, BLOCK + t + 1);
    return this.finish(t + 1 + data.length);
  }

  /** The inner buffer, with room for an `n`-octet message after the pad. */
  private room(n: number): Buffer {
    if (this.inner.length < BLOCK + n) {
      const grown = Buffer.alloc(BLOCK + n);
      this.inner.copy(grown, 0, 0, BLOCK);
      this.inner = grown;
    }
    return this.inner;
  }

  private finish(n: number): Buffer {
    hash(this.algorithm, this.inner.subarray(0, BLOCK + n), 'buffer').copy(this.outer, BLOCK);
    return hash(this.algorithm, this.outer, 'buffer');
  }
}
