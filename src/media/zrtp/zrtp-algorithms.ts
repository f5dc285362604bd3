/**
 * What we offer in our Hello and how the initiator picks from two Hellos (RFC 6189 §4.1.2,
 * §5.1). We implement the mandatory set plus EC25: hash S256, cipher AES1, SRTP auth tags
 * HS80/HS32, key agreement EC25/DH3k, SAS B32. A Hello listing nothing of a kind implies the
 * mandatory algorithm of that kind (§5.1).
 */
import type { CommitMessage, HelloMessage } from './zrtp-messages.ts';
import { ZRTP_ERRORS } from './zrtp-messages.ts';
import { isKeyAgreement, type KeyAgreementName } from './zrtp-crypto.ts';
import { SAS_TYPES } from './zrtp-sas.ts';

export const OFFER = {
  hashes: ['S256'],
  ciphers: ['AES1'],
  authTags: ['HS80', 'HS32'],
  sasTypes: [...SAS_TYPES] as string[],
} as const;

const MANDATORY = { hashes: 'S256', ciphers: 'AES1', authTags: 'HS32', keyAgreements: 'DH3k', sasTypes: 'B32 ' } as const;

export interface Algorithms {
  hash: string;
  cipher: string;
  authTag: 'HS80' | 'HS32';
  keyAgreement: KeyAgreementName;
  sas: string;
}

type Kind = keyof typeof MANDATORY;

function listed(hello: HelloMessage, kind: Kind): string[] {
  const l = hello[kind];
  return l.length === 0 ? [MANDATORY[kind]] : l;
}

/** The initiator's choice: our first preference of each kind that the peer lists (or implies). */
export function chooseAlgorithms(peer: HelloMessage, keyAgreements: readonly KeyAgreementName[]): Algorithms | { error: number } {
  const pick = (kind: Kind, ours: readonly string[]): string | undefined => {
    const theirs = listed(peer, kind);
    return ours.find((a) => theirs.includes(a)) ?? (theirs.includes(MANDATORY[kind]) || peer[kind].length === 0 ? MANDATORY[kind] : undefined);
  };
  const hash = pick('hashes', OFFER.hashes);
  const cipher = pick('ciphers', OFFER.ciphers);
  const authTag = pick('authTags', OFFER.authTags);
  const keyAgreement = pick('keyAgreements', keyAgreements);
  const sas = pick('sasTypes', OFFER.sasTypes);
  if (hash !== 'S256') return { error: ZRTP_ERRORS.hashUnsupported };
  if (cipher !== 'AES1') return { error: ZRTP_ERRORS.cipherUnsupported };
  if (authTag !== 'HS80' && authTag !== 'HS32') return { error: ZRTP_ERRORS.authTagUnsupported };
  if (keyAgreement === undefined || !isKeyAgreement(keyAgreement)) return { error: ZRTP_ERRORS.keyAgreementUnsupported };
  if (sas === undefined || !OFFER.sasTypes.includes(sas)) return { error: ZRTP_ERRORS.sasUnsupported };
  return { hash, cipher, authTag, keyAgreement, sas };
}

/** The responder's check of a Commit: every choice must be one we can do. */
export function acceptCommit(c: CommitMessage, keyAgreements: readonly KeyAgreementName[]): Algorithms | { error: number } {
  if (c.hash !== 'S256') return { error: ZRTP_ERRORS.hashUnsupported };
  if (c.cipher !== 'AES1') return { error: ZRTP_ERRORS.cipherUnsupported };
  if (c.authTag !== 'HS80' && c.authTag !== 'HS32') return { error: ZRTP_ERRORS.authTagUnsupported };
  if (!isKeyAgreement(c.keyAgreement) || !keyAgreements.includes(c.keyAgreement)) return { error: ZRTP_ERRORS.keyAgreementUnsupported };
  if (!OFFER.sasTypes.includes(c.sas)) return { error: ZRTP_ERRORS.sasUnsupported };
  return { hash: c.hash, cipher: c.cipher, authTag: c.authTag, keyAgreement: c.keyAgreement, sas: c.sas };
}

/** SRTP suite of the negotiated auth tag (AES1 is AES-128 counter mode, §5.1.3-4). */
export function srtpSuiteOf(authTag: Algorithms['authTag']): 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32' {
  return authTag === 'HS80' ? 'AES_CM_128_HMAC_SHA1_80' : 'AES_CM_128_HMAC_SHA1_32';
}
