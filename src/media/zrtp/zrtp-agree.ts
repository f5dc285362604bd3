/**
 * The key agreement step of a DH-mode exchange (RFC 6189 §4.4.1): DHResult from the peer's
 * public value, the retained secret both ends still share, s0 and everything derived from it.
 */
import { PUBLIC_VALUE_BYTES, type KeyAgreement, type KeyAgreementName } from './zrtp-crypto.ts';
import { ZRTP_ERRORS, type DhPartMessage } from './zrtp-messages.ts';
import { deriveS0, deriveSessionKeys, matchRetainedSecret, totalHash, type RetainedSecrets, type Role, type SessionKeys } from './zrtp-keys.ts';

export interface Agreement {
  keys: SessionKeys;
  matched: 'rs1' | 'rs2' | null;
}

export function agree(o: {
  role: Role; kind: KeyAgreementName; ka: KeyAgreement; peerDh: DhPartMessage; retained: RetainedSecrets; zid: Buffer; peerZid: Buffer;
  /** The four messages of the total hash, in its order. */
  responderHello: Buffer; commit: Buffer; dhPart1: Buffer; dhPart2: Buffer;
}): Agreement | { error: string; code: number } {
  if (o.peerDh.pv.length !== PUBLIC_VALUE_BYTES[o.kind]) return { error: `public value of ${o.peerDh.pv.length} bytes for ${o.kind}`, code: ZRTP_ERRORS.malformed };
  let dhResult: Buffer;
  try {
    dhResult = o.ka.secret(o.peerDh.pv);
  } catch (err) {
    return { error: (err as Error).message, code: ZRTP_ERRORS.badPublicValue };
  }
  const { s1, matched } = matchRetainedSecret(o.retained, o.peerDh, o.role === 'Initiator' ? 'Responder' : 'Initiator');
  const [zidi, zidr] = o.role === 'Initiator' ? [o.zid, o.peerZid] : [o.peerZid, o.zid];
  const total = totalHash(o.responderHello, o.commit, o.dhPart1, o.dhPart2);
  return { keys: deriveSessionKeys(deriveS0({ dhResult, zidi, zidr, totalHash: total, s1 }), zidi, zidr, total), matched };
}
