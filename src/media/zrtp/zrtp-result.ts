/**
 * What a completed ZRTP exchange hands its owner: the SAS to show, the flags that say whether
 * it still needs comparing, and the SRTP keys of the stream in the shape `MediaEngine.setSrtp`
 * takes (master key followed by master salt, as SDES carries them).
 */
import type { SrtpKeys } from '../srtp/leg-srtp.ts';
import { srtpSuiteOf, type Algorithms } from './zrtp-algorithms.ts';
import type { Role, SessionKeys } from './zrtp-keys.ts';

export interface ZrtpSecure {
  role: Role;
  /** The SAS rendered per its type (B32: four characters). */
  sas: string;
  sasType: string;
  hash: string;
  cipher: string;
  authTag: string;
  keyAgreement: string;
  peerZid: Buffer;
  peerClientId: string;
  /** Which retained secret matched: null on a first call or after a cache mismatch. */
  cacheMatched: 'rs1' | 'rs2' | null;
  /** Both ends have the SAS verified and the cache matched (§7.1): no need to compare it again. */
  verified: boolean;
  /** The V flag the peer sent in its Confirm. */
  peerVerifiedFlag: boolean;
  /** Our cache's verdict on this peer after the exchange (cleared by a cache mismatch). */
  sasVerified: boolean;
  /** Our SRTP keys: tx protects what we send (our role's key), rx unprotects the peer's. */
  srtp: SrtpKeys;
  /** ZRTPSess (§4.5.2), for exporting further keys; never leaves the process. */
  zrtpSess: Buffer;
}

export function secureResult(o: {
  role: Role; algorithms: Algorithms; keys: SessionKeys; peerZid: Buffer; peerClientId: string; sas: string;
  cacheMatched: 'rs1' | 'rs2' | null; verified: boolean; peerVerifiedFlag: boolean; sasVerified: boolean;
}): ZrtpSecure {
  const k = o.keys;
  const initiator = Buffer.concat([k.srtpKeyI, k.srtpSaltI]);
  const responder = Buffer.concat([k.srtpKeyR, k.srtpSaltR]);
  const [tx, rx] = o.role === 'Initiator' ? [initiator, responder] : [responder, initiator];
  return {
    role: o.role, sas: o.sas, sasType: o.algorithms.sas.trim(), hash: o.algorithms.hash, cipher: o.algorithms.cipher,
    authTag: o.algorithms.authTag, keyAgreement: o.algorithms.keyAgreement, peerZid: o.peerZid, peerClientId: o.peerClientId.trimEnd(),
    cacheMatched: o.cacheMatched, verified: o.verified, peerVerifiedFlag: o.peerVerifiedFlag, sasVerified: o.sasVerified,
    srtp: { suite: srtpSuiteOf(o.algorithms.authTag), txKey: tx, rxKey: rx }, zrtpSess: k.zrtpSess,
  };
}
