/**
 * Hold of one call: who holds whom, the re-INVITEs we originate for `POST /api/calls/{id}/hold`,
 * and what each party hears while held (music on hold from a looping player, RFC 3264 §8.4 for
 * the SDP side).
 *
 * Two sources of hold, combined:
 * - **API hold** of one party (the callee by default): we re-INVITE that party alone with our
 *   last SDP to it and `a=sendonly` (new o= version); the other party is not re-INVITEd and
 *   hears silence. Resume re-INVITEs with `a=sendrecv`.
 * - **Phone hold**: a party's re-INVITE/UPDATE offers `sendonly` or `inactive` (`isOnHold`).
 *   The offer is relayed unchanged as before (the holder says sendonly, the held party answers
 *   recvonly); once it is answered with a 2xx, the held party hears our MOH instead of
 *   the silence the holder would send, and the holder hears nothing. A later `sendrecv` offer
 *   from the holder resumes.
 *
 * Media while anyone is held: a held party's endpoint hears its own player
 * (`connect(held, [player])`, direction `sendonly`: we send it MOH and expect no RTP, so the
 * engine's RTP timeout does not end a long hold); a party not held hears nothing
 * (`connect(other, [])`). Nobody held: `bridge(a, b)`, players released, directions sendrecv.
 * With MOH disabled a held party hears silence (no player).
 */
import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import type { MediaEngine } from '../media/media-engine.ts';
import type { LegId } from '../media/relay-protocol.ts';
import { parseSdp } from '../sdp/index.ts';
import { applyLegMedia, mediaTargetOf, sdpForPeer, sdpFromPeer, type LegMediaEngine } from './anchor-sdp.ts';
import { applySrtp, srtpOfReanswer } from './anchor-srtp.ts';
import { holdReoffer } from './call-hold-sdp.ts';
import type { Timers } from './call-timers.ts';
import type { CallLeg } from './leg-types.ts';
import { requestInDialog, sendAck, type SipDialogLeg, type SipLegEnv } from './leg-sip.ts';

/** What hold needs of the media engine (besides anchoring's setRemote/setCodec). */
export type HoldMedia = Pick<MediaEngine, 'createPlayer' | 'connect' | 'bridge' | 'releaseLeg' | 'setDirection'> & LegMediaEngine;

/** Injected by the B2BUA: the engine and the music-on-hold file of the moment. */
export interface HoldEnv {
  media: HoldMedia;
  /** WAV to loop to a held party (`MohService.currentMohFile`); null: silence. */
  mohFile(): Promise<string | null>;
}

export type CallSide = 'a' | 'b';
/** A party of the call as the API names it: the caller (side a) or the callee (side b). */
export type HoldParty = 'caller' | 'callee';
export type HeldBy = 'api' | HoldParty;

/** The hold state as the call snapshot shows it. */
export interface HoldSnapshot {
  onHold: boolean;
  /** Who put the call on hold: the API, or a party's phone; null when not held. */
  heldBy: HeldBy | null;
  /** The party that hears music on hold; null when not held. */
  heldParty: HoldParty | null;
}

export type HoldErrorCode =
  | 'HOLD_ERR_NOT_ANSWERED' | 'HOLD_ERR_BUSY' | 'HOLD_ERR_OTHER_PARTY' | 'HOLD_ERR_PHONE_HOLD'
  | 'HOLD_ERR_REJECTED' | 'HOLD_ERR_GLARE' | 'HOLD_ERR_NO_SDP' | 'HOLD_ERR_UNAVAILABLE';

/** Why a hold request changed nothing; `status` is the SIP status of a rejected re-INVITE. */
export class HoldError extends Error {
  constructor(readonly code: HoldErrorCode, message: string, readonly status: number | null = null) {
    super(message);
    this.name = 'HoldError';
  }
}

export const sideOf = (party: HoldParty): CallSide => (party === 'caller' ? 'a' : 'b');
const partyOf = (side: CallSide): HoldParty => (side === 'a' ? 'caller' : 'callee');

export interface CallHoldDeps {
  env: HoldEnv | undefined;
  legEnv: SipLegEnv;
  timers: Timers;
  log: Logger;
  /** The call's leg on a side (the callee side only once answered). */
  leg(side: CallSide): (CallLeg & SipDialogLeg) | undefined;
  /** Media endpoint ids (caller side, callee side). */
  endpoints(): [LegId, LegId];
  answered(): boolean;
  /** A relayed re-INVITE of a party is in progress (ours would collide with it). */
  relaying(): boolean;
  /** We sent the caller a new SDP (its session refresh re-sends it, RFC 4028 §7.4). */
  sdpSentToCaller(body: string): void;
  /** Random integer in [min, max) for the §14.1 glare wait; default crypto. */
  random?(min: number, max: number): number;
}

type ReinviteResult = { ok: true; answer: string } | { ok: false; status: number; reason: string };

export class CallHold {
  /** The side held through the API, if any. */
  private api: CallSide | null = null;
  /** Sides whose phone holds (its last offer was sendonly/inactive). */
  private readonly phone = { a: false, b: false };
  private readonly players: { a: LegId | null; b: LegId | null } = { a: null, b: null };
  /** Directions set on the engine legs; restored to sendrecv on resume. */
  private readonly directions = { a: false, b: false };
  /** Our hold/resume re-INVITE is in flight (a party's own re-INVITE now gets 491). */
  pending = false;
  private stopped = false;
  /** Media changes run one after the other, in the order the hold changes happened. */
  private routing: Promise<void> = Promise.resolve();

  constructor(private readonly d: CallHoldDeps) {}

  snapshot(): HoldSnapshot {
    const heldBy: HeldBy | null = this.api !== null ? 'api' : this.phone.a ? 'caller' : this.phone.b ? 'callee' : null;
    const held: CallSide | null = this.api ?? (this.phone.a ? 'b' : this.phone.b ? 'a' : null);
    return { onHold: heldBy !== null, heldBy, heldParty: held === null ? null : partyOf(held) };
  }

  /**
   * Puts `party` on hold (`hold` true) or resumes it, through a re-INVITE to that party.
   * Idempotent: asking for the state the call is already in answers without any request.
   * Resolves once the party accepted and the media follows.
   * @throws HoldError — not answered or ended, another hold change in flight, another party
   *   already held by the API, resume of a phone hold, re-INVITE rejected (`status`), glare twice.
   */
  async request(hold: boolean, party: HoldParty = 'callee'): Promise<void> {
    const side = sideOf(party);
    if (!this.d.answered() || this.stopped) throw new HoldError('HOLD_ERR_NOT_ANSWERED', 'The call is not answered (or already ended)');
    if (!this.d.env) throw new HoldError('HOLD_ERR_UNAVAILABLE', 'Hold is not available on this server');
    if (this.pending || this.d.relaying()) throw new HoldError('HOLD_ERR_BUSY', 'A re-INVITE of this call is in progress; try again');
    if (hold) {
      if (this.api === side) return;
      if (this.api !== null) throw new HoldError('HOLD_ERR_OTHER_PARTY', `The ${partyOf(this.api)} is already on hold`);
    } else {
      if (this.api === null) {
        const phone = this.snapshot();
        if (phone.onHold) throw new HoldError('HOLD_ERR_PHONE_HOLD', `The call is held by the ${phone.heldBy}'s phone; only that phone can resume it`);
        return;
      }
      if (this.api !== side) throw new HoldError('HOLD_ERR_OTHER_PARTY', `The ${partyOf(side)} is not on hold; the ${partyOf(this.api)} is`);
    }
    const leg = this.d.leg(side);
    if (!leg?.dialog || !leg.target) throw new HoldError('HOLD_ERR_NOT_ANSWERED', 'The call is not answered (or already ended)');
    this.pending = true;
    try {
      let result = await this.reinvite(leg, side, hold);
      if (!result.ok && result.status === 491) {
        // RFC 3261 §14.1: the owner of the Call-ID (we are, towards the callee) waits 2.1-4 s, the other side 0-2 s.
        const waitMs = side === 'b' ? this.random(2100, 4001) : this.random(0, 2001);
        this.d.log.info({ waitMs, party }, 'call: hold re-INVITE met glare (491), retrying once');
        await new Promise<void>((resolve) => this.d.timers.setTimeout(resolve, waitMs));
        if (!this.d.answered() || this.stopped) throw new HoldError('HOLD_ERR_NOT_ANSWERED', 'The call ended');
        result = await this.reinvite(leg, side, hold);
        if (!result.ok && result.status === 491) throw new HoldError('HOLD_ERR_GLARE', `The ${party} answered 491 Request Pending twice`, 491);
      }
      // A call that ended meanwhile is what the client needs to know, whatever the party answered.
      if (!this.d.answered() || this.stopped) throw new HoldError('HOLD_ERR_NOT_ANSWERED', 'The call ended');
      if (!result.ok) throw new HoldError('HOLD_ERR_REJECTED', `The ${party} answered the re-INVITE with ${result.status} ${result.reason}`, result.status);
      await this.accepted(leg, side, result.answer);
      this.api = hold ? side : null;
      this.d.log.info({ party, hold }, hold ? 'call: party held (API)' : 'call: party resumed (API)');
      await this.reroute();
    } finally {
      this.pending = false;
    }
  }

  /**
   * A party's own offer was answered with a 2xx: `holding` says whether that offer held the
   * call (sendonly/inactive, `isOnHold`). Changes the media when the hold state changed.
   */
  phoneOffer(from: CallSide, holding: boolean): void {
    if (this.stopped || this.phone[from] === holding) return;
    this.phone[from] = holding;
    this.d.log.info({ by: partyOf(from), holding }, holding ? 'call: held by phone' : 'call: resumed by phone');
    void this.reroute().catch((err) => this.d.log.warn({ err }, 'call: hold media change failed'));
  }

  /** The call ended: players go (the legs are released by the call). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const side of ['a', 'b'] as const) this.releasePlayer(side);
  }

  private random(min: number, max: number): number {
    return this.d.random ? this.d.random(min, max) : randomInt(min, max);
  }

  /** Sends the hold/resume re-offer and waits for its final answer (2xx ACKed here). */
  private async reinvite(leg: CallLeg & SipDialogLeg, side: CallSide, hold: boolean): Promise<ReinviteResult> {
    const plain = holdReoffer(leg.media, hold ? 'sendonly' : 'sendrecv');
    if (plain === null) throw new HoldError('HOLD_ERR_NO_SDP', `No SDP was exchanged with the ${partyOf(side)}`);
    // A browser gets the re-offer of its WebRTC session (same ICE and DTLS), the others plain SDP.
    const body = await sdpForPeer(leg.media, plain, 'offer');
    return new Promise<ReinviteResult>((resolve) => {
      try {
        const sent = requestInDialog(this.d.legEnv, leg, 'INVITE', body, {}, (res, req) => {
          if (res.status < 200) return;
          if (res.status >= 300) { resolve({ ok: false, status: res.status, reason: res.reason }); return; }
          if (leg.dialog && leg.target) sendAck(this.d.legEnv, leg.dialog, req.cseq.seq, leg.target);
          leg.media.lastSent = plain;
          if (side === 'a') this.d.sdpSentToCaller(body);
          resolve({ ok: true, answer: res.body.toString('utf8') });
        });
        if (!sent) resolve({ ok: false, status: 481, reason: 'No dialog' });
      } catch (err) {
        this.d.log.warn({ err }, 'call: hold re-INVITE not sent');
        resolve({ ok: false, status: 503, reason: 'Not sent' });
      }
    });
  }

  /** The party's answer may move its media (new address or port): the leg follows. */
  private async accepted(leg: CallLeg, _side: CallSide, answer: string): Promise<void> {
    if (answer.length === 0 || !this.d.env) return;
    try {
      const sd = parseSdp(await sdpFromPeer(leg.media, answer, 'answer'));
      const audio = sd.media.find((m) => m.type === 'audio' && m.port !== 0);
      const target = audio ? mediaTargetOf(sd, audio) : null;
      if (!target) return;
      const keys = srtpOfReanswer(leg.media.srtp, audio!);
      if (keys !== undefined) await applySrtp(this.d.env.media, leg.media.endpoint.id, leg.media.srtp, keys);
      const old = leg.media.remote;
      leg.media.remote = target;
      if (!old || old.address !== target.address || old.rtpPort !== target.rtpPort || old.rtcpPort !== target.rtcpPort) {
        await applyLegMedia(this.d.env.media, leg.media.endpoint.id, target, null);
      }
    } catch (err) {
      this.d.log.warn({ err }, 'call: unusable answer to the hold re-INVITE; media unchanged');
    }
  }

  /** Applies the current hold state to the engine (serialized). */
  private reroute(): Promise<void> {
    const next = this.routing.then(() => this.route());
    this.routing = next.catch(() => {});
    return next;
  }

  private async route(): Promise<void> {
    const env = this.d.env;
    if (!env || this.stopped) return;
    const m = env.media;
    const ids = this.d.endpoints();
    const id = (s: CallSide) => (s === 'a' ? ids[0] : ids[1]);
    const held = { a: this.api === 'a' || this.phone.b, b: this.api === 'b' || this.phone.a };
    if (!held.a && !held.b) {
      for (const s of ['a', 'b'] as const) this.releasePlayer(s);
      await m.bridge(ids[0], ids[1]);
      for (const s of ['a', 'b'] as const) await this.direction(s, id(s), false);
      return;
    }
    for (const s of ['a', 'b'] as const) {
      if (!held[s]) {
        this.releasePlayer(s);
        await m.connect(id(s), []);
        await this.direction(s, id(s), false);
        continue;
      }
      if (this.players[s] === null) {
        const file = await env.mohFile().catch((err: unknown) => { this.d.log.error({ err }, 'call: music on hold unavailable; silence'); return null; });
        if (file !== null && !this.stopped) {
          const player = await m.createPlayer({ near: id(s), source: { file }, loop: true });
          if (this.stopped) { void m.releaseLeg(player.id).catch(() => {}); return; }
          this.players[s] = player.id;
        }
      }
      const player = this.players[s];
      await m.connect(id(s), player === null ? [] : [player]);
      await this.direction(s, id(s), true);
    }
  }

  /** Held: we only send to that party (no RTP expected from it, so no RTP timeout). */
  private async direction(side: CallSide, legId: LegId, held: boolean): Promise<void> {
    if (this.directions[side] === held || !this.d.env) return;
    this.directions[side] = held;
    await this.d.env.media.setDirection(legId, held ? 'sendonly' : 'sendrecv');
  }

  private releasePlayer(side: CallSide): void {
    const id = this.players[side];
    if (id === null) return;
    this.players[side] = null;
    void this.d.env?.media.releaseLeg(id).catch(() => {});
  }
}
