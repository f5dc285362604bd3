/**
 * One SDES SRTP context (RFC 3711, RFC 7714): the master key and salt of one direction, the
 * session keys derived from them, and per-SSRC state — the rollover counter (ROC), the highest
 * sequence number and the replay list for SRTP, the SRTCP index and its replay list for SRTCP.
 * A leg owns two: one to protect what it sends, one to unprotect what it receives.
 *
 * Failures (bad tag, replay, malformed) return `null` and are counted in `stats`; nothing
 * from a packet that failed authentication changes any state.
 */
import { createCipheriv, createDecipheriv, timingSafeEqual } from 'node:crypto';
import { Hmac } from '../../net/hmac.ts';
import { deriveSessionKeys, type SessionKeys } from './srtp-kdf.ts';
import { ReplayWindow } from './replay-window.ts';
import { AesCtr } from './aes-ctr.ts';
import type { SrtpSuite } from './srtp-suites.ts';

const HMAC_SHA1_KEY_LENGTH = 20;
const RTCP_HEADER = 8;
const E_FLAG = 0x80000000;
const MAX_SRTCP_INDEX = 0x7fffffff;
/** Every GCM suite we speak has a 128-bit key (SRTP_SUITES). */
const GCM = 'aes-128-gcm';

export interface SrtpStats {
  authFailures: number;
  replays: number;
  malformed: number;
}

interface InboundRtp { roc: number; highest: number; replay: ReplayWindow }
interface OutboundRtp { roc: number; last: number }

/** RTP header length (fixed part, CSRCs, extension) or -1 when the packet is too short for it. */
export function rtpHeaderLength(p: Buffer): number {
  if (p.length < 12 || p[0]! >> 6 !== 2) return -1;
  let n = 12 + (p[0]! & 0x0f) * 4;
  if (p[0]! & 0x10) {
    if (p.length < n + 4) return -1;
    n += 4 + p.readUInt16BE(n + 2) * 4;
  }
  return n <= p.length ? n : -1;
}

export class SrtpContext {
  readonly stats: SrtpStats = { authFailures: 0, replays: 0, malformed: 0 };
  private readonly rtp: SessionKeys;
  private readonly rtcp: SessionKeys;
  private readonly inbound = new Map<number, InboundRtp>();
  private readonly outbound = new Map<number, OutboundRtp>();
  private readonly rtcpOut = new Map<number, number>();
  private readonly rtcpIn = new Map<number, ReplayWindow>();

  /** Session keys as given; `fromMasterKey` derives them (RFC 3711 §4.3). Tests use this with RFC vectors. */
  private readonly rtpCtr: AesCtr | null;
  private readonly rtcpCtr: AesCtr | null;
  private readonly rtpMac: Hmac | null;
  private readonly rtcpMac: Hmac | null;

  constructor(readonly suite: SrtpSuite, rtp: SessionKeys, rtcp: SessionKeys) {
    this.rtp = rtp;
    this.rtcp = rtcp;
    this.rtpCtr = suite.kind === 'cm' ? new AesCtr(rtp.encryption) : null;
    this.rtcpCtr = suite.kind === 'cm' ? new AesCtr(rtcp.encryption) : null;
    this.rtpMac = suite.kind === 'cm' ? new Hmac('sha1', rtp.auth) : null;
    this.rtcpMac = suite.kind === 'cm' ? new Hmac('sha1', rtcp.auth) : null;
  }

  static fromMasterKey(suite: SrtpSuite, masterKey: Buffer, masterSalt: Buffer): SrtpContext {
    if (masterKey.length !== suite.keyLength || masterSalt.length !== suite.saltLength) {
      throw new RangeError(`${suite.name} needs a ${suite.keyLength}-octet key and a ${suite.saltLength}-octet salt`);
    }
    const authLength = suite.kind === 'cm' ? HMAC_SHA1_KEY_LENGTH : 0;
    return new SrtpContext(suite, deriveSessionKeys(masterKey, masterSalt, false, authLength), deriveSessionKeys(masterKey, masterSalt, true, authLength));
  }

  /** SRTP from an RTP packet (a new buffer: header, encrypted payload, tag). Throws on a packet that is not RTP. */
  protectRtp(p: Buffer): Buffer {
    const h = rtpHeaderLength(p);
    if (h < 0) throw new RangeError('not an RTP packet');
    const ssrc = p.readUInt32BE(8);
    const seq = p.readUInt16BE(2);
    let st = this.outbound.get(ssrc);
    if (!st) this.outbound.set(ssrc, st = { roc: 0, last: seq });
    else if (seq < st.last && st.last - seq > 0x8000) st.roc = (st.roc + 1) >>> 0;
    st.last = seq;
    return this.suite.kind === 'cm' ? this.sealCm(p, h, ssrc, st.roc, seq) : this.sealGcm(p, h, ssrc, st.roc, seq);
  }

  /** The RTP packet inside an SRTP packet, or null (counted in `stats`) when it fails. */
  unprotectRtp(p: Buffer): Buffer | null {
    const h = rtpHeaderLength(p);
    if (h < 0 || p.length < h + this.suite.tagLength) { this.stats.malformed++; return null; }
    const ssrc = p.readUInt32BE(8);
    const seq = p.readUInt16BE(2);
    let st = this.inbound.get(ssrc);
    const fresh = !st;
    if (!st) st = { roc: 0, highest: seq, replay: new ReplayWindow() };
    const v = estimateRoc(st.roc, st.highest, seq);
    if (v < 0) { this.stats.replays++; return null; }
    const index = v * 0x10000 + seq;
    if (!st.replay.check(index)) { this.stats.replays++; return null; }
    const out = this.suite.kind === 'cm' ? this.openCm(p, h, ssrc, v, seq) : this.openGcm(p, h, ssrc, v, seq);
    if (!out) { this.stats.authFailures++; return null; }
    if (fresh) this.inbound.set(ssrc, st);
    st.replay.accept(index);
    if (v > st.roc) { st.roc = v; st.highest = seq; } else if (v === st.roc && seq > st.highest) st.highest = seq;
    return out;
  }

  /** SRTCP from an RTCP compound packet: encrypted after the first 8 octets, E flag set. */
  protectRtcp(p: Buffer): Buffer {
    if (p.length < RTCP_HEADER || p[0]! >> 6 !== 2) throw new RangeError('not an RTCP packet');
    const ssrc = p.readUInt32BE(4);
    const index = this.rtcpOut.get(ssrc) ?? 0;
    this.rtcpOut.set(ssrc, index >= MAX_SRTCP_INDEX ? 0 : index + 1);
    const word = (E_FLAG | index) >>> 0;
    if (this.suite.kind === 'gcm') {
      const iv = gcmRtcpIv(this.rtcp.salt, ssrc, index);
      const c = createCipheriv(GCM, this.rtcp.encryption, iv, { authTagLength: 16 });
      const trailer = u32(word);
      c.setAAD(Buffer.concat([p.subarray(0, RTCP_HEADER), trailer]));
      const ct = c.update(p.subarray(RTCP_HEADER));
      c.final();
      return Buffer.concat([p.subarray(0, RTCP_HEADER), ct, c.getAuthTag(), trailer]);
    }
    const body = Buffer.concat([p, u32(word)]);
    this.rtcpCtr!.apply(cmIv(this.rtcp.salt, ssrc, 0, index), body, RTCP_HEADER, p.length);
    return Buffer.concat([body, this.rtcpMac!.digest(body).subarray(0, this.suite.rtcpTagLength)]);
  }

  /** The RTCP compound packet inside an SRTCP packet, or null (counted) when it fails. */
  unprotectRtcp(p: Buffer): Buffer | null {
    const tag = this.suite.rtcpTagLength;
    if (p.length < RTCP_HEADER + 4 + tag || p[0]! >> 6 !== 2) { this.stats.malformed++; return null; }
    const ssrc = p.readUInt32BE(4);
    const gcm = this.suite.kind === 'gcm';
    const wordAt = gcm ? p.length - 4 : p.length - tag - 4;
    const word = p.readUInt32BE(wordAt);
    const index = word & MAX_SRTCP_INDEX;
    const encrypted = (word & E_FLAG) !== 0;
    let replay = this.rtcpIn.get(ssrc);
    if (replay && !replay.check(index)) { this.stats.replays++; return null; }
    let out: Buffer | null;
    if (gcm) {
      out = this.openRtcpGcm(p, ssrc, index, encrypted);
    } else {
      const body = p.subarray(0, p.length - tag);
      if (!tagEqual(this.rtcpMac!.digest(body).subarray(0, tag), p.subarray(p.length - tag))) out = null;
      else if (!encrypted) out = Buffer.from(p.subarray(0, wordAt));
      else {
        out = Buffer.from(p.subarray(0, wordAt));
        this.rtcpCtr!.apply(cmIv(this.rtcp.salt, ssrc, 0, index), out, RTCP_HEADER, wordAt);
      }
    }
    if (!out) { this.stats.authFailures++; return null; }
    if (!replay) this.rtcpIn.set(ssrc, replay = new ReplayWindow());
    replay.accept(index);
    return out;
  }

  private sealCm(p: Buffer, h: number, ssrc: number, roc: number, seq: number): Buffer {
    const out = Buffer.allocUnsafe(p.length + this.suite.tagLength);
    p.copy(out);
    this.rtpCtr!.apply(cmIv(this.rtp.salt, ssrc, roc, seq), out, h, p.length);
    this.rtpMac!.digest(out.subarray(0, p.length), u32(roc)).copy(out, p.length, 0, this.suite.tagLength);
    return out;
  }

  private openCm(p: Buffer, h: number, ssrc: number, roc: number, seq: number): Buffer | null {
    const end = p.length - this.suite.tagLength;
    const expected = this.rtpMac!.digest(p.subarray(0, end), u32(roc)).subarray(0, this.suite.tagLength);
    if (!tagEqual(expected, p.subarray(end))) return null;
    const out = Buffer.from(p.subarray(0, end));
    this.rtpCtr!.apply(cmIv(this.rtp.salt, ssrc, roc, seq), out, h, end);
    return out;
  }

  private sealGcm(p: Buffer, h: number, ssrc: number, roc: number, seq: number): Buffer {
    const c = createCipheriv(GCM, this.rtp.encryption, gcmRtpIv(this.rtp.salt, ssrc, roc, seq), { authTagLength: 16 });
    c.setAAD(p.subarray(0, h));
    const ct = c.update(p.subarray(h));
    c.final();
    return Buffer.concat([p.subarray(0, h), ct, c.getAuthTag()]);
  }

  private openGcm(p: Buffer, h: number, ssrc: number, roc: number, seq: number): Buffer | null {
    const end = p.length - 16;
    const d = createDecipheriv(GCM, this.rtp.encryption, gcmRtpIv(this.rtp.salt, ssrc, roc, seq), { authTagLength: 16 });
    d.setAAD(p.subarray(0, h));
    d.setAuthTag(p.subarray(end));
    const pt = d.update(p.subarray(h, end));
    try { d.final(); } catch { return null; }
    return Buffer.concat([p.subarray(0, h), pt]);
  }

  private openRtcpGcm(p: Buffer, ssrc: number, index: number, encrypted: boolean): Buffer | null {
    const tagAt = p.length - 4 - 16;
    const trailer = p.subarray(p.length - 4);
    const d = createDecipheriv(GCM, this.rtcp.encryption, gcmRtcpIv(this.rtcp.salt, ssrc, index), { authTagLength: 16 });
    d.setAuthTag(p.subarray(tagAt, tagAt + 16));
    // RFC 7714 §9.3: unencrypted SRTCP authenticates the whole packet as associated data.
    d.setAAD(encrypted ? Buffer.concat([p.subarray(0, RTCP_HEADER), trailer]) : Buffer.concat([p.subarray(0, tagAt), trailer]));
    const pt = encrypted ? d.update(p.subarray(RTCP_HEADER, tagAt)) : Buffer.alloc(0);
    try { d.final(); } catch { return null; }
    return encrypted ? Buffer.concat([p.subarray(0, RTCP_HEADER), pt]) : Buffer.from(p.subarray(0, tagAt));
  }
}

/**
 * The ROC a received sequence number belongs to (RFC 3711 Appendix A), or -1 for a packet
 * from before the stream's first ROC.
 */
export function estimateRoc(roc: number, highest: number, seq: number): number {
  if (highest < 0x8000) return seq - highest > 0x8000 ? roc - 1 : roc;
  return highest - 0x8000 > seq ? roc + 1 : roc;
}

/** AES-CM IV (RFC 3711 §4.1.1): salt·2^16 XOR SSRC·2^64 XOR index·2^16, index = ROC·2^16 + SEQ. */
function cmIv(salt: Buffer, ssrc: number, roc: number, seq: number): Buffer {
  const iv = Buffer.alloc(16);
  salt.copy(iv, 0, 0, 14);
  iv.writeUInt32BE((iv.readUInt32BE(4) ^ ssrc) >>> 0, 4);
  iv.writeUInt32BE((iv.readUInt32BE(8) ^ roc) >>> 0, 8);
  iv.writeUInt16BE(iv.readUInt16BE(12) ^ seq, 12);
  return iv;
}

/** SRTP AES-GCM IV (RFC 7714 §8.1): (0x0000 || SSRC || ROC || SEQ) XOR salt. */
function gcmRtpIv(salt: Buffer, ssrc: number, roc: number, seq: number): Buffer {
  const iv = Buffer.alloc(12);
  iv.writeUInt32BE(ssrc, 2);
  iv.writeUInt32BE(roc, 6);
  iv.writeUInt16BE(seq, 10);
  return xorSalt(iv, salt);
}

/** SRTCP AES-GCM IV (RFC 7714 §9.1): (0x0000 || SSRC || 0x0000 || 0b0 || SRTCP index) XOR salt. */
function gcmRtcpIv(salt: Buffer, ssrc: number, index: number): Buffer {
  const iv = Buffer.alloc(12);
  iv.writeUInt32BE(ssrc, 2);
  iv.writeUInt32BE(index, 8);
  return xorSalt(iv, salt);
}

function xorSalt(iv: Buffer, salt: Buffer): Buffer {
  for (let i = 0; i < iv.length; i++) iv[i]! ^= salt[i]!;
  return iv;
}

function tagEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function u32(v: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(v >>> 0, 0);
  return b;
}
