/**
 * The primitives ZRTP is built from, with the negotiated hash fixed to S256 (SHA-256, the
 * mandatory one, RFC 6189 §5.1.2) and the cipher to AES1 (AES-128 in CFB mode, §5.1.3).
 */
import { createCipheriv, createDecipheriv, createDiffieHellman, createECDH, createHash, createHmac, getDiffieHellman, randomBytes, timingSafeEqual } from 'node:crypto';

export function sha256(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

export function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** The 64-bit MAC closing Hello, Commit and DHPart messages: HMAC over everything before it (§9). */
export function messageMac(key: Uint8Array, message: Buffer): Buffer {
  return hmacSha256(key, message.subarray(0, message.length - 8)).subarray(0, 8);
}

/** Writes the MAC into the last two words of an encoded message. */
export function sealMessage(key: Uint8Array, message: Buffer): Buffer {
  messageMac(key, message).copy(message, message.length - 8);
  return message;
}

export function macMatches(key: Uint8Array, message: Buffer): boolean {
  return timingSafeEqual(messageMac(key, message), message.subarray(message.length - 8));
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

/**
 * KDF(KI, Label, Context, L) = HMAC(KI, i || Label || 0x00 || Context || L), truncated to L
 * bits, with i = 1 (one HMAC block is enough for every key ZRTP derives) — §4.5.1, NIST SP
 * 800-108 counter mode.
 */
export function kdf(ki: Uint8Array, label: string, context: Uint8Array, bits: number): Buffer {
  return hmacSha256(ki, u32(1), Buffer.from(label, 'latin1'), Buffer.from([0]), context, u32(bits)).subarray(0, bits / 8);
}

/** H0 random, Hn = hash(Hn-1) (§9): each message reveals the preimage that authenticates the one before. */
export interface HashChain {
  h0: Buffer;
  h1: Buffer;
  h2: Buffer;
  h3: Buffer;
}

export function hashChain(h0: Buffer = randomBytes(32)): HashChain {
  const h1 = sha256(h0);
  const h2 = sha256(h1);
  return { h0, h1, h2, h3: sha256(h2) };
}

/** AES-CFB-128 of the Confirm's encrypted part (§5.7), key zrtpkeyi/zrtpkeyr. */
export function confirmCipher(key: Buffer, iv: Buffer, data: Buffer, encrypt: boolean): Buffer {
  const c = encrypt ? createCipheriv('aes-128-cfb', key, iv) : createDecipheriv('aes-128-cfb', key, iv);
  return Buffer.concat([c.update(data), c.final()]);
}

/** One side's ephemeral key pair of a key agreement type (§5.1.5). */
export interface KeyAgreement {
  readonly name: 'DH3k' | 'EC25';
  /** pvi/pvr as carried in DHPart: DH3k 384 bytes big-endian, EC25 x || y (64 bytes). */
  readonly publicValue: Buffer;
  /**
   * DHResult from the peer's public value: DH3k the shared secret padded to 384 bytes, EC25
   * the x coordinate (§4.4.1.4).
   * @throws RangeError for a public value that must be refused (Error 0x61).
   */
  secret(peer: Buffer): Buffer;
}

const DH3K_BYTES = 384;
const MODP15 = getDiffieHellman('modp15');
const DH3K_PRIME = MODP15.getPrime();
const DH3K_P = BigInt('0x' + DH3K_PRIME.toString('hex'));

/** DH3k: the 3072-bit MODP group of RFC 3526 (Node's `modp15`), a 256-bit exponent (§5.1.5). */
function dh3k(): KeyAgreement {
  // A group object refuses setPrivateKey; the same prime and generator in a plain one take it.
  const dh = createDiffieHellman(DH3K_PRIME, MODP15.getGenerator());
  dh.setPrivateKey(randomBytes(32));
  dh.generateKeys();
  return {
    name: 'DH3k',
    publicValue: pad(dh.getPublicKey(), DH3K_BYTES),
    secret(peer) {
      if (peer.length !== DH3K_BYTES) throw new RangeError(`DH3k public value of ${peer.length} bytes`);
      // §4.4.1.1: pv of 1 or p-1 (and 0, or >= p) would force a known secret.
      const v = BigInt('0x' + peer.toString('hex'));
      if (v <= 1n || v >= DH3K_P - 1n) throw new RangeError('DH3k public value is 0, 1, p-1 or out of range');
      return pad(dh.computeSecret(peer), DH3K_BYTES);
    },
  };
}

/** EC25: NIST P-256 (§5.1.5); Node checks that the peer's point is on the curve. */
function ec25(): KeyAgreement {
  const ecdh = createECDH('prime256v1');
  const pub = ecdh.generateKeys();
  return {
    name: 'EC25',
    publicValue: pub.subarray(1),
    secret(peer) {
      if (peer.length !== 64) throw new RangeError(`EC25 public value of ${peer.length} bytes`);
      try {
        return ecdh.computeSecret(Buffer.concat([Buffer.from([4]), peer]));
      } catch (err) {
        throw new RangeError(`EC25 public value is not a point of P-256: ${(err as Error).message}`);
      }
    },
  };
}

export const KEY_AGREEMENTS = { DH3k: dh3k, EC25: ec25 } as const;
export type KeyAgreementName = keyof typeof KEY_AGREEMENTS;

export function isKeyAgreement(name: string): name is KeyAgreementName {
  return Object.hasOwn(KEY_AGREEMENTS, name);
}

/** Public value length in bytes of each key agreement type (DHPart length check). */
export const PUBLIC_VALUE_BYTES: Record<KeyAgreementName, number> = { DH3k: DH3K_BYTES, EC25: 64 };

function pad(b: Buffer, len: number): Buffer {
  if (b.length >= len) return b;
  return Buffer.concat([Buffer.alloc(len - b.length), b]);
}
