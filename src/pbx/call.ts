/**
 * One B2BUA call: a small coordinator of legs. The caller's leg (`SipUasLeg`, we are its UAS)
 * and one `SipUacLeg` per fork towards the callee, each owning its dialog and its media
 * endpoint; the bridge joins the caller's endpoint with the callee side's. The dialogs are
 * independent (the callee side gets its own Call-ID, tags and CSeq); only SDP crosses over,
 * always through `anchorSdp`. Timers and clock come from `CallEnv.timers`.
 *
 * New features add a leg kind (`leg-types.ts`) or a bridge behaviour, not methods here.
 */
import { randomHex } from '../sip/random-pool.ts';
import type { Logger } from 'pino';
import type { SipMessage } from '../sip/message.ts';
import type { IncomingRequest } from '../sip/endpoint.ts';
import type { SendTarget } from '../sip/transport-types.ts';
import { randomCallId, randomTag } from '../sip/message-build.ts';
import { COMPLETED_ELSEWHERE, reasonsToPass, sipReason } from '../sip/header-reason.ts';
import { reasonPhrase } from '../sip/message-reasons.ts';
import type { MediaEngine } from '../media/media-engine.ts';
import type { CdrDisposition, CdrHangupBy, NewCdr, CallStart } from '../store/cdrs.ts';
import type { SessionTimerDecision } from './session-timer.ts';
import type { CallTarget, RouteDecision } from './call-router.ts';
import { clearTimer, type Timers, type TimerHandle } from './call-timers.ts';
import { isoNow } from '../store/time.ts';
import { anchorSdp, answerOffer, createLegMedia, type LegEndpoint, type LegMedia, type SdpRole } from './anchor-sdp.ts';
import { legSrtpPolicy, type SrtpPolicy } from './anchor-srtp.ts';
import type { SrtpSuiteName } from '../media/srtp/srtp-suites.ts';
import { codecLabel, type CallLeg } from './leg-types.ts';
import { contactFor, requestInDialog, sendAck, type CallEndpoint, type SipLegEnv, type SipParty } from './leg-sip.ts';
import { better, dispositionFor, sdpFailure } from './call-outcome.ts';
import { buildCalleeInvite } from './call-invite.ts';
import { callSnapshot, callStartOf, type CallSnapshot } from './call-snapshot.ts';
import { SipUasLeg } from './leg-sip-uas.ts';
import { SipUacLeg } from './leg-sip-uac.ts';
import { CallHold, type HoldEnv } from './call-hold.ts';
import type { LocalParty, LocalPartyFactory, LocalTarget } from './call-local.ts';
import type { CallDigit } from './call-dtmf.ts';

export type CallState = 'ringing' | 'early' | 'answered' | 'ended';

/** Who the call is between, as CDRs name them (changed by transfers and Replaces). */
export interface CallOrigin {
  callerDeviceId: number | null;
  trunkId: number | null;
  caller: string;
  callee: string;
  /** Set when the callee side was replaced by a device (else from the answering fork). */
  calleeDeviceId?: number | null;
  /** The calling device's SRTP policy and the transport its INVITE came over. */
  callerSrtp?: { policy: SrtpPolicy; transport: string };
  /** Twilio's CallSid, from the INVITE of a trunk's inbound host (`twilio-call-sid.ts`). */
  twilioCallSid?: string | null;
}

/** What a call needs of the media engine. */
export type CallMedia = Pick<MediaEngine, 'setRemote' | 'setCodec' | 'setSrtp' | 'bridge' | 'releaseLeg'>;

export interface CallEnv {
  endpoint: CallEndpoint;
  media: CallMedia;
  timers: Timers;
  logger: Logger;
  domain: string;
  t1: number;
  maxCallMs: number;
  advertise(protocol: SendTarget['protocol'], family?: 4 | 6): { host: string; port: number };
  /** Where a target's INVITE may go, in the order to try (RFC 3263 for trunk hosts); throws `SipDnsError` when nowhere. */
  sendTargetsFor(target: CallTarget): Promise<SendTarget[]>;
  trunkCredentials(trunkId: number): Promise<{ username: string; password: string } | undefined>;
  /** Dialog index maintenance. */
  bindDialog(key: string, call: Call, side: 'a' | 'b'): void;
  unbindDialog(key: string): void;
  /**
   * The callee answered: journal the call so a crash still leaves a CDR. Resolves once the
   * journal row is committed; the 200 towards the caller waits for it ("answered means journaled").
   */
  answered(call: Call): Promise<void>;
  /** The call is over; `journalled` when `answered` was called for it. */
  finished(call: Call, cdr: NewCdr, journalled: boolean): void;
  /** Hold and music on hold (`call-hold.ts`); without it hold requests fail and phone holds relay only. */
  hold?: HoldEnv;
  /** Parties that answer calls locally (`call-local.ts`); without it such calls are refused. */
  localParty?: LocalPartyFactory;
  /** SDES keys also over UDP/TCP signalling (STROWGER_SRTP_ALLOW_INSECURE_SIGNALLING). */
  srtpInsecureSignalling?: boolean;
  /** Live SRTP settings (PUT /api/system/srtp/config), read as each call starts; override srtpInsecureSignalling. */
  srtpSettings?: () => { suites: readonly SrtpSuiteName[]; allowInsecureSignalling: boolean };
}

export type { CallSnapshot };
export { dispositionFor, sdpFailure };

export class Call {
  readonly id = randomHex(12);
  state: CallState = 'ringing';
  readonly startedAt: number;
  answeredAt: number | null = null;
  endedAt: number | null = null;
  readonly caller: SipUasLeg;
  readonly forks: SipUacLeg[] = [];
  winner: SipUacLeg | undefined;
  readonly bCallId = randomCallId();
  readonly bFromTag = randomTag();
  /** The callee side's media endpoint, shared by the forks until one answers. */
  private calleeMedia: LegMedia;
  /** The legs that took a side's place (transfer, Replaces); else side a is the caller, side b the winner. */
  private aLeg: SipParty | undefined;
  private bLeg: SipParty | undefined;
  /** The CDR's `call_id`: a new one after a transfer (the original's CDR ends `transferred`). */
  cdrId = this.id;
  /** The party given to another call by `handOver`: neither hung up nor released here. */
  private handedOver: SipParty | undefined;
  private readonly legEnv: SipLegEnv;
  private readonly log: Logger;
  private lateOffer = false;
  /** Late offer: the winner's 2xx waits for the caller's ACK, which carries the answer. */
  private ackPending = false;
  /** The callee answered and the 200 to the caller waits for the journal commit. */
  private answering = false;
  private journalled = false;
  private ringTimer: TimerHandle | undefined;
  private maxTimer: TimerHandle | undefined;
  /** In-dialog re-INVITE from one side waiting for the other side's answer. */
  private reinvite: { from: 'a' | 'b'; req: IncomingRequest } | undefined;
  private pendingReinviteAck: { leg: SipParty; cseq: number } | undefined;
  /** Hold by API or by a phone, and music on hold (`call-hold.ts`). */
  readonly hold: CallHold;
  /** The PBX's own party when the call is answered locally (voicemail, mailbox menu). */
  private localParty: LocalParty | undefined;

  constructor(
    private readonly env: CallEnv,
    req: IncomingRequest,
    readonly decision: Extract<RouteDecision, { kind: 'dial' }>,
    readonly origin: CallOrigin,
    endpoints: readonly [LegEndpoint, LegEndpoint],
    sessionTimer: SessionTimerDecision = { kind: 'off' },
  ) {
    this.startedAt = env.timers.now();
    this.log = env.logger.child({ call: this.id, a_call_id: req.msg.callId, b_call_id: this.bCallId });
    this.legEnv = { endpoint: env.endpoint, timers: env.timers, t1: env.t1, log: this.log, advertise: env.advertise };
    this.caller = new SipUasLeg(this.legEnv, {
      bindDialog: (key) => env.bindDialog(key, this, 'a'),
      failed: (cause) => this.hangup('system', cause),
    }, createLegMedia(endpoints[0]), req);
    this.caller.sessionTimer = sessionTimer;
    this.calleeMedia = createLegMedia(endpoints[1]);
    const settings = env.srtpSettings?.();
    const insecure = settings?.allowInsecureSignalling ?? env.srtpInsecureSignalling ?? false;
    legSrtpPolicy(this.caller.media.srtp, origin.callerSrtp ? [origin.callerSrtp] : [], insecure, settings?.suites);
    // A trunk's keys may travel only when it is dialled over TLS (null transport: NAPTR decides later, so not counted on).
    legSrtpPolicy(this.calleeMedia.srtp, decision.targets.map((t) => (t.kind === 'contact' ? { policy: t.srtp ?? 'off', transport: t.binding.transport } : { policy: t.trunk.srtp ?? 'off', transport: t.trunk.transport ?? 'udp' })), insecure, settings?.suites);
    for (const media of [this.caller.media, this.calleeMedia]) {
      if (!media.webrtc) continue;
      // DTLS-SRTP ends in the WebRTC endpoint: its plain-RTP side needs no SDES keys.
      legSrtpPolicy(media.srtp, [], insecure, settings?.suites);
      media.webrtc.once('closed', (reason) => this.hangup('system', `webrtc_${reason}`));
    }
    this.hold = new CallHold({
      env: env.hold, legEnv: this.legEnv, timers: env.timers, log: this.log,
      leg: (side) => (side === 'a' ? this.partyA : this.partyB), endpoints: () => this.mediaLegIds,
      answered: () => this.state === 'answered', relaying: () => this.reinvite !== undefined,
      sdpSentToCaller: (body) => this.caller.sdpSent(body),
    });
  }

  /** Every leg of the call, caller first. */
  get legs(): CallLeg[] {
    return [this.caller, ...this.forks];
  }

  /** Media endpoint ids of the call (caller side, callee side). */
  get mediaLegIds(): [number, number] {
    return [this.partyA.media.endpoint.id, this.calleeMedia.endpoint.id];
  }

  /** WebRTC endpoints of the call's sides (caller, callee), null for an RTP side. */
  get webRtcEndpoints(): [LegMedia['webrtc'], LegMedia['webrtc']] {
    return [this.partyA.media.webrtc, this.calleeMedia.webrtc];
  }

  /** The caller side's media endpoint (benchmarks address it directly). */
  get legA(): LegMedia['endpoint'] {
    return this.partyA.media.endpoint;
  }

  get legB(): LegMedia['endpoint'] {
    return this.calleeMedia.endpoint;
  }

  /** Side a's party: the caller, or the leg that replaced it. */
  get partyA(): SipParty {
    return this.aLeg ?? this.caller;
  }

  /** Side b's party once answered: the winning fork, or the leg that replaced it. */
  get partyB(): SipParty | undefined {
    return this.bLeg ?? this.winner;
  }

  /** The party on `side`. */
  party(side: 'a' | 'b'): SipParty | undefined {
    return side === 'a' ? this.partyA : this.partyB;
  }

  /**
   * Transfer and Replaces hook: the answered `leg` takes side `side`'s place. The old party's
   * dialog is unbound and its timers stopped; it is not hung up (the caller of this decides:
   * BYE now, or after the transferor's final NOTIFY) and its media endpoint is left for the
   * caller to release. A leg of ours as UAS (from another call, or a new INVITE) now reports
   * to this call. Returns the old party.
   */
  replaceParty(side: 'a' | 'b', leg: SipParty): SipParty {
    const old = this.party(side)!;
    if (old === this.caller) { this.caller.stop(); for (const key of this.caller.dialogKeys()) this.env.unbindDialog(key); } else if (old.dialog) this.env.unbindDialog(old.dialog.key);
    if (side === 'a') this.aLeg = leg; else { this.bLeg = leg; this.calleeMedia = leg.media; }
    if (leg instanceof SipUasLeg) leg.rebind({ bindDialog: (key) => this.env.bindDialog(key, this, side), failed: (cause) => this.hangup('system', cause) });
    if (leg.dialog) this.env.bindDialog(leg.dialog.key, this, side);
    return old;
  }

  /**
   * Attended transfer (call-transfer.ts): this call ends (BYE to the other party, CDR with
   * `transferred`) except for side `keep`'s party, whose leg, dialog and media endpoint are
   * handed over to another call (`replaceParty` there). undefined (nothing changed) when the
   * call is not answered.
   */
  handOver(keep: 'a' | 'b', by: CdrHangupBy): SipParty | undefined {
    const leg = this.party(keep);
    if (this.state !== 'answered' || !leg) return undefined;
    this.handedOver = leg;
    this.party(keep === 'a' ? 'b' : 'a')?.bye();
    this.end(by, 'transferred', 200);
    return leg;
  }

  /** Answered, and our 2xx to the caller still waits for its ACK (§13.3.1.4). */
  get awaitingAck(): boolean {
    return this.caller.awaitingAck;
  }

  get aCallId(): string {
    return this.caller.callId;
  }

  /** The callee side's codec (the CDR's `codec`). */
  get codec(): string | null {
    return codecLabel(this.calleeMedia);
  }

  private anchor(body: Buffer | string, role: SdpRole, from: LegMedia, to: LegMedia): Promise<string> {
    return anchorSdp(this.env.media, body, role, from, to);
  }

  async start(): Promise<void> {
    const req = this.caller.req;
    this.lateOffer = req.msg.body.length === 0;
    // The bridge goes in the same post to the media worker as the offer's remote: one round trip.
    const [body] = await Promise.all([
      this.lateOffer ? undefined : this.anchor(req.msg.body, 'offer', this.caller.media, this.calleeMedia),
      this.env.media.bridge(this.caller.media.endpoint.id, this.calleeMedia.endpoint.id),
    ]);
    req.onCancel = (cancel) => this.cancelledByCaller(reasonsToPass(cancel.getHeaders('reason')));
    if (this.decision.local) { await this.answerLocally(this.decision.local); return; }
    this.ringTimer = this.env.timers.setTimeout(() => this.ringTimeout(), this.decision.ringTimeoutMs);
    this.log.info({ targets: this.decision.targets.length, direction: this.decision.direction }, 'call: dialling');
    for (const target of this.decision.targets) {
      const sendTargets = await this.env.sendTargetsFor(target);
      if (this.state === 'ended') return;
      const leg = new SipUacLeg(this.legEnv, {
        provisional: (l, res) => { void this.onProvisional(l, res).catch((err) => this.log.warn({ err }, 'call: provisional relay failed')); },
        answered: (l, res) => {
          void this.onAnswered(l, res).catch((err) => {
            this.log.error({ err }, 'call: answer handling failed');
            this.hangup('system', 'failed');
          });
        },
        failed: (l) => this.onForkFailed(l),
      }, this.calleeMedia, {
        target, sendTargets, body,
        buildInvite: (cseq, b, to) => buildCalleeInvite({
          legEnv: this.legEnv, domain: this.env.domain, callerInvite: this.caller.req.msg, callerId: this.decision.callerId,
          callId: this.bCallId, fromTag: this.bFromTag, requires100rel: this.caller.requires100rel(),
        }, target, to, b, cseq),
        trunkCredentials: (id) => this.env.trunkCredentials(id),
      });
      this.forks.push(leg);
      leg.send();
    }
  }

  private get settled(): boolean {
    return this.state === 'answered' || this.state === 'ended' || this.answering;
  }

  private async onProvisional(_leg: SipUacLeg, res: SipMessage): Promise<void> {
    if (this.settled || this.caller.req.cancelled) return;
    let body: string | undefined;
    if (res.body.length > 0 && !this.lateOffer) body = await this.anchor(res.body, 'answer', this.calleeMedia, this.caller.media);
    if (this.settled || this.caller.req.cancelled) return;
    this.state = 'early';
    this.caller.provisional(body ? 183 : res.status === 183 ? 180 : res.status, body);
  }

  private async onAnswered(leg: SipUacLeg, res: SipMessage): Promise<void> {
    if (this.winner === leg) { if (!this.ackPending) leg.ack(leg.lastAckBody); return; } // 2xx retransmission
    if (this.settled) {
      // A second fork answered, or the caller is gone: ACK it and hang that fork up (§13.2.2.4).
      leg.refuseAnswer();
      if (this.state === 'ended') leg.release();
      return;
    }
    this.winner = leg;
    leg.won(res.status);
    this.answering = true;
    this.cancelForks(leg, [COMPLETED_ELSEWHERE]);
    clearTimer(this.env.timers, this.ringTimer);
    if (leg.dialog) this.env.bindDialog(leg.dialog.key, this, 'b');
    let body: string | undefined;
    if (res.body.length > 0) body = await this.anchor(res.body, this.lateOffer ? 'offer' : 'answer', this.calleeMedia, this.caller.media);
    if (this.lateOffer) this.ackPending = true; else leg.ack();
    if (await this.answerCaller(body)) this.log.info({ codec: this.codec }, 'call: answered');
  }

  /**
   * Journals the call and sends the caller our 2xx with `body`, unless the call ended or the
   * caller cancelled meanwhile (then false). Answered means journaled: the 200 leaves only
   * once the journal row is committed.
   */
  private async answerCaller(body: string | undefined): Promise<boolean> {
    if ((this.state as CallState) === 'ended') return false;
    if (this.caller.req.cancelled) { this.hangup('caller', 'caller_cancel'); return false; }
    this.answeredAt = this.env.timers.now();
    this.journalled = true;
    await this.env.answered(this);
    if ((this.state as CallState) === 'ended') return false;
    if (this.caller.req.cancelled) { this.hangup('caller', 'caller_cancel'); return false; }
    this.state = 'answered';
    this.answering = false;
    this.caller.answer(body);
    this.maxTimer = this.env.timers.setTimeout(() => this.hangup('system', 'max_duration'), this.env.maxCallMs);
    return true;
  }

  private onForkFailed(leg: SipUacLeg): void {
    // §16.7: a 6xx ends the search; the other phones learn why (RFC 3326).
    if (leg.status >= 600 && !this.settled) this.cancelForks(leg, [sipReason(leg.status, reasonPhrase(leg.status))]);
    if (this.settled) return;
    if (this.forks.length < this.decision.targets.length || !this.forks.every((f) => f.done)) return;
    let best = 0;
    for (const f of this.forks) best = best === 0 ? f.status : better(best, f.status);
    const status = (best || 480) === 487 ? 480 : (best || 480);
    if (this.divert(status)) return;
    this.caller.reject(status);
    this.end('callee', status === 486 || status === 600 ? 'busy' : status === 603 ? 'rejected' : status === 408 || status === 480 ? 'no_answer' : 'failed', status);
  }

  /** PRACK from the caller for a reliable provisional (RFC 3262 §3). */
  prack(side: 'a' | 'b', req: IncomingRequest): void {
    if (side === 'a') { this.caller.prack(req); return; }
    req.reply(481, 'Call/Transaction Does Not Exist');
  }

  /**
   * ACK in a dialog of `side` (§13.2.2.4): ends our 2xx retransmission; a late offer's answer
   * rides on the caller's; an ACK of side a for a re-INVITE lets us ACK side b's 2xx.
   */
  async onAck(side: 'a' | 'b', ack: SipMessage): Promise<void> {
    const party = this.party(side);
    if (party !== this.caller) {
      const initial = party instanceof SipUasLeg && party.onAck(ack);
      if (side === 'a' && !initial) this.reinviteAck();
      return;
    }
    if (!this.caller.onAck(ack)) { this.reinviteAck(); return; }
    const winner = this.winner;
    if (!this.ackPending || !winner) return;
    this.ackPending = false;
    let body: string | undefined;
    try {
      if (ack.body.length > 0) body = await this.anchor(ack.body, 'answer', this.caller.media, this.calleeMedia);
    } finally {
      winner.ack(body);
    }
  }

  /** The caller ACKed our 2xx to its re-INVITE: now we ACK the callee's 2xx. */
  private reinviteAck(): void {
    const p = this.pendingReinviteAck;
    if (!p) return;
    this.pendingReinviteAck = undefined;
    if (p.leg.dialog && p.leg.target) sendAck(this.legEnv, p.leg.dialog, p.cseq, p.leg.target);
  }

  /** A re-INVITE or UPDATE inside the dialog: pass it to the other side with the SDP re-anchored. */
  async inDialogUpdate(from: 'a' | 'b', req: IncomingRequest): Promise<void> {
    const fromLeg: SipParty | undefined = this.party(from);
    const toLeg: SipParty | undefined = this.party(from === 'a' ? 'b' : 'a');
    if (this.state !== 'answered' || !fromLeg || !toLeg?.dialog) { req.reply(481, 'Call/Transaction Does Not Exist'); return; }
    const isInvite = req.msg.method === 'INVITE';
    if (isInvite && (this.reinvite || this.hold.pending)) { req.reply(491, 'Request Pending'); return; }
    const hasOffer = req.msg.body.length > 0;
    let body: string | undefined;
    if (hasOffer) {
      try {
        body = await this.anchor(req.msg.body, 'offer', fromLeg.media, toLeg.media);
      } catch (err) {
        const f = sdpFailure(err, this.env.domain);
        if (!f) throw err;
        req.reply(f.status, f.reason, { headers: f.headers });
        return;
      }
    }
    fromLeg.dialog?.refreshTarget(req.msg);
    if (fromLeg instanceof SipUasLeg) fromLeg.refreshed();
    if (isInvite) this.reinvite = { from, req };
    this.log.info({ method: req.msg.method, from }, 'call: in-dialog offer relayed');
    requestInDialog(this.legEnv, toLeg, req.msg.method, body, {}, (res, fwd) => {
      if (res.status < 200) return;
      if (isInvite) this.reinvite = undefined;
      void (async () => {
        let answer: string | undefined;
        if (res.status < 300 && res.body.length > 0) answer = await this.anchor(res.body, hasOffer ? 'answer' : 'offer', toLeg.media, fromLeg.media);
        if (res.status < 300 && isInvite && toLeg.dialog && toLeg.target) {
          // Our 2xx to the caller's re-INVITE is ACKed by the caller, then we ACK the callee's;
          // for the callee's re-INVITE we ACK the caller's 2xx ourselves now.
          if (from === 'a') this.pendingReinviteAck = { leg: toLeg, cseq: fwd.cseq.seq };
          else sendAck(this.legEnv, toLeg.dialog, fwd.cseq.seq, toLeg.target);
        }
        if (answer && toLeg !== fromLeg && fromLeg instanceof SipUasLeg) fromLeg.sdpSent(answer);
        if (res.status < 300 && hasOffer) this.hold.phoneOffer(from, fromLeg.media.remote?.hold ?? false);
        req.reply(res.status, res.reason, { body: answer, contentType: answer ? 'application/sdp' : undefined, headers: res.status < 300 ? { Contact: contactFor(this.legEnv, req.tx.source), ...(fromLeg instanceof SipUasLeg ? fromLeg.sessionTimerReplyHeaders() : {}) } : undefined });
      })().catch((err) => { this.log.warn({ err }, 'call: in-dialog answer relay failed'); try { req.reply(500); } catch { /* answered */ } });
    });
  }

  /** BYE from one side: answer it, end the other side, end the call. */
  byeFrom(side: 'a' | 'b', req: IncomingRequest): void {
    req.reply(200, 'OK');
    if (side === 'a') {
      this.partyB?.bye();
      this.end('caller', 'caller_bye', 200);
    } else {
      this.partyA.hangup('callee_bye');
      this.end('callee', 'callee_bye', 200);
    }
  }

  /** Ends the call from outside (API, RTP timeout, media failure, max duration, shutdown). */
  hangup(by: CdrHangupBy, cause: string): void {
    if (this.state === 'ended') return;
    if (this.state === 'answered') {
      this.partyA.bye();
      this.partyB?.bye();
      this.end(by, cause, 200);
      return;
    }
    this.cancelForks();
    // A fork that answered while the caller's 200 waited for the journal is hung up too.
    this.winner?.bye();
    const status = cause === 'caller_cancel' ? 487 : cause === 'no_answer' ? 480 : 503;
    this.caller.hangup(cause);
    // The CDR records what the caller really got: a final answer sent earlier (e.g. 400 for a bad offer) wins.
    const sent = this.caller.finalStatus;
    this.end(by, cause, sent >= 300 ? sent : status);
  }

  /** `reasons`: the caller's CANCEL's Reason values, passed on (an upstream fork answered elsewhere: no missed call here either). */
  private cancelledByCaller(reasons: readonly string[]): void {
    this.log.info('call: cancelled by caller');
    this.cancelForks(undefined, reasons);
    this.winner?.bye();
    this.end('caller', 'caller_cancel', 487);
  }

  private ringTimeout(): void {
    if (this.settled) return;
    this.log.info('call: no answer');
    if (this.divert(480)) return;
    this.hangup('system', 'no_answer');
  }

  /**
   * The decision's fallback (voicemail) when ringing ended in busy, no answer or unavailable
   * (`status` is what the caller would get); true when the call went there.
   */
  private divert(status: number): boolean {
    const fallback = this.decision.fallback;
    if (!fallback || this.lateOffer || !(status === 486 || status === 600 || status === 408 || status === 480 || status === 603)) return false;
    this.log.info({ status, fallback: fallback.kind }, 'call: to voicemail');
    void this.answerLocally(fallback).catch((err) => {
      this.log.error({ err }, 'call: local answer failed');
      this.hangup('system', 'failed');
    });
    return true;
  }

  /**
   * The PBX answers the caller itself (`call-local.ts`): our SDP answer to the caller's offer,
   * journalled like any answer, then the local party plays and records on the caller's
   * endpoint. A late offer (no SDP in the INVITE) or no party for the target: 480.
   */
  private async answerLocally(target: LocalTarget): Promise<void> {
    const party = this.lateOffer ? undefined : this.env.localParty?.(target);
    this.cancelForks();
    clearTimer(this.env.timers, this.ringTimer);
    if (!party) {
      this.caller.reject(480, 'Temporarily Unavailable');
      this.end('system', 'voicemail_unavailable', 480);
      return;
    }
    this.answering = true;
    const body = await answerOffer(this.env.media, this.caller.req.msg.body, this.caller.media, null);
    if (!(await this.answerCaller(body))) return;
    this.localParty = party;
    this.log.info({ target: target.kind, codec: codecLabel(this.caller.media) }, 'call: answered locally');
    party.start({
      callId: this.id, legId: this.caller.media.endpoint.id, callerNumber: this.origin.caller,
      callerName: this.caller.req.msg.from.displayName ?? null, called: this.origin.callee,
      twilioCallSid: this.origin.twilioCallSid ?? null,
      hangup: () => this.hangup('system', 'normal_clearing'),
    });
  }

  /** Answered by the PBX itself (voicemail, mailbox menu): no callee to relay to. */
  get answeredLocally(): boolean {
    return this.localParty !== undefined;
  }

  /** A key pressed in this call (B2BUA digit stream): the caller's reach a local party. */
  digit(d: CallDigit): void {
    if (d.side === 'a') this.localParty?.digit(d.digit);
  }

  private cancelForks(except?: SipUacLeg, reasons: readonly string[] = []): void {
    for (const f of this.forks) if (f !== except) f.cancel(reasons);
  }

  private end(by: CdrHangupBy, cause: string, sipCode: number): void {
    if (this.state === 'ended') return;
    const answered = this.state === 'answered';
    this.state = 'ended';
    this.answering = false;
    this.endedAt = this.env.timers.now();
    clearTimer(this.env.timers, this.ringTimer);
    clearTimer(this.env.timers, this.maxTimer);
    if (this.handedOver !== this.caller) this.caller.stop();
    this.hold.stop();
    this.localParty?.stop();
    for (const key of this.caller.dialogKeys()) this.env.unbindDialog(key);
    for (const leg of [this.winner, this.aLeg, this.bLeg]) if (leg?.dialog) this.env.unbindDialog(leg.dialog.key);
    for (const f of this.forks) f.release();
    for (const id of this.mediaLegIds) if (id !== this.handedOver?.media.endpoint.id) void this.env.media.releaseLeg(id).catch(() => {});
    for (const party of [this.partyA, this.partyB]) if (party && party !== this.handedOver) void party.media.webrtc?.close('call ended');
    void this.calleeMedia.webrtc?.close('call ended');
    const disposition: CdrDisposition = answered ? 'answered' : cause === 'caller_cancel' ? 'cancelled' : dispositionFor(sipCode);
    this.log.info({ disposition, cause, by }, 'call: ended');
    this.env.finished(this, {
      ...this.callStart(),
      end_time: isoNow(this.endedAt),
      disposition,
      hangup_cause: cause,
      hangup_by: by,
      sip_code: answered ? 200 : sipCode,
    }, this.journalled);
  }

  snapshot(): CallSnapshot {
    return callSnapshot(this);
  }

  callStart(): CallStart {
    return callStartOf(this);
  }
}
