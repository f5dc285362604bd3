/**
 * One ZRTP endpoint of one media stream (RFC 6189, DH mode): discovery (Hello/HelloACK), the
 * Commit (with hvi-based contention, §4.2), DHPart1/2, Confirm1/2 and Conf2ACK, retransmission
 * timers T1/T2 (§6), and the hash-chain checks that tie each message to the one before (§9).
 * Transport-agnostic: `receive` takes a framed packet, `send` gives one; the caller wires them
 * to a media leg (`zrtp-service.ts`) or, in tests, to another endpoint.
 *
 * Messages are handled one at a time (a promise chain), because the retained-secret cache is
 * read asynchronously when the peer's Hello tells us its ZID.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { framePacket, unframePacket } from './zrtp-packet.ts';
import {
  ZRTP_ERRORS, ZRTP_VERSION, ZrtpParseError, encodeCommit, encodeDhPart, encodeError, encodeHello,
  encodeSimple, parseMessage, type CommitMessage, type ConfirmMessage, type DhPartMessage, type HelloMessage, type ZrtpMessage,
} from './zrtp-messages.ts';
import { KEY_AGREEMENTS, equalBytes, hashChain, macMatches, sealMessage, sha256, type HashChain, type KeyAgreement, type KeyAgreementName } from './zrtp-crypto.ts';
import { OFFER, acceptCommit, chooseAlgorithms, type Algorithms } from './zrtp-algorithms.ts';
import { hvi, secretIds, updatedSecrets, type RetainedSecrets, type Role, type SessionKeys } from './zrtp-keys.ts';
import { agree } from './zrtp-agree.ts';
import { renderSasB32 } from './zrtp-sas.ts';
import { buildConfirm, openConfirm } from './zrtp-confirm.ts';
import { Retransmitter, T1, T2, type RetransmitTimer } from './zrtp-retransmit.ts';
import { secureResult } from './zrtp-result.ts';
import type { ZrtpEndpointOptions, ZrtpState } from './zrtp-options.ts';

export type { ZrtpSecure } from './zrtp-result.ts';

export type { ZrtpCache, ZrtpEndpointOptions, ZrtpState, ZrtpTimers } from './zrtp-options.ts';

/** Key agreements in our order of preference: EC25 is ten times cheaper than DH3k. */
export const DEFAULT_KEY_AGREEMENTS: readonly KeyAgreementName[] = ['EC25', 'DH3k'];

interface Exchange {
  role: Role;
  algorithms: Algorithms;
  ka: KeyAgreement;
  commit: Buffer;
  commitMsg: CommitMessage | null;
  dhPart1: Buffer | null;
  dhPart2: Buffer | null;
  /** The peer's DHPart (its H1 is checked against the Confirm's H0). */
  peerDh: DhPartMessage | null;
  keys: SessionKeys | null;
  matched: 'rs1' | 'rs2' | null;
}

export class ZrtpEndpoint {
  state: ZrtpState = 'discovery';
  readonly chain: HashChain = hashChain();
  readonly hello: Buffer;
  peerHello: { msg: HelloMessage; raw: Buffer } | null = null;
  peerZid: Buffer | null = null;
  private retained: RetainedSecrets | null = null;
  private helloAcked = false;
  /** The V flag of the peer's Confirm. */
  private peerVerified = false;
  private ex: Exchange | null = null;
  private last: Buffer | null = null;
  private sequence = randomInt(0, 0x10000);
  private readonly ssrc = randomBytes(4).readUInt32BE(0);
  private queue: Promise<void> = Promise.resolve();
  private readonly kas: KeyAgreementName[];
  private readonly retransmit: Retransmitter;

  constructor(private readonly o: ZrtpEndpointOptions) {
    if (o.zid.length !== 12) throw new RangeError('ZID must be 12 bytes');
    this.kas = o.keyAgreements ?? [...DEFAULT_KEY_AGREEMENTS];
    this.retransmit = new Retransmitter(o.timers, (m) => this.sendMessage(m));
    this.hello = sealMessage(this.chain.h2, encodeHello({
      version: ZRTP_VERSION, clientId: (o.clientId ?? 'Strowger').padEnd(16).slice(0, 16), h3: this.chain.h3, zid: o.zid,
      signature: false, mitm: false, passive: o.passive ?? false,
      hashes: [...OFFER.hashes], ciphers: [...OFFER.ciphers], authTags: [...OFFER.authTags], keyAgreements: this.kas, sasTypes: [...OFFER.sasTypes],
    }));
  }

  /** Starts sending Hello. */
  start(): void {
    this.transmit(this.hello, T1);
  }

  /** Stops timers; nothing is sent any more. */
  stop(): void {
    this.clearTimer();
    if (this.state !== 'secure') this.state = 'failed';
  }

  /** A framed packet from the peer; bad CRC or malformed messages are dropped (§5). */
  receive(packet: Buffer): Promise<void> {
    this.queue = this.queue.then(() => this.handlePacket(packet)).catch((err: unknown) => this.fail(`internal: ${(err as Error).message}`, ZRTP_ERRORS.software));
    return this.queue;
  }

  private async handlePacket(packet: Buffer): Promise<void> {
    if (this.state === 'failed') return;
    const framed = unframePacket(packet);
    if (!framed.ok) return;
    let msg: ZrtpMessage;
    try {
      msg = parseMessage(framed.packet.message);
    } catch (err) {
      if (err instanceof ZrtpParseError) return;
      throw err;
    }
    const raw = Buffer.from(framed.packet.message);
    switch (msg.type) {
      case 'Hello': return this.onHello(msg, raw);
      case 'HelloACK': this.onHelloAck(); return;
      case 'Commit': return this.onCommit(msg, raw);
      case 'DHPart1': return this.onDhPart1(msg, raw);
      case 'DHPart2': return this.onDhPart2(msg, raw);
      case 'Confirm1': case 'Confirm2': return this.onConfirm(msg);
      case 'Conf2ACK': return this.onConf2Ack();
      case 'Error':
        this.sendMessage(encodeSimple('ErrorACK'));
        this.fail(`peer sent Error 0x${msg.code.toString(16)}`, msg.code, false);
        return;
      case 'ErrorACK': return;
    }
  }

  private async onHello(msg: HelloMessage, raw: Buffer): Promise<void> {
    if (this.peerHello !== null) {
      // A retransmission (it changes nothing); a different Hello mid-exchange is ignored.
      if (equalBytes(raw, this.peerHello.raw)) this.sendMessage(encodeSimple('HelloACK'));
      return;
    }
    if (!msg.version.startsWith('1.')) return this.fail(`peer speaks ZRTP ${msg.version}`, ZRTP_ERRORS.version);
    if (equalBytes(msg.zid, this.o.zid)) return this.fail('peer has our ZID', ZRTP_ERRORS.equalZids);
    this.peerHello = { msg, raw };
    this.peerZid = msg.zid;
    this.retained = await this.o.cache.load(msg.zid);
    this.sendMessage(encodeSimple('HelloACK'));
    if (this.state === 'no-peer') { this.state = 'discovery'; this.transmit(this.hello, T1); }
    this.maybeCommit();
  }

  private onHelloAck(): void {
    if (this.state !== 'discovery' || this.helloAcked) return;
    this.helloAcked = true;
    this.clearTimer();
    this.maybeCommit();
  }

  /** §4.1: with the peer's Hello in hand and our Hello acknowledged, a non-passive end commits. */
  private maybeCommit(): void {
    const peer = this.peerHello;
    if (this.state !== 'discovery' || !this.helloAcked || peer === null || this.o.passive || this.retained === null) return;
    const algorithms = chooseAlgorithms(peer.msg, this.kas);
    if ('error' in algorithms) return this.fail('no common algorithms', algorithms.error);
    const ka = KEY_AGREEMENTS[algorithms.keyAgreement]();
    const dhPart2 = sealMessage(this.chain.h0, encodeDhPart({ type: 'DHPart2', h1: this.chain.h1, ...secretIds(this.retained, 'Initiator'), pv: ka.publicValue }));
    const commit = sealMessage(this.chain.h1, encodeCommit({ h2: this.chain.h2, zid: this.o.zid, ...commitAlgorithms(algorithms), hvi: hvi(dhPart2, peer.raw) }));
    this.ex = { role: 'Initiator', algorithms, ka, commit, commitMsg: null, dhPart1: null, dhPart2, peerDh: null, keys: null, matched: null };
    this.state = 'commit-sent';
    this.transmit(commit, T2);
  }

  private async onCommit(msg: CommitMessage, raw: Buffer): Promise<void> {
    const peer = this.peerHello;
    if (peer === null || this.retained === null) return; // cannot check it yet: the peer retransmits
    if (this.state === 'wait-dhpart2' && this.ex !== null && equalBytes(raw, this.ex.commit)) return this.resend();
    if (this.state === 'commit-sent' && this.ex !== null) {
      // Contention (§4.2): the larger hvi stays initiator.
      if (Buffer.compare(this.ex.commit.subarray(76, 108), msg.hvi) > 0) return;
      this.clearTimer();
    } else if (this.state !== 'discovery') {
      return;
    }
    if (!equalBytes(sha256(msg.h2), peer.msg.h3) || !macMatches(msg.h2, peer.raw)) return this.fail('Commit does not match the Hello (hash chain or MAC)', ZRTP_ERRORS.helloMismatch);
    const algorithms = acceptCommit(msg, this.kas);
    if ('error' in algorithms) return this.fail('Commit chose an algorithm we did not offer', algorithms.error);
    this.clearTimer();
    const ka = KEY_AGREEMENTS[algorithms.keyAgreement]();
    const dhPart1 = sealMessage(this.chain.h0, encodeDhPart({ type: 'DHPart1', h1: this.chain.h1, ...secretIds(this.retained, 'Responder'), pv: ka.publicValue }));
    this.ex = { role: 'Responder', algorithms, ka, commit: raw, commitMsg: msg, dhPart1, dhPart2: null, peerDh: null, keys: null, matched: null };
    this.state = 'wait-dhpart2';
    this.reply(dhPart1);
  }

  private onDhPart1(msg: DhPartMessage, raw: Buffer): void {
    const ex = this.ex;
    const peer = this.peerHello!;
    if (this.state !== 'commit-sent' || ex === null) return;
    const h2 = sha256(msg.h1);
    if (!equalBytes(sha256(h2), peer.msg.h3) || !macMatches(h2, peer.raw)) return this.fail('DHPart1 does not match the Hello (hash chain or MAC)', ZRTP_ERRORS.helloMismatch);
    if (!this.agree(ex, msg, peer.raw, ex.commit, raw, ex.dhPart2!)) return;
    ex.dhPart1 = raw;
    this.state = 'wait-confirm1';
    this.transmit(ex.dhPart2!, T2);
  }

  private onDhPart2(msg: DhPartMessage, raw: Buffer): void {
    const ex = this.ex;
    if (ex === null || ex.role !== 'Responder') return;
    if (this.state === 'wait-confirm2' && ex.dhPart2 !== null && equalBytes(raw, ex.dhPart2)) return this.resend();
    if (this.state !== 'wait-dhpart2') return;
    if (!equalBytes(sha256(msg.h1), ex.commitMsg!.h2) || !macMatches(msg.h1, ex.commit)) return this.fail('DHPart2 does not match the Commit (hash chain or MAC)', ZRTP_ERRORS.helloMismatch);
    if (!equalBytes(hvi(raw, this.hello), ex.commitMsg!.hvi)) return this.fail('hvi of the Commit does not match DHPart2', ZRTP_ERRORS.hviMismatch);
    if (!this.agree(ex, msg, this.hello, ex.commit, ex.dhPart1!, raw)) return;
    ex.dhPart2 = raw;
    this.state = 'wait-confirm2';
    this.reply(buildConfirm(ex.keys!, 'Responder', this.chain.h0, this.ourVerified(ex)));
  }

  /** DHResult, s0 and the session keys from the peer's DHPart; false when the exchange failed. */
  private agree(ex: Exchange, peerDh: DhPartMessage, responderHello: Buffer, commit: Buffer, dhPart1: Buffer, dhPart2: Buffer): boolean {
    const r = agree({ role: ex.role, kind: ex.algorithms.keyAgreement, ka: ex.ka, peerDh, retained: this.retained!, zid: this.o.zid, peerZid: this.peerZid!, responderHello, commit, dhPart1, dhPart2 });
    if ('error' in r) { this.fail(r.error, r.code); return false; }
    ex.keys = r.keys;
    ex.matched = r.matched;
    ex.peerDh = peerDh;
    return true;
  }


  /** V flag we send: the SAS was verified with this peer and the cache still matches. */
  private ourVerified(ex: Exchange): boolean {
    return this.retained!.verified && ex.matched !== null;
  }

  private async onConfirm(msg: ConfirmMessage): Promise<void> {
    const ex = this.ex;
    if (ex === null || ex.keys === null) return;
    const expect = ex.role === 'Initiator' ? 'Confirm1' : 'Confirm2';
    if (msg.type !== expect) return;
    if (ex.role === 'Responder' && this.state === 'secure') return this.resend();
    if (ex.role === 'Initiator' && this.state === 'wait-conf2ack') return this.resend();
    if (this.state !== (ex.role === 'Initiator' ? 'wait-confirm1' : 'wait-confirm2')) return;
    const body = openConfirm(ex.keys, ex.role === 'Initiator' ? 'Responder' : 'Initiator', msg);
    if (typeof body === 'string') return this.fail(body, ZRTP_ERRORS.badConfirmMac);
    const peerDhRaw = ex.role === 'Initiator' ? ex.dhPart1! : ex.dhPart2!;
    if (!equalBytes(sha256(body.h0), ex.peerDh!.h1) || !macMatches(body.h0, peerDhRaw)) return this.fail(`${msg.type} H0 does not match the peer's DHPart`, ZRTP_ERRORS.badConfirmMac);
    this.clearTimer();
    if (ex.role === 'Initiator') {
      this.state = 'wait-conf2ack';
      this.peerVerified = body.sasVerified;
      this.transmit(buildConfirm(ex.keys!, 'Initiator', this.chain.h0, this.ourVerified(ex)), T2);
      return;
    }
    this.peerVerified = body.sasVerified;
    const ack = encodeSimple('Conf2ACK');
    this.last = ack;
    await this.secure(ex);
    this.sendMessage(ack);
  }

  private async onConf2Ack(): Promise<void> {
    if (this.state !== 'wait-conf2ack' || this.ex === null) return;
    this.clearTimer();
    await this.secure(this.ex);
  }

  private async secure(ex: Exchange): Promise<void> {
    this.state = 'secure';
    const next = updatedSecrets(this.retained!, ex.keys!.newRs1, ex.matched);
    await this.o.cache.save(this.peerZid!, next);
    await this.o.onSecure(secureResult({
      role: ex.role, algorithms: ex.algorithms, keys: ex.keys!, peerZid: this.peerZid!, peerClientId: this.peerHello!.msg.clientId,
      sas: renderSasB32(ex.keys!.sasValue), cacheMatched: ex.matched, verified: this.ourVerified(ex) && this.peerVerified, peerVerifiedFlag: this.peerVerified,
      sasVerified: next.verified,
    }));
  }

  private fail(reason: string, code: number | null, tell = true): void {
    if (this.state === 'failed') return;
    this.clearTimer();
    if (tell && code !== null) this.sendMessage(encodeError(code));
    this.state = 'failed';
    this.o.onFailed(reason, code);
  }

  private sendMessage(message: Buffer): void {
    this.o.send(framePacket(message, this.sequence++, this.ssrc));
  }

  /** Sends `message` now and again on the timer until answered (§6). */
  private transmit(message: Buffer, t: RetransmitTimer): void {
    this.last = message;
    this.retransmit.start(message, t, () => {
      if (this.state !== 'discovery') return this.fail('peer stopped answering', ZRTP_ERRORS.timeout);
      this.state = 'no-peer';
      this.o.onNoPeer?.();
    });
  }

  /** A responder's answer: not retransmitted on a timer, only when the request comes again (§6). */
  private reply(message: Buffer): void {
    this.last = message;
    this.sendMessage(message);
  }

  /** The responder answers a retransmitted request with its last message (§6). */
  private resend(): void {
    if (this.last !== null) this.sendMessage(this.last);
  }

  private clearTimer(): void {
    this.retransmit.stop();
  }
}

function commitAlgorithms(a: Algorithms): Pick<CommitMessage, 'hash' | 'cipher' | 'authTag' | 'keyAgreement' | 'sas'> {
  return { hash: a.hash, cipher: a.cipher, authTag: a.authTag, keyAgreement: a.keyAgreement, sas: a.sas };
}
