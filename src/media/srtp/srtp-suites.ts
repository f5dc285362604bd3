/**
 * SRTP crypto suites (RFC 4568 §6.2 names, RFC 7714 §14.2): key and salt lengths, tag length and
 * the transform family. The master key and salt travel together in SDES `inline:` parameters.
 */
export type SrtpSuiteName = 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32' | 'AEAD_AES_128_GCM';

export interface SrtpSuite {
  name: SrtpSuiteName;
  /** `cm`: AES counter mode + HMAC-SHA1 (RFC 3711); `gcm`: AES-GCM AEAD (RFC 7714). */
  kind: 'cm' | 'gcm';
  keyLength: number;
  saltLength: number;
  /** Authentication tag of SRTP packets, in octets. */
  tagLength: number;
  /** SRTCP tag: the 32-bit suite still uses an 80-bit tag for SRTCP (RFC 4568 §6.2.1). */
  rtcpTagLength: number;
}

export const SRTP_SUITES: Record<SrtpSuiteName, SrtpSuite> = {
  AES_CM_128_HMAC_SHA1_80: { name: 'AES_CM_128_HMAC_SHA1_80', kind: 'cm', keyLength: 16, saltLength: 14, tagLength: 10, rtcpTagLength: 10 },
  AES_CM_128_HMAC_SHA1_32: { name: 'AES_CM_128_HMAC_SHA1_32', kind: 'cm', keyLength: 16, saltLength: 14, tagLength: 4, rtcpTagLength: 10 },
  AEAD_AES_128_GCM: { name: 'AEAD_AES_128_GCM', kind: 'gcm', keyLength: 16, saltLength: 12, tagLength: 16, rtcpTagLength: 16 },
};

/** Our order of preference when we offer (RFC 7714 GCM first: one pass, a 128-bit tag). */
export const SRTP_SUITE_PREFERENCE: readonly SrtpSuiteName[] = ['AEAD_AES_128_GCM', 'AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'];

export function findSrtpSuite(name: string): SrtpSuite | undefined {
  return Object.hasOwn(SRTP_SUITES, name) ? SRTP_SUITES[name as SrtpSuiteName] : undefined;
}
