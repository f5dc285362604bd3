/**
 * AES counter mode for SRTP (RFC 3711 §4.1.1) on one long-lived ECB cipher per session key:
 * the keystream is the encryption of IV, IV+1, … (the block counter in the last 16 bits).
 * Node cannot re-key or re-IV a cipher object, so `createCipheriv('aes-128-ctr')` per packet
 * would build and tear down an OpenSSL context each time; this costs about a fifth of that.
 */
import { createCipheriv, type Cipher } from 'node:crypto';

/** Largest payload a counter block sequence covers (2^16 blocks per IV, RFC 3711 §4.1.1). */
const MAX_BLOCKS = 0x10000;

export class AesCtr {
  private readonly ecb: Cipher;
  private counters = Buffer.alloc(16 * 96);

  constructor(key: Buffer) {
    this.ecb = createCipheriv(`aes-${key.length * 8}-ecb`, key, null).setAutoPadding(false);
  }

  /** XORs the keystream of `iv` into `data[from, to)` in place. */
  apply(iv: Buffer, data: Buffer, from: number, to: number): void {
    const len = to - from;
    if (len <= 0) return;
    const blocks = Math.ceil(len / 16);
    if (blocks > MAX_BLOCKS) throw new RangeError('payload too long for one SRTP keystream');
    if (this.counters.length < blocks * 16) this.counters = Buffer.alloc(blocks * 16);
    const c = this.counters;
    const base = iv.readUInt16BE(14);
    for (let j = 0, o = 0; j < blocks; j++, o += 16) {
      iv.copy(c, o, 0, 14);
      c.writeUInt16BE((base + j) & 0xffff, o + 14);
    }
    const ks = this.ecb.update(c.subarray(0, blocks * 16));
    for (let i = 0; i < len; i++) data[from + i]! ^= ks[i]!;
  }
}
