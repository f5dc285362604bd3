/**
 * Confirm1/Confirm2 (RFC 6189 §5.7): H0, the flags and the cache expiry, encrypted with
 * AES-CFB under the sender's ZRTP key and authenticated with its HMAC key (`confirm_mac`,
 * 64 bits over the ciphertext). The responder sends Confirm1 with the R keys, the initiator
 * Confirm2 with the I keys.
 */
import { randomBytes } from 'node:crypto';
import { encodeConfirm, encodeConfirmBody, parseConfirmBody, type ConfirmBody, type ConfirmMessage } from './zrtp-messages.ts';
import { confirmCipher, equalBytes, hmacSha256 } from './zrtp-crypto.ts';
import type { Role, SessionKeys } from './zrtp-keys.ts';

const keysOf = (k: SessionKeys, sender: Role): [Buffer, Buffer] => (sender === 'Initiator' ? [k.zrtpKeyI, k.macKeyI] : [k.zrtpKeyR, k.macKeyR]);

/** Our Confirm: `sasVerified` is the V flag; the retained secret never expires (0xffffffff). */
export function buildConfirm(keys: SessionKeys, sender: Role, h0: Buffer, sasVerified: boolean): Buffer {
  const [zrtpKey, macKey] = keysOf(keys, sender);
  const body = encodeConfirmBody({ h0, enrollment: false, sasVerified, allowClear: false, disclosure: false, cacheExpiry: 0xffffffff });
  const iv = randomBytes(16);
  const encrypted = confirmCipher(zrtpKey, iv, body, true);
  return encodeConfirm({ type: sender === 'Initiator' ? 'Confirm2' : 'Confirm1', confirmMac: hmacSha256(macKey, encrypted).subarray(0, 8), iv, encrypted });
}

/** The peer's Confirm checked and decrypted; a string says why it was refused. */
export function openConfirm(keys: SessionKeys, sender: Role, msg: ConfirmMessage): ConfirmBody | string {
  const [zrtpKey, macKey] = keysOf(keys, sender);
  if (!equalBytes(hmacSha256(macKey, msg.encrypted).subarray(0, 8), msg.confirmMac)) return `${msg.type} MAC does not verify`;
  try {
    return parseConfirmBody(confirmCipher(zrtpKey, msg.iv, msg.encrypted, false));
  } catch {
    return `${msg.type} body is malformed`;
  }
}
