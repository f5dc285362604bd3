/**
 * ZRTP on media legs, run on the main thread. The relay worker hands over the packets with the
 * ZRTP cookie that arrive on a leg's RTP port (`MediaEngine.setZrtp`, rate-limited there) and
 * sends ours (`sendZrtp`); one {@link ZrtpEndpoint} per leg runs the handshake, and on success
 * the leg's SRTP keys are set through the same path as SDES (`MediaEngine.setSrtp`).
 *
 * Why the main thread: a handshake is ~10 packets and one DH per call, against 50 RTP packets
 * a second per leg; keeping it here leaves the worker's per-packet path at one byte comparison
 * and gives the handshake direct access to the cache (database) and the API.
 *
 * We are the ZRTP endpoint towards the device: Strowger anchors (decrypts and re-encrypts) the
 * media, so the SAS a user reads is shared between their phone and Strowger, not with the
 * other party of the call.
 */
import { randomUUID } from 'node:crypto';
import type { MediaEngine } from '../media-engine.ts';
import type { LegId } from '../relay-protocol.ts';
import { ZrtpEndpoint, type ZrtpCache, type ZrtpSecure, type ZrtpState, type ZrtpTimers } from './zrtp-endpoint.ts';
import type { KeyAgreementName } from './zrtp-crypto.ts';

export type ZrtpEngine = Pick<MediaEngine, 'on' | 'off' | 'setZrtp' | 'sendZrtp' | 'setSrtp'>;

/** A cache that also records the user's SAS verdict. */
export interface ZrtpVerifiableCache extends ZrtpCache {
  setVerified(peerZid: Buffer, verified: boolean): Promise<boolean>;
}

/** One leg's ZRTP session as the API shows it. */
export interface ZrtpSessionSnapshot {
  id: string;
  legId: LegId;
  /** What the owner labelled the leg with (a call id and side). */
  callId: string | null;
  side: string | null;
  state: ZrtpState;
  role: 'Initiator' | 'Responder' | null;
  peerZid: string | null;
  peerClientId: string | null;
  sas: string | null;
  sasType: string | null;
  keyAgreement: string | null;
  cipher: string | null;
  authTag: string | null;
  srtpSuite: string | null;
  cacheMatched: 'rs1' | 'rs2' | null;
  /** The user marked this peer's SAS as compared (the cache's flag, sent as V in Confirm). */
  sasVerified: boolean;
  /** The peer sent V too and the cache matched: ZRTP says the SAS need not be read again. */
  bothVerified: boolean;
  startedAt: string;
  secureAt: string | null;
  error: string | null;
}

export interface ZrtpServiceOptions {
  engine: ZrtpEngine;
  cache: ZrtpVerifiableCache;
  /** Our ZID (12 bytes), persisted so peers' caches keep matching across restarts. */
  zid: Buffer;
  timers: ZrtpTimers;
  keyAgreements?: KeyAgreementName[];
  /** A session ended in failure (error, tampering, timeout after the peer spoke ZRTP). */
  onFailed?(session: ZrtpSessionSnapshot): void;
  /** Our Hellos went unanswered (T1 exhausted): the device does not speak ZRTP. */
  onNoPeer?(session: ZrtpSessionSnapshot): void;
  onError?(err: unknown, legId: LegId): void;
}

interface Session {
  snap: ZrtpSessionSnapshot;
  endpoint: ZrtpEndpoint;
  secure: ZrtpSecure | null;
}

export interface ZrtpTotals {
  active: number;
  secure: number;
  /** Since start. */
  secured: number;
  failed: number;
}

export class ZrtpService {
  private readonly byLeg = new Map<LegId, Session>();
  private readonly byId = new Map<string, Session>();
  private secured = 0;
  private failed = 0;
  private readonly onPacket = (legId: LegId, packet: Buffer): void => {
    const s = this.byLeg.get(legId);
    if (s) void s.endpoint.receive(packet);
  };

  constructor(private readonly o: ZrtpServiceOptions) {
    o.engine.on('zrtp', this.onPacket);
  }

  get zid(): Buffer {
    return this.o.zid;
  }

  /** Starts ZRTP on a leg (idempotent): Hello goes out at once, to where its RTP goes. */
  async start(legId: LegId, label: { callId?: string; side?: string } = {}): Promise<ZrtpSessionSnapshot> {
    const existing = this.byLeg.get(legId);
    if (existing) return { ...existing.snap };
    const snap: ZrtpSessionSnapshot = {
      id: randomUUID(), legId, callId: label.callId ?? null, side: label.side ?? null, state: 'discovery', role: null, peerZid: null, peerClientId: null,
      sas: null, sasType: null, keyAgreement: null, cipher: null, authTag: null, srtpSuite: null, cacheMatched: null, sasVerified: false, bothVerified: false,
      startedAt: new Date(this.o.timers.now()).toISOString(), secureAt: null, error: null,
    };
    const session: Session = { snap, secure: null, endpoint: null as unknown as ZrtpEndpoint };
    session.endpoint = new ZrtpEndpoint({
      zid: this.o.zid, cache: this.o.cache, timers: this.o.timers, keyAgreements: this.o.keyAgreements,
      send: (packet) => { void this.o.engine.sendZrtp(legId, packet).catch((err: unknown) => this.o.onError?.(err, legId)); },
      onSecure: (r) => this.onSecure(session, r),
      onNoPeer: () => this.o.onNoPeer?.({ ...snap, state: 'no-peer' }),
      onFailed: (reason) => {
        this.failed++;
        snap.error = reason;
        snap.state = 'failed';
        this.o.onFailed?.({ ...snap });
      },
    });
    this.byLeg.set(legId, session);
    this.byId.set(snap.id, session);
    try {
      await this.o.engine.setZrtp(legId, true);
    } catch (err) {
      this.stop(legId); // the leg went away meanwhile (call ended): no session to keep
      throw err;
    }
    if (this.byLeg.get(legId) !== session) return { ...snap }; // stopped while enabling
    session.endpoint.start();
    return { ...snap };
  }

  private async onSecure(s: Session, r: ZrtpSecure): Promise<void> {
    s.secure = r;
    try {
      await this.o.engine.setSrtp(s.snap.legId, r.srtp);
    } catch (err) {
      this.o.onError?.(err, s.snap.legId);
      s.snap.error = `SRTP keys not set: ${(err as Error).message}`;
      s.endpoint.stop();
      return;
    }
    this.secured++;
    // One assignment, after the keys are in: a reader never sees 'secure' without its SAS.
    Object.assign(s.snap, {
      role: r.role, peerZid: r.peerZid.toString('hex'), peerClientId: r.peerClientId, sas: r.sas, sasType: r.sasType, keyAgreement: r.keyAgreement,
      cipher: r.cipher, authTag: r.authTag, srtpSuite: r.srtp.suite, cacheMatched: r.cacheMatched, bothVerified: r.verified,
      sasVerified: r.sasVerified,
      secureAt: new Date(this.o.timers.now()).toISOString(),
    });
  }

  /** The endpoint's state, except that 'secure' waits until the leg's SRTP keys are set. */
  private stateOf(s: Session): ZrtpState {
    const st = s.endpoint.state;
    if (st === 'secure' && s.snap.secureAt === null) return s.snap.error !== null ? 'failed' : 'wait-conf2ack';
    return st;
  }

  /** Ends the leg's session (the leg is being released): timers stop, nothing more is sent. */
  stop(legId: LegId): void {
    const s = this.byLeg.get(legId);
    if (!s) return;
    s.endpoint.stop();
    this.byLeg.delete(legId);
    this.byId.delete(s.snap.id);
  }

  /**
   * Records the user's verdict on a session's SAS for its peer (the V flag of our next Confirms
   * to that peer, RFC 6189 §7.1). Undefined when the session is unknown; throws when it is not
   * secure yet (no SAS to verify).
   */
  async verifySas(id: string, verified: boolean): Promise<ZrtpSessionSnapshot | undefined> {
    const s = this.byId.get(id);
    if (!s) return undefined;
    if (s.snap.secureAt === null || s.secure === null) throw new ZrtpNotSecureError(this.stateOf(s));
    await this.o.cache.setVerified(s.secure.peerZid, verified);
    s.snap.sasVerified = verified;
    if (!verified) s.snap.bothVerified = false;
    return { ...s.snap };
  }

  sessions(): ZrtpSessionSnapshot[] {
    return [...this.byLeg.values()].map((s) => ({ ...s.snap, state: this.stateOf(s) }));
  }

  session(id: string): ZrtpSessionSnapshot | undefined {
    const s = this.byId.get(id);
    return s ? { ...s.snap, state: this.stateOf(s) } : undefined;
  }

  totals(): ZrtpTotals {
    let secure = 0;
    for (const s of this.byLeg.values()) if (s.snap.secureAt !== null) secure++;
    return { active: this.byLeg.size, secure, secured: this.secured, failed: this.failed };
  }

  close(): void {
    for (const legId of [...this.byLeg.keys()]) this.stop(legId);
    this.o.engine.off('zrtp', this.onPacket);
  }
}

export class ZrtpNotSecureError extends Error {
  override name = 'ZrtpNotSecureError';
  constructor(readonly state: ZrtpState) {
    super(`the session is ${state}: there is no SAS to verify yet`);
  }
}
