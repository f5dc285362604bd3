/**
 * ZRTP messages (RFC 6189 §5.1-5.9): encode and parse. Every message starts with the preamble
 * 0x505a, its length in 32-bit words (preamble included) and an 8-character type block. Parsed
 * messages keep their exact bytes (`raw`): the total hash, hvi and the MACs are computed over them.
 *
 * Hello (§5.2):                          Commit (§5.4, DH mode):
 *   preamble | length                      preamble | length = 29
 *   "Hello   "  (2 words)                  "Commit  "
 *   version "1.10"                         H2 (8 words)
 *   client id (4 words)                    ZID (3 words)
 *   H3 (8 words)                           hash | cipher | auth tag | key agreement | SAS
 *   ZID (3 words)                          hvi (8 words)
 *   0|S|M|P|unused(8)|hc|cc|ac|kc|sc       MAC (2 words, key H1)
 *   algorithm names, 1 word each
 *   MAC (2 words, key H2)
 *
 * DHPart1/2 (§5.5, §5.6): H1, rs1ID, rs2ID, auxsecretID, pbxsecretID (2 words each), pvr/pvi,
 * MAC (key H0). Confirm1/2 (§5.7): confirm_mac (2 words), CFB IV (4 words), then encrypted:
 * H0, unused(15)|sig len(9)|0000|E|V|A|D, cache expiration interval, signature.
 */
export const ZRTP_VERSION = '1.10';
const PREAMBLE = 0x505a;

export type MessageType = 'Hello' | 'HelloACK' | 'Commit' | 'DHPart1' | 'DHPart2' | 'Confirm1' | 'Confirm2' | 'Conf2ACK' | 'Error' | 'ErrorACK';
const TYPES: readonly MessageType[] = ['Hello', 'HelloACK', 'Commit', 'DHPart1', 'DHPart2', 'Confirm1', 'Confirm2', 'Conf2ACK', 'Error', 'ErrorACK'];

export interface HelloMessage {
  type: 'Hello';
  version: string;
  clientId: string;
  h3: Buffer;
  zid: Buffer;
  /** S: can sign the SAS; M: a PBX able to relay SAS (§7.3); P: passive, never commits. */
  signature: boolean;
  mitm: boolean;
  passive: boolean;
  hashes: string[];
  ciphers: string[];
  authTags: string[];
  keyAgreements: string[];
  sasTypes: string[];
  mac: Buffer;
}

export interface CommitMessage {
  type: 'Commit';
  h2: Buffer;
  zid: Buffer;
  hash: string;
  cipher: string;
  authTag: string;
  keyAgreement: string;
  sas: string;
  hvi: Buffer;
  mac: Buffer;
}

export interface DhPartMessage {
  type: 'DHPart1' | 'DHPart2';
  h1: Buffer;
  rs1Id: Buffer;
  rs2Id: Buffer;
  auxId: Buffer;
  pbxId: Buffer;
  pv: Buffer;
  mac: Buffer;
}

export interface ConfirmMessage {
  type: 'Confirm1' | 'Confirm2';
  confirmMac: Buffer;
  iv: Buffer;
  /** The encrypted part (decrypt, then `parseConfirmBody`). */
  encrypted: Buffer;
}

export interface ErrorMessage {
  type: 'Error';
  code: number;
}

export type ZrtpMessage =
  | HelloMessage | CommitMessage | DhPartMessage | ConfirmMessage | ErrorMessage
  | { type: 'HelloACK' | 'Conf2ACK' | 'ErrorACK' };

/** The plaintext of a Confirm's encrypted part. */
export interface ConfirmBody {
  h0: Buffer;
  /** E: PBX enrollment; V: SAS verified; A: allow clear; D: disclosure (§5.7). */
  enrollment: boolean;
  sasVerified: boolean;
  allowClear: boolean;
  disclosure: boolean;
  /** Seconds the retained secret may be kept; 0xffffffff = forever (§4.9). */
  cacheExpiry: number;
}

/** Error codes of §5.9 we send or name. */
export const ZRTP_ERRORS = {
  malformed: 0x10,
  software: 0x20,
  version: 0x30,
  helloMismatch: 0x40,
  hashUnsupported: 0x51,
  cipherUnsupported: 0x52,
  keyAgreementUnsupported: 0x53,
  authTagUnsupported: 0x54,
  sasUnsupported: 0x55,
  badPublicValue: 0x61,
  hviMismatch: 0x62,
  badConfirmMac: 0x70,
  equalZids: 0x90,
  timeout: 0xb0,
} as const;

export class ZrtpParseError extends Error {
  override name = 'ZrtpParseError';
}

function block(s: string, words: number): Buffer {
  const b = Buffer.alloc(words * 4, 0x20);
  b.write(s.slice(0, words * 4), 'latin1');
  return b;
}

const text = (b: Buffer, from: number, len: number): string => b.toString('latin1', from, from + len);

/** Assembles preamble, length, type and body words (the MAC slot included in `body`). */
function message(type: MessageType, body: Buffer[]): Buffer {
  const parts = [Buffer.alloc(4), block(type, 2), ...body];
  const out = Buffer.concat(parts);
  if (out.length % 4 !== 0) throw new RangeError(`${type}: ${out.length} bytes is not whole words`);
  out.writeUInt16BE(PREAMBLE, 0);
  out.writeUInt16BE(out.length / 4, 2);
  return out;
}

function exact(name: string, b: Buffer, len: number): Buffer {
  if (b.length !== len) throw new RangeError(`${name}: ${b.length} bytes, need ${len}`);
  return b;
}

export function encodeHello(m: Omit<HelloMessage, 'type' | 'mac'>): Buffer {
  const lists = [m.hashes, m.ciphers, m.authTags, m.keyAgreements, m.sasTypes];
  for (const l of lists) if (l.length > 7) throw new RangeError('at most 7 algorithms per kind');
  const flags = Buffer.alloc(4);
  flags[0] = (m.signature ? 0x40 : 0) | (m.mitm ? 0x20 : 0) | (m.passive ? 0x10 : 0);
  flags.writeUInt32BE((flags.readUInt32BE(0) | (m.hashes.length << 16) | (m.ciphers.length << 12) | (m.authTags.length << 8) | (m.keyAgreements.length << 4) | m.sasTypes.length) >>> 0, 0);
  return message('Hello', [
    block(m.version, 1), block(m.clientId, 4), exact('H3', m.h3, 32), exact('ZID', m.zid, 12), flags,
    ...lists.flat().map((a) => block(a, 1)), Buffer.alloc(8),
  ]);
}

export function encodeCommit(m: Omit<CommitMessage, 'type' | 'mac'>): Buffer {
  return message('Commit', [
    exact('H2', m.h2, 32), exact('ZID', m.zid, 12),
    block(m.hash, 1), block(m.cipher, 1), block(m.authTag, 1), block(m.keyAgreement, 1), block(m.sas, 1),
    exact('hvi', m.hvi, 32), Buffer.alloc(8),
  ]);
}

export function encodeDhPart(m: Omit<DhPartMessage, 'mac'>): Buffer {
  if (m.pv.length % 4 !== 0) throw new RangeError('public value must be whole words');
  return message(m.type, [
    exact('H1', m.h1, 32), exact('rs1ID', m.rs1Id, 8), exact('rs2ID', m.rs2Id, 8), exact('auxsecretID', m.auxId, 8), exact('pbxsecretID', m.pbxId, 8),
    m.pv, Buffer.alloc(8),
  ]);
}

export function encodeConfirm(m: ConfirmMessage): Buffer {
  return message(m.type, [exact('confirm_mac', m.confirmMac, 8), exact('IV', m.iv, 16), m.encrypted]);
}

export function encodeConfirmBody(b: ConfirmBody): Buffer {
  const out = Buffer.alloc(40);
  exact('H0', b.h0, 32).copy(out, 0);
  out[35] = (b.enrollment ? 8 : 0) | (b.sasVerified ? 4 : 0) | (b.allowClear ? 2 : 0) | (b.disclosure ? 1 : 0);
  out.writeUInt32BE(b.cacheExpiry >>> 0, 36);
  return out;
}

export function parseConfirmBody(plain: Buffer): ConfirmBody {
  if (plain.length < 40) throw new ZrtpParseError(`Confirm body of ${plain.length} bytes`);
  const sigLen = ((plain[33] & 0x01) << 8) | plain[34];
  if (plain.length !== 40 + sigLen * 4) throw new ZrtpParseError(`Confirm body ${plain.length} bytes with signature length ${sigLen} words`);
  const f = plain[35];
  return { h0: Buffer.from(plain.subarray(0, 32)), enrollment: (f & 8) !== 0, sasVerified: (f & 4) !== 0, allowClear: (f & 2) !== 0, disclosure: (f & 1) !== 0, cacheExpiry: plain.readUInt32BE(36) };
}

export function encodeSimple(type: 'HelloACK' | 'Conf2ACK' | 'ErrorACK'): Buffer {
  return message(type, []);
}

export function encodeError(code: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(code >>> 0, 0);
  return message('Error', [b]);
}

/** The message type of a ZRTP message, or null when the preamble or type block is unknown. */
export function messageType(raw: Buffer): MessageType | null {
  if (raw.length < 12 || raw.readUInt16BE(0) !== PREAMBLE) return null;
  const t = text(raw, 4, 8).trimEnd();
  return (TYPES as readonly string[]).includes(t) ? (t as MessageType) : null;
}

/**
 * Parses one message (the bytes between the packet header and the CRC).
 * @throws ZrtpParseError for a bad preamble, type, length or field.
 */
export function parseMessage(raw: Buffer): ZrtpMessage {
  const type = messageType(raw);
  if (type === null) throw new ZrtpParseError('unknown preamble or message type');
  const words = raw.readUInt16BE(2);
  if (words * 4 !== raw.length) throw new ZrtpParseError(`${type}: length field ${words} words, message ${raw.length} bytes`);
  const need = (n: number): void => { if (words !== n) throw new ZrtpParseError(`${type}: ${words} words, need ${n}`); };
  const copy = (from: number, len: number): Buffer => Buffer.from(raw.subarray(from, from + len));
  switch (type) {
    case 'HelloACK': case 'Conf2ACK': case 'ErrorACK':
      need(3);
      return { type };
    case 'Error':
      need(4);
      return { type, code: raw.readUInt32BE(12) };
    case 'Hello': {
      if (words < 22) throw new ZrtpParseError(`Hello: ${words} words`);
      const flags = raw.readUInt32BE(76);
      const counts = [(flags >>> 16) & 15, (flags >>> 12) & 15, (flags >>> 8) & 15, (flags >>> 4) & 15, flags & 15];
      if (counts.some((c) => c > 7)) throw new ZrtpParseError('Hello: more than 7 algorithms of a kind');
      const total = counts.reduce((a, b) => a + b, 0);
      need(22 + total);
      let at = 80;
      const [hashes, ciphers, authTags, keyAgreements, sasTypes] = counts.map((c) => {
        const list: string[] = [];
        for (let i = 0; i < c; i++, at += 4) list.push(text(raw, at, 4));
        return list;
      });
      return {
        type, version: text(raw, 12, 4), clientId: text(raw, 16, 16).replace(/\0+$/, ''), h3: copy(32, 32), zid: copy(64, 12),
        signature: (raw[76] & 0x40) !== 0, mitm: (raw[76] & 0x20) !== 0, passive: (raw[76] & 0x10) !== 0,
        hashes, ciphers, authTags, keyAgreements, sasTypes, mac: copy(at, 8),
      };
    }
    case 'Commit':
      // Multistream (25 words) and preshared (27) Commits carry no hvi: we only speak DH mode.
      if (words !== 29) throw new ZrtpParseError(`Commit: ${words} words (only DH mode, 29 words, is supported)`);
      return {
        type, h2: copy(12, 32), zid: copy(44, 12), hash: text(raw, 56, 4), cipher: text(raw, 60, 4), authTag: text(raw, 64, 4),
        keyAgreement: text(raw, 68, 4), sas: text(raw, 72, 4), hvi: copy(76, 32), mac: copy(108, 8),
      };
    case 'DHPart1': case 'DHPart2':
      if (words < 22) throw new ZrtpParseError(`${type}: ${words} words`);
      return {
        type, h1: copy(12, 32), rs1Id: copy(44, 8), rs2Id: copy(52, 8), auxId: copy(60, 8), pbxId: copy(68, 8),
        pv: copy(76, raw.length - 76 - 8), mac: copy(raw.length - 8, 8),
      };
    case 'Confirm1': case 'Confirm2':
      if (words < 19) throw new ZrtpParseError(`${type}: ${words} words`);
      return { type, confirmMac: copy(12, 8), iv: copy(20, 16), encrypted: copy(36, raw.length - 36) };
  }
}
