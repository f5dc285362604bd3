/**
 * The SRTP key derivation function (RFC 3711 §4.3) with a key derivation rate of 0, the only
 * rate SDES peers use in practice: session keys come from AES-CM keyed with the master key,
 * run over x = (label || 0^48) XOR master salt, shifted left 16 bits. A GCM master salt is 12
 * octets (RFC 7714 §11); it fills the same 112-bit field from the left, zero-padded.
 */
import { createCipheriv } from 'node:crypto';

export const LABEL = {
  rtpEncryption: 0, rtpAuth: 1, rtpSalt: 2,
  rtcpEncryption: 3, rtcpAuth: 4, rtcpSalt: 5,
} as const;

export function deriveSessionKey(masterKey: Buffer, masterSalt: Buffer, label: number, length: number): Buffer {
  const iv = Buffer.alloc(16);
  masterSalt.copy(iv, 0, 0, Math.min(14, masterSalt.length));
  // label sits in the 8th octet of the 112-bit x: label (8 bits) then r = index DIV kdr (48 bits) = 0.
  iv[7]! ^= label;
  const cipher = createCipheriv(`aes-${masterKey.length * 8}-ctr`, masterKey, iv);
  return cipher.update(Buffer.alloc(length));
}

export interface SessionKeys {
  encryption: Buffer;
  auth: Buffer;
  salt: Buffer;
}

/** The three session keys of one direction and protocol (RTP or RTCP). */
export function deriveSessionKeys(masterKey: Buffer, masterSalt: Buffer, rtcp: boolean, authLength: number): SessionKeys {
  const base = rtcp ? LABEL.rtcpEncryption : LABEL.rtpEncryption;
  return {
    encryption: deriveSessionKey(masterKey, masterSalt, base, masterKey.length),
    auth: authLength > 0 ? deriveSessionKey(masterKey, masterSalt, base + 1, authLength) : Buffer.alloc(0),
    salt: deriveSessionKey(masterKey, masterSalt, base + 2, masterSalt.length),
  };
}
