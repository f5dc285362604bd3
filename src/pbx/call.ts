/**
 * One B2BUA call: the incoming leg A (we are its UAS), one or more forks towards the callee
 * (we are their UAC), and the media relay legs between them. Two independent dialogs: B gets
 * its own Call-ID, tags and CSeq, and only the SDP (rewritten to our relay) crosses over.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { SipMessage } from '../sip/message.ts';
import type { IncomingRequest, SipEndpoint } from '../sip/endpoint.ts';
import type { ClientTransaction } from '../sip/transaction-client.ts';
import type { SendTarget } from '../sip/transport-types.ts';
import { createRequest, randomCallId, randomTag } from '../sip/message-build.ts';
import { formatVia } from '../sip/header-via.ts';
import { buildCancel } from '../sip/transaction-cancel.ts';
import { Dialog } from '../sip/dialog.ts';
import { DigestClient } from '../sip/digest-client.ts';
import type { LegInfo, MediaEngine } from '../media/media-engine.ts';
import type { CdrDisposition, CdrHangupBy, NewCdr, CallStart } from '../store/cdrs.ts';
import { readSdp, mediaTarget, rewriteSdp, SdpOrigin, type MediaTarget } from './call-sdp.ts';
import { expiryDelayMs, sessionTimerHeaders, type SessionTimerDecision } from './session-timer.ts';
import { ReliableProvisionals } from './reliable-provisional.ts';
import { dialogKey } from '../sip/dialog.ts';
import type { CallTarget, RouteDecision } from './call-router.ts';

/** Methods our call legs accept, in the Allow of INVITEs and 2xx we send (RFC 3261 §20.5). */
const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE';

export type CallState = 'ringing' | 'early' | 'answered' | 'ended';

export interface CallEnv {
  endpoint: SipEndpoint;
  media: MediaEngine;
  logger: Logger;
  domain: string;
  t1: number;
  maxCallMs: number;
  advertise(protocol: SendTarget['protocol']): { host: string; port: number };
  /** Resolves a target to where its INVITE goes (DNS for trunk hosts). */
  sendTargetFor(target: CallTarget): Promise<SendTarget>;
  trunkCredentials(trunkId: number): Promise<{ username: string; password: string } | undefined>;
  /** Dialog index maintenance. */
  bindDialog(key: string, call: Call, side: 'a' | 'b'): void;
  unbindDialog(key: string): void;
  /** The call is over: the CDR is written by the engine. */
  finished(call: Call, cdr: NewCdr): void;
  /** The call was answered: journal it so a crash still leaves a CDR. */
  answered(call: Call): void;
}

interface Fork {
  target: CallTarget;
  sendTarget: SendTarget;
  invite: SipMessage;
  tx: ClientTransaction<SendTarget> | undefined;
  dialog: Dialog | undefined;
  done: boolean;
  status: number;
  authTried: boolean;
}

/** Response preference when every fork failed (RFC 3261 §16.7 step 6, simplified). */
function better(a: number, b: number): number {
  const rank = (s: number) => (s >= 600 ? 0 : s === 486 ? 1 : s >= 300 && s < 400 ? 2 : s === 408 || s === 480 || s === 487 ? 5 : s >= 500 ? 4 : 3);
  return rank(a) <= rank(b) ? a : b;
}

export function dispositionFor(status: number): CdrDisposition {
  if (status === 486 || status === 600) return 'busy';
  if (status === 603 || status === 403) return 'rejected';
  if (status === 408 || status === 480) return 'no_answer';
  if (status === 487) return 'cancelled';
  return 'failed';
}

export class Call {
  readonly id = randomBytes(12).toString('hex');
  state: CallState = 'ringing';
  readonly startedAt = Date.now();
  answeredAt: number | null = null;
  endedAt: number | null = null;
  codec: string | null = null;
  /** Our To tag towards A. */
  readonly aTag = randomTag();
  aDialog: Dialog | undefined;
  readonly bCallId = randomCallId();
  readonly bFromTag = randomTag();
  readonly forks: Fork[] = [];
  winner: Fork | undefined;
  private readonly aOrigin = new SdpOrigin();
  private readonly bOrigin = new SdpOrigin();
  private aOffer: MediaTarget | null = null;
  private lateOffer = false;
  private pendingAckToB: Dialog | undefined;
  private final: SipMessage | undefined;
  private retransmit: NodeJS.Timeout | undefined;
  private ringTimer: NodeJS.Timeout | undefined;
  private maxTimer: NodeJS.Timeout | undefined;
  private readonly log: Logger;
  /** In-dialog re-INVITE from one side waiting for the other side's answer. */
  private reinvite: { from: 'a' | 'b'; req: IncomingRequest } | undefined;
  private bestStatus = 0;
  /** RFC 4028 on the A leg: negotiated at the INVITE, running once answered. */
  sessionTimer: SessionTimerDecision = { kind: 'off' };
  private sessionTimerHandle: NodeJS.Timeout | undefined;
  private lastSdpToA: string | undefined;
  /** RFC 3262 towards A, when its INVITE requires 100rel. */
  private reliable: ReliableProvisionals | undefined;
  private earlyKey: string | undefined;
  private hangupBy: CdrHangupBy = 'system';
  private cause = 'normal_clearing';

  constructor(
    private readonly env: CallEnv,
    readonly a: IncomingRequest,
    readonly decision: Extract<RouteDecision, { kind: 'dial' }>,
    readonly origin: { callerDeviceId: number | null; trunkId: number | null; caller: string; callee: string },
    readonly legA: LegInfo,
    readonly legB: LegInfo,
  ) {
    this.log = env.logger.child({ call: this.id, a_call_id: a.msg.callId, b_call_id: this.bCallId });
  }

  /** Answered, and our 2xx to A still waits for its ACK (§13.3.1.4). */
  get awaitingAck(): boolean {
    return this.final !== undefined;
  }

  get aCallId(): string {
    return this.a.msg.callId;
  }

  /** Where in-dialog requests to A go: back to where its INVITE came from (NAT-safe). */
  private get aTarget(): SendTarget {
    return this.a.tx.source;
  }

  async start(): Promise<void> {
    const offer = this.a.msg.body.length > 0 ? readSdp(this.a.msg.body) : null;
    this.lateOffer = offer === null;
    if (offer) {
      this.aOffer = mediaTarget(offer);
      if (this.aOffer) await this.env.media.setRemote(this.legA.id, this.remote(this.aOffer));
    }
    await this.env.media.bridge(this.legA.id, this.legB.id);
    const body = offer ? rewriteSdp(offer, { address: this.legB.address, rtpPort: this.legB.rtpPort }, this.bOrigin) : undefined;
    this.a.onCancel = () => this.cancelledByCaller();
    this.ringTimer = setTimeout(() => this.ringTimeout(), this.decision.ringTimeoutMs);
    this.log.info({ targets: this.decision.targets.length, direction: this.decision.direction }, 'call: dialling');
    for (const target of this.decision.targets) {
      const sendTarget = await this.env.sendTargetFor(target);
      if (this.state === 'ended') return;
      const fork: Fork = { target, sendTarget, invite: this.buildInvite(target, sendTarget, body, 1), tx: undefined, dialog: undefined, done: false, status: 0, authTried: false };
      this.forks.push(fork);
      this.sendFork(fork);
    }
  }

  private remote(t: MediaTarget) {
    return { address: t.address, rtpPort: t.rtpPort, rtcpPort: t.rtcpPort, rtcpMux: t.rtcpMux };
  }

  private buildInvite(target: CallTarget, to: SendTarget, body: string | undefined, cseq: number): SipMessage {
    const adv = this.env.advertise(to.protocol);
    const callerId = this.decision.callerId;
    const display = this.a.msg.from.displayName;
    const fromHost = target.kind === 'trunk' ? (target.trunk.from_domain ?? adv.host) : this.env.domain;
    const requestUri = target.kind === 'contact' ? target.binding.contactUri : `sip:${target.number}@${target.trunk.host}:${target.trunk.port}`;
    const toUri = target.kind === 'contact' ? `<sip:${target.binding.aor}@${this.env.domain}>` : `<sip:${target.number}@${target.trunk.host}>`;
    const mf = this.a.msg.maxForwards;
    return createRequest({
      method: 'INVITE',
      uri: requestUri,
      from: `${display ? `"${display.replace(/["\\]/g, '')}" ` : ''}<sip:${target.kind === 'trunk' && target.trunk.caller_id ? target.trunk.caller_id : callerId}@${fromHost}>;tag=${this.bFromTag}`,
      to: toUri,
      callId: this.bCallId,
      cseq,
      maxForwards: mf === null ? 70 : Math.max(0, mf - 1),
      contact: this.contactFor(to),
      headers: { Allow: ALLOW, 'User-Agent': 'Strowger' },
      body,
      contentType: body === undefined ? undefined : 'application/sdp',
    });
  }

  private sendFork(fork: Fork): void {
    try {
      fork.tx = this.env.endpoint.request(fork.invite, fork.sendTarget, { onResponse: (res) => this.onForkResponse(fork, res) });
    } catch (err) {
      this.log.warn({ err }, 'call: fork could not be sent');
      fork.done = true;
      fork.status = 503;
      this.checkAllFailed();
    }
  }

  private onForkResponse(fork: Fork, res: SipMessage): void {
    const s = res.status;
    if (s < 200) {
      if (s === 100 || this.state === 'answered' || this.state === 'ended') return;
      if (res.toTag && !fork.dialog) fork.dialog = Dialog.asUac(fork.invite, res);
      void this.provisional(res).catch((err) => this.log.warn({ err }, 'call: provisional relay failed'));
      return;
    }
    if (s < 300) {
      void this.forkAnswered(fork, res).catch((err) => {
        this.log.error({ err }, 'call: answer handling failed');
        this.hangup('system', 'failed');
      });
      return;
    }
    if (fork.done) return;
    if ((s === 401 || s === 407) && fork.target.kind === 'trunk' && !fork.authTried && this.state !== 'ended') {
      fork.authTried = true;
      void this.retryWithAuth(fork, res);
      return;
    }
    fork.done = true;
    fork.status = s;
    this.log.info({ status: s }, 'call: fork failed');
    if (s >= 600 && this.state !== 'answered') this.cancelForks(fork);
    this.checkAllFailed();
  }

  private async retryWithAuth(fork: Fork, res: SipMessage): Promise<void> {
    const trunk = fork.target.kind === 'trunk' ? fork.target.trunk : undefined;
    const creds = trunk ? await this.env.trunkCredentials(trunk.id) : undefined;
    const header = res.status === 401 ? 'www-authenticate' : 'proxy-authenticate';
    const challenges = res.getHeaders(header);
    if (!creds || challenges.length === 0 || this.state === 'ended') {
      fork.done = true; fork.status = 403; this.checkAllFailed(); return;
    }
    const client = new DigestClient({ username: creds.username, password: creds.password });
    const answer = client.answer(challenges, { method: 'INVITE', uri: fork.invite.requestUriText });
    const body = fork.invite.body.length ? fork.invite.body.toString('utf8') : undefined;
    fork.invite = this.buildInvite(fork.target, fork.sendTarget, body, fork.invite.cseq.seq + 1);
    fork.invite.addHeader(res.status === 401 ? 'Authorization' : 'Proxy-Authorization', answer.header);
    fork.tx?.release();
    this.sendFork(fork);
  }

  private async provisional(res: SipMessage): Promise<void> {
    if (this.state === 'ended' || this.a.cancelled) return;
    let body: string | undefined;
    if (res.body.length > 0 && !this.lateOffer) {
      const sd = readSdp(res.body);
      const t = mediaTarget(sd);
      if (t) { await this.env.media.setRemote(this.legB.id, this.remote(t)); this.codec = t.codec; }
      body = rewriteSdp(sd, { address: this.legA.address, rtpPort: this.legA.rtpPort }, this.aOrigin);
    }
    if ((this.state as CallState) === 'ended' || this.a.cancelled) return;
    const status = body ? 183 : res.status === 183 ? 180 : res.status;
    this.state = 'early';
    const send = (extra: Record<string, string>) => this.a.reply(status, undefined, { toTag: this.aTag, body, contentType: body ? 'application/sdp' : undefined, headers: { Contact: this.contactForA(), ...extra } });
    if (!this.requires100rel()) { send({}); return; }
    this.reliable ??= new ReliableProvisionals({
      t1: this.env.t1,
      send: (msg) => { void this.env.endpoint.sendStateless(msg, this.aTarget).catch(() => {}); },
      onTimeout: () => { this.log.warn('call: no PRACK from caller'); this.hangup('system', 'no_prack'); },
    });
    if (!this.earlyKey) {
      // PRACKs arrive in the early dialog (RFC 3262 §4): index it like a confirmed one.
      this.earlyKey = dialogKey(this.aCallId, this.aTag, this.a.msg.fromTag ?? '');
      this.env.bindDialog(this.earlyKey, this, 'a');
    }
    this.reliable.provisional(send, body !== undefined);
  }

  private requires100rel(): boolean {
    return this.a.msg.getHeaders('require').some((v) => v.trim().toLowerCase() === '100rel');
  }

  /** PRACK from A for a reliable provisional (RFC 3262 §3): 200, or 481 when it matches none. */
  prack(side: 'a' | 'b', req: IncomingRequest): void {
    if (side === 'a' && this.reliable?.prack(req.msg.getHeader('rack'), this.a.msg.cseq.seq)) { req.reply(200, 'OK'); return; }
    req.reply(481, 'Call/Transaction Does Not Exist');
  }

  private contactForA(): string {
    return this.contactFor(this.aTarget);
  }

  private async forkAnswered(fork: Fork, res: SipMessage): Promise<void> {
    const dialog = fork.dialog && fork.dialog.remoteTag === res.toTag ? fork.dialog : Dialog.asUac(fork.invite, res);
    fork.dialog = dialog;
    if (this.winner === fork) { this.ackB(fork, dialog); return; } // 2xx retransmission
    if (this.state === 'answered' || this.state === 'ended') {
      // A second fork answered, or the caller is gone: ACK it and hang that fork up (§13.2.2.4).
      this.ackB(fork, dialog);
      this.sendBye(dialog, fork.sendTarget);
      if (this.state === 'ended') fork.tx?.release();
      return;
    }
    this.winner = fork;
    fork.done = true;
    fork.status = res.status;
    this.cancelForks(fork);
    if (this.ringTimer) clearTimeout(this.ringTimer);
    this.env.bindDialog(dialog.key, this, 'b');
    let body: string | undefined;
    if (res.body.length > 0) {
      const sd = readSdp(res.body);
      const t = mediaTarget(sd);
      if (t) { await this.env.media.setRemote(this.legB.id, this.remote(t)); this.codec = t.codec ?? this.codec; }
      body = rewriteSdp(sd, { address: this.legA.address, rtpPort: this.legA.rtpPort }, this.aOrigin);
    }
    if (this.lateOffer) this.pendingAckToB = dialog; else this.ackB(fork, dialog);
    if (this.a.cancelled) { this.hangup('caller', 'caller_cancel'); return; }
    this.state = 'answered';
    this.answeredAt = Date.now();
    this.aDialog = Dialog.asUas(this.a.msg, this.aTag);
    this.env.bindDialog(this.aDialog.key, this, 'a');
    this.lastSdpToA = body;
    this.reliable?.stop();
    this.final = this.a.reply(200, 'OK', { toTag: this.aTag, body, contentType: body ? 'application/sdp' : undefined, headers: { Contact: this.contactForA(), Allow: ALLOW, ...this.sessionTimerReplyHeaders() } });
    this.startRetransmit();
    this.armSessionTimer();
    this.maxTimer = setTimeout(() => this.hangup('system', 'max_duration'), this.env.maxCallMs);
    this.log.info({ codec: this.codec }, 'call: answered');
    this.env.answered(this);
  }

  private ackB(fork: Fork, dialog: Dialog, body?: string): void {
    this.sendAck(dialog, fork.invite.cseq.seq, fork.sendTarget, body);
  }

  /** ACK for a 2xx: its own transaction-less request in the dialog (§13.2.2.4, §17.1.1.3). */
  private sendAck(dialog: Dialog, cseq: number, target: SendTarget, body?: string): void {
    const ack = dialog.createRequest('ACK', { cseq, body, contentType: body ? 'application/sdp' : undefined });
    ack.addHeader('Via', formatVia(this.env.endpoint.via(target.protocol)), { first: true });
    void this.env.endpoint.sendStateless(ack, target).catch(() => {});
  }

  /** §13.3.1.4: the UAS core resends its 2xx until the ACK comes (unreliable transports). */
  private startRetransmit(): void {
    if (this.aTarget.protocol !== 'udp' || !this.final) return;
    let interval = this.env.t1;
    let elapsed = 0;
    const tick = () => {
      if (!this.final || this.state === 'ended') return;
      elapsed += interval;
      if (elapsed >= 64 * this.env.t1) { this.log.warn('call: no ACK from caller'); this.hangup('system', 'no_ack'); return; }
      void this.env.endpoint.sendStateless(this.final, this.aTarget).catch(() => {});
      interval = Math.min(interval * 2, 4000);
      this.retransmit = setTimeout(tick, interval);
    };
    this.retransmit = setTimeout(tick, interval);
  }

  /** ACK from A for our 2xx (§13.2.2.4); a late offer's answer rides on it. */
  async onAckFromA(ack: SipMessage): Promise<void> {
    if (this.retransmit) { clearTimeout(this.retransmit); this.retransmit = undefined; }
    this.final = undefined;
    if (this.reinviteAck(ack)) return;
    if (!this.pendingAckToB || !this.winner) return;
    const dialog = this.pendingAckToB;
    this.pendingAckToB = undefined;
    let body: string | undefined;
    if (ack.body.length > 0) {
      const sd = readSdp(ack.body);
      const t = mediaTarget(sd);
      if (t) await this.env.media.setRemote(this.legA.id, this.remote(t));
      body = rewriteSdp(sd, { address: this.legB.address, rtpPort: this.legB.rtpPort }, this.bOrigin);
    }
    this.ackB(this.winner, dialog, body);
  }

  private pendingReinviteAck: { dialog: Dialog; cseq: number; target: SendTarget } | undefined;

  private reinviteAck(ack: SipMessage): boolean {
    const p = this.pendingReinviteAck;
    if (!p || ack.cseq.seq === this.a.msg.cseq.seq) return false;
    this.pendingReinviteAck = undefined;
    this.sendAck(p.dialog, p.cseq, p.target);
    return true;
  }

  /** A re-INVITE or UPDATE inside the dialog: pass it to the other side with the SDP re-anchored. */
  async inDialogUpdate(from: 'a' | 'b', req: IncomingRequest): Promise<void> {
    const other = from === 'a' ? this.winner?.dialog : this.aDialog;
    const otherTarget = from === 'a' ? this.winner?.sendTarget : this.aTarget;
    if (this.state !== 'answered' || !other || !otherTarget) { req.reply(481, 'Call/Transaction Does Not Exist'); return; }
    if (req.msg.method === 'INVITE' && this.reinvite) { req.reply(491, 'Request Pending'); return; }
    const fromLeg = from === 'a' ? this.legA : this.legB;
    const toLeg = from === 'a' ? this.legB : this.legA;
    let body: string | undefined;
    if (req.msg.body.length > 0) {
      const sd = readSdp(req.msg.body);
      const t = mediaTarget(sd);
      if (t) await this.env.media.setRemote(fromLeg.id, this.remote(t));
      body = rewriteSdp(sd, { address: toLeg.address, rtpPort: toLeg.rtpPort }, from === 'a' ? this.bOrigin : this.aOrigin);
    }
    const ownDialog = from === 'a' ? this.aDialog : this.winner?.dialog;
    ownDialog?.refreshTarget(req.msg);
    if (from === 'a') this.armSessionTimer();
    const fwd = other.createRequest(req.msg.method, { body, contentType: body ? 'application/sdp' : undefined, contact: this.contactFor(otherTarget) });
    if (req.msg.method === 'INVITE') this.reinvite = { from, req };
    this.log.info({ method: req.msg.method, from }, 'call: in-dialog offer relayed');
    this.env.endpoint.request(fwd, otherTarget, {
      onResponse: (res) => {
        if (res.status < 200) return;
        if (req.msg.method === 'INVITE') this.reinvite = undefined;
        void (async () => {
          let answer: string | undefined;
          if (res.status < 300 && res.body.length > 0) {
            const sd = readSdp(res.body);
            const t = mediaTarget(sd);
            if (t) await this.env.media.setRemote(toLeg.id, this.remote(t));
            answer = rewriteSdp(sd, { address: fromLeg.address, rtpPort: fromLeg.rtpPort }, from === 'a' ? this.aOrigin : this.bOrigin);
          }
          if (res.status < 300 && req.msg.method === 'INVITE') {
            this.pendingReinviteAck = { dialog: other, cseq: fwd.cseq.seq, target: otherTarget };
            if (from === 'b') {
              // Our 2xx to B's re-INVITE is ACKed by B; we ACK A's 2xx ourselves now.
              this.pendingReinviteAck = undefined;
              this.sendAck(other, fwd.cseq.seq, otherTarget);
            }
          }
          if (from === 'b' && answer) this.lastSdpToA = answer;
          req.reply(res.status, res.reason, { body: answer, contentType: answer ? 'application/sdp' : undefined, headers: res.status < 300 ? { Contact: this.contactFor(req.tx.source), ...(from === 'a' ? this.sessionTimerReplyHeaders() : {}) } : undefined });
        })().catch((err) => { this.log.warn({ err }, 'call: in-dialog answer relay failed'); try { req.reply(500); } catch { /* answered */ } });
      },
    });
  }

  private contactFor(target: SendTarget): string {
    const adv = this.env.advertise(target.protocol);
    return `<sip:strowger@${adv.host.includes(':') ? `[${adv.host}]` : adv.host}:${adv.port};transport=${target.protocol}>`;
  }

  private sessionTimerReplyHeaders(): Record<string, string> {
    return this.sessionTimer.kind === 'on' ? sessionTimerHeaders(this.sessionTimer) : {};
  }

  /**
   * RFC 4028 §10: with the caller as refresher we wait for its refresh and end the session
   * when none comes; as refresher ourselves we send a target-refresh re-INVITE at half time.
   */
  private armSessionTimer(): void {
    const st = this.sessionTimer;
    if (st.kind !== 'on' || this.state !== 'answered') return;
    if (this.sessionTimerHandle) clearTimeout(this.sessionTimerHandle);
    if (st.refresher === 'uac') {
      this.sessionTimerHandle = setTimeout(() => {
        this.log.info({ interval: st.interval }, 'call: session timer expired without refresh');
        this.hangup('system', 'session_expired');
      }, expiryDelayMs(st.interval));
    } else {
      this.sessionTimerHandle = setTimeout(() => this.refreshA(), (st.interval * 1000) / 2);
    }
    this.sessionTimerHandle.unref?.();
  }

  /** We are the refresher towards A: re-INVITE with the SDP it already has (§7.4, §10). */
  private refreshA(): void {
    const dialog = this.aDialog;
    if (!dialog || this.state !== 'answered') return;
    const body = this.lastSdpToA;
    const reinvite = dialog.createRequest('INVITE', { contact: this.contactForA(), body, contentType: body ? 'application/sdp' : undefined, headers: { ...this.sessionTimerReplyHeaders(), Supported: 'timer' } });
    reinvite.removeHeader('require');
    try {
      this.env.endpoint.request(reinvite, this.aTarget, {
        onResponse: (res) => {
          if (res.status < 200) return;
          if (res.status >= 300) { this.hangup('system', 'session_refresh_failed'); return; }
          this.sendAck(dialog, reinvite.cseq.seq, this.aTarget);
          this.armSessionTimer();
        },
      });
    } catch (err) {
      this.log.warn({ err }, 'call: session refresh not sent');
    }
  }

  /** BYE from one side: answer it, BYE the other side, end the call. */
  byeFrom(side: 'a' | 'b', req: IncomingRequest): void {
    req.reply(200, 'OK');
    if (side === 'a') {
      if (this.winner?.dialog) this.sendBye(this.winner.dialog, this.winner.sendTarget);
      this.end('caller', 'caller_bye', 200);
    } else {
      if (this.aDialog) this.sendBye(this.aDialog, this.aTarget);
      this.end('callee', 'callee_bye', 200);
    }
  }

  private sendBye(dialog: Dialog, target: SendTarget): void {
    const bye = dialog.createRequest('BYE');
    try {
      this.env.endpoint.request(bye, target, { onResponse: () => {} });
    } catch (err) {
      this.log.warn({ err }, 'call: BYE not sent');
    }
  }

  /** Ends the call from outside (API, RTP timeout, max duration, shutdown). */
  hangup(by: CdrHangupBy, cause: string): void {
    if (this.state === 'ended') return;
    if (this.state === 'answered') {
      if (this.aDialog) this.sendBye(this.aDialog, this.aTarget);
      if (this.winner?.dialog) this.sendBye(this.winner.dialog, this.winner.sendTarget);
      this.end(by, cause, 200);
      return;
    }
    this.cancelForks();
    const status = cause === 'caller_cancel' ? 487 : cause === 'no_answer' ? 480 : 503;
    this.replyA(status, cause === 'no_answer' ? 'Temporarily Unavailable' : undefined);
    // The CDR records what A really got: a final answer sent earlier (e.g. 400 for a bad offer) wins.
    const sent = this.a.tx.lastStatus;
    this.end(by, cause, sent >= 300 ? sent : status);
  }

  private replyA(status: number, reason?: string): void {
    if (this.a.cancelled) return;
    if (this.a.tx.lastStatus >= 200) return;
    try { this.a.reply(status, reason, { toTag: this.aTag }); } catch { /* transaction gone */ }
  }

  private cancelledByCaller(): void {
    this.log.info('call: cancelled by caller');
    this.cancelForks();
    this.end('caller', 'caller_cancel', 487);
  }

  private ringTimeout(): void {
    if (this.state === 'answered' || this.state === 'ended') return;
    this.log.info('call: no answer');
    this.hangup('system', 'no_answer');
  }

  private cancelForks(except?: Fork): void {
    for (const f of this.forks) {
      if (f === except || f.done || !f.tx) continue;
      f.done = true;
      f.status = 487;
      // §9.1: CANCEL only once a provisional arrived; before, the transaction may still be trying.
      try {
        this.env.endpoint.request(buildCancel(f.invite), f.sendTarget, { onResponse: () => {} });
      } catch { /* transaction already gone */ }
    }
  }

  private checkAllFailed(): void {
    if (this.state === 'answered' || this.state === 'ended') return;
    if (this.forks.length < this.decision.targets.length) return;
    if (!this.forks.every((f) => f.done)) return;
    let best = 0;
    for (const f of this.forks) best = best === 0 ? f.status : better(best, f.status);
    this.bestStatus = best || 480;
    const status = this.bestStatus === 487 ? 480 : this.bestStatus;
    this.replyA(status);
    this.end('callee', status === 486 || status === 600 ? 'busy' : status === 603 ? 'rejected' : status === 408 || status === 480 ? 'no_answer' : 'failed', status);
  }

  private end(by: CdrHangupBy, cause: string, sipCode: number): void {
    if (this.state === 'ended') return;
    const answered = this.state === 'answered';
    this.state = 'ended';
    this.endedAt = Date.now();
    this.hangupBy = by;
    this.cause = cause;
    for (const t of [this.retransmit, this.ringTimer, this.maxTimer, this.sessionTimerHandle]) if (t) clearTimeout(t);
    this.reliable?.stop();
    if (this.earlyKey) this.env.unbindDialog(this.earlyKey);
    if (this.aDialog) this.env.unbindDialog(this.aDialog.key);
    if (this.winner?.dialog) this.env.unbindDialog(this.winner.dialog.key);
    // Answered forks linger in their transaction 32 s (Timer M/D): without this the whole call
    // would. A fork still waiting for its final answer keeps its handler, so a 2xx that crosses
    // our CANCEL still gets its ACK and BYE (§13.2.2.4).
    for (const f of this.forks) if (f.tx !== undefined && f.tx.lastStatus >= 200) f.tx.release();
    void this.env.media.releaseLeg(this.legA.id).catch(() => {});
    void this.env.media.releaseLeg(this.legB.id).catch(() => {});
    const disposition: CdrDisposition = answered ? 'answered' : cause === 'caller_cancel' ? 'cancelled' : dispositionFor(sipCode);
    this.log.info({ disposition, cause, by }, 'call: ended');
    this.env.finished(this, {
      ...this.callStart(),
      end_time: new Date(this.endedAt).toISOString(),
      disposition,
      hangup_cause: this.cause,
      hangup_by: this.hangupBy,
      sip_code: answered ? 200 : sipCode,
    });
  }

  callStart(): CallStart {
    return {
      call_id: this.id,
      a_call_id: this.aCallId,
      b_call_id: this.bCallId,
      caller: this.origin.caller,
      callee: this.origin.callee,
      did_id: this.decision.didId,
      did_number: this.decision.didNumber,
      caller_device_id: this.origin.callerDeviceId,
      callee_device_id: this.winner?.target.kind === 'contact' ? this.winner.target.deviceId : this.decision.calleeDeviceId,
      trunk_id: this.origin.trunkId ?? (this.winner?.target.kind === 'trunk' ? this.winner.target.trunk.id : null),
      direction: this.decision.direction,
      start_time: new Date(this.startedAt).toISOString(),
      answer_time: this.answeredAt === null ? null : new Date(this.answeredAt).toISOString(),
      codec: this.codec,
    };
  }
}

