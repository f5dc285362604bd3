/**
 * SAS rendering (RFC 6189 §5.1.6). B32: the leftmost 20 bits of sasvalue as four characters of
 * the z-base-32 alphabet, read aloud by both users. B256 (PGP word list) is not offered.
 */
const ALPHABET = 'ybndrfg8ejkmcpqxot1uwisza345h769';

export const SAS_TYPES = ['B32 '] as const;

export function renderSasB32(sasValue: Uint8Array): string {
  const v = ((sasValue[0] << 24) | (sasValue[1] << 16) | (sasValue[2] << 8) | sasValue[3]) >>> 0;
  let out = '';
  for (let i = 0; i < 4; i++) out += ALPHABET[(v >>> (27 - i * 5)) & 31];
  return out;
}
