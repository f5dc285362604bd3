/**
 * Key derivation of a DH-mode ZRTP exchange (RFC 6189 §4.3, §4.4.1.4, §4.5) and the retained
 * secret identifiers that let the two ends find the secret they cached from their last call.
 */
import { randomBytes } from 'node:crypto';
import { equalBytes, hmacSha256, kdf, sha256 } from './zrtp-crypto.ts';

export type Role = 'Initiator' | 'Responder';

/** What an endpoint cached for one peer ZID (§4.9). */
export interface RetainedSecrets {
  rs1: Buffer | null;
  rs2: Buffer | null;
  /** The user verified the SAS with this peer once (the V flag of Confirm, §7.1). */
  verified: boolean;
}

export interface SecretIds {
  rs1Id: Buffer;
  rs2Id: Buffer;
  auxId: Buffer;
  pbxId: Buffer;
}

const id = (secret: Buffer | null, label: string): Buffer =>
  secret === null ? randomBytes(8) : hmacSha256(secret, Buffer.from(label, 'latin1')).subarray(0, 8);

/**
 * The IDs a party sends in its DHPart (§4.3.1): MAC(rs, "Initiator"/"Responder") truncated to
 * 64 bits, random values for secrets it does not have (so an observer learns nothing). We keep
 * no auxsecret and no PBX secret: their IDs are always random.
 */
export function secretIds(rs: RetainedSecrets, role: Role): SecretIds {
  return { rs1Id: id(rs.rs1, role), rs2Id: id(rs.rs2, role), auxId: randomBytes(8), pbxId: randomBytes(8) };
}

/**
 * s1 of the s0 computation: our cached secret whose ID (with the peer's role as label) the
 * peer sent, tried in the order of §4.3.2: our rs1 against their rs1ID then rs2ID, then our rs2.
 * `null` when nothing matched (first call, or a cache mismatch).
 */
export function matchRetainedSecret(ours: RetainedSecrets, theirs: { rs1Id: Buffer; rs2Id: Buffer }, theirRole: Role): { s1: Buffer | null; matched: 'rs1' | 'rs2' | null } {
  for (const [name, secret] of [['rs1', ours.rs1], ['rs2', ours.rs2]] as const) {
    if (secret === null) continue;
    const expected = id(secret, theirRole);
    if (equalBytes(expected, theirs.rs1Id) || equalBytes(expected, theirs.rs2Id)) return { s1: secret, matched: name };
  }
  return { s1: null, matched: null };
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

const lengthPrefixed = (s: Buffer | null): Buffer[] => (s === null ? [u32(0)] : [u32(s.length), s]);

/**
 * s0 = hash(counter || DHResult || "ZRTP-HMAC-KDF" || ZIDi || ZIDr || total_hash ||
 *           len(s1) || s1 || len(s2) || s2 || len(s3) || s3)           (§4.4.1.4)
 * total_hash = hash(Hello of the responder || Commit || DHPart1 || DHPart2).
 */
export function deriveS0(o: { dhResult: Buffer; zidi: Buffer; zidr: Buffer; totalHash: Buffer; s1: Buffer | null }): Buffer {
  return sha256(u32(1), o.dhResult, Buffer.from('ZRTP-HMAC-KDF', 'latin1'), o.zidi, o.zidr, o.totalHash, ...lengthPrefixed(o.s1), ...lengthPrefixed(null), ...lengthPrefixed(null));
}

export function totalHash(responderHello: Buffer, commit: Buffer, dhPart1: Buffer, dhPart2: Buffer): Buffer {
  return sha256(responderHello, commit, dhPart1, dhPart2);
}

/** hvi = hash(initiator's DHPart2 || responder's Hello) (§4.4.1.1). */
export function hvi(dhPart2: Buffer, responderHello: Buffer): Buffer {
  return sha256(dhPart2, responderHello);
}

/** Everything derived from s0 (§4.5.2, §4.5.3), AES-128 keys and 112-bit salts for SRTP. */
export interface SessionKeys {
  zrtpSess: Buffer;
  /** sasvalue: the leftmost 32 bits of sashash, rendered per the SAS type. */
  sasValue: Buffer;
  sasHash: Buffer;
  srtpKeyI: Buffer;
  srtpSaltI: Buffer;
  srtpKeyR: Buffer;
  srtpSaltR: Buffer;
  macKeyI: Buffer;
  macKeyR: Buffer;
  zrtpKeyI: Buffer;
  zrtpKeyR: Buffer;
  /** The new rs1 for the cache (§4.6.1). */
  newRs1: Buffer;
}

export function deriveSessionKeys(s0: Buffer, zidi: Buffer, zidr: Buffer, total: Buffer): SessionKeys {
  const ctx = Buffer.concat([zidi, zidr, total]);
  const k = (label: string, bits: number): Buffer => kdf(s0, label, ctx, bits);
  const sasHash = k('SAS', 256);
  return {
    zrtpSess: k('ZRTP Session Key', 256),
    sasHash,
    sasValue: sasHash.subarray(0, 4),
    srtpKeyI: k('Initiator SRTP master key', 128),
    srtpSaltI: k('Initiator SRTP master salt', 112),
    srtpKeyR: k('Responder SRTP master key', 128),
    srtpSaltR: k('Responder SRTP master salt', 112),
    macKeyI: k('Initiator HMAC key', 256),
    macKeyR: k('Responder HMAC key', 256),
    zrtpKeyI: k('Initiator ZRTP key', 128),
    zrtpKeyR: k('Responder ZRTP key', 128),
    newRs1: k('retained secret', 256),
  };
}

/**
 * The cache after a successful exchange (§4.6.1): rs2 takes the old rs1 and rs1 the new one.
 * After a cache mismatch (we had secrets and none matched) rs2 keeps what it had, so a
 * one-off attacker cannot flush the secret of the genuine peer, and the verified flag drops:
 * the SAS must be compared again (§4.6.1.1).
 */
export function updatedSecrets(old: RetainedSecrets, newRs1: Buffer, matched: 'rs1' | 'rs2' | null): RetainedSecrets {
  const mismatch = matched === null && (old.rs1 !== null || old.rs2 !== null);
  return { rs1: newRs1, rs2: mismatch ? old.rs2 : old.rs1, verified: mismatch ? false : old.verified };
}
