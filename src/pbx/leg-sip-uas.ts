/**
 * The caller's leg: we are the UAS of its INVITE. Owns provisional relay (reliable ones per
 * RFC 3262 when the caller requires 100rel), our 2xx and its retransmission until the ACK
 * (§13.3.1.4), the dialog, and the session timer (RFC 4028) where we are the UAS.
 */
import { randomHex } from '../sip/random-pool.ts';
import type { SipMessage } from '../sip/message.ts';
import type { IncomingRequest } from '../sip/endpoint.ts';
import type { SendTarget } from '../sip/transport-types.ts';
import { Dialog, dialogKey } from '../sip/dialog.ts';
import { randomTag } from '../sip/message-build.ts';
import type { LegMedia } from './anchor-sdp.ts';
import { clearTimer, type TimerHandle } from './call-timers.ts';
import { ReliableProvisionals } from './reliable-provisional.ts';
import { expiryDelayMs, sessionTimerHeaders, type SessionTimerDecision } from './session-timer.ts';
import { codecLabel, type CallLeg, type LegSnapshot } from './leg-types.ts';
import { ALLOW, contactFor, sendAck, sendBye, type SipDialogLeg, type SipLegEnv } from './leg-sip.ts';

export interface UasLegEvents {
  /** A dialog of this leg (early for PRACK, then confirmed) must route to the call. */
  bindDialog(key: string): void;
  /** The leg cannot go on (no ACK, no PRACK, session expired or not refreshed): end the call. */
  failed(cause: string): void;
}

export class SipUasLeg implements CallLeg, SipDialogLeg {
  readonly id = randomHex(6);
  readonly kind = 'sip-uas' as const;
  /** Our To tag. */
  readonly tag = randomTag();
  dialog: Dialog | undefined;
  /** RFC 4028 on this leg: negotiated at the INVITE, running once answered. */
  sessionTimer: SessionTimerDecision = { kind: 'off' };
  private final: SipMessage | undefined;
  private retransmit: TimerHandle | undefined;
  private sessionTimerHandle: TimerHandle | undefined;
  private reliable: ReliableProvisionals | undefined;
  private earlyKey: string | undefined;
  /** The SDP the caller has from us, re-sent when we refresh the session (§7.4). */
  private lastSdp: string | undefined;
  private byeSent = false;
  private stopped = false;

  constructor(
    private readonly env: SipLegEnv,
    private events: UasLegEvents,
    readonly media: LegMedia,
    readonly req: IncomingRequest,
  ) {}

  /** The leg now belongs to another call (attended transfer, Replaces): its events go there. */
  rebind(events: UasLegEvents): void {
    this.events = events;
  }

  get callId(): string {
    return this.req.msg.callId;
  }

  /** Where requests to the caller go: back to where its INVITE came from (NAT-safe). */
  get target(): SendTarget {
    return this.req.tx.source;
  }

  /** Answered, and our 2xx still waits for its ACK (§13.3.1.4). */
  get awaitingAck(): boolean {
    return this.final !== undefined;
  }

  /** Final status sent on the INVITE transaction (0 while none). */
  get finalStatus(): number {
    return this.req.tx.lastStatus >= 200 ? this.req.tx.lastStatus : 0;
  }

  contact(): string {
    return contactFor(this.env, this.target);
  }

  dialogKeys(): string[] {
    return [this.earlyKey, this.dialog?.key].filter((k): k is string => k !== undefined);
  }

  /** Relays a provisional: with SDP as 183, reliably when the caller requires 100rel (RFC 3262). */
  provisional(status: number, body: string | undefined): void {
    if (this.stopped || this.req.cancelled || this.finalStatus) return;
    const send = (extra: Record<string, string>) => this.req.reply(status, undefined, { toTag: this.tag, body, contentType: body ? 'application/sdp' : undefined, headers: { Contact: this.contact(), ...extra } });
    if (!this.requires100rel()) { send({}); return; }
    this.reliable ??= new ReliableProvisionals({
      t1: this.env.t1,
      timers: this.env.timers,
      send: (msg) => { void this.env.endpoint.sendStateless(msg, this.target).catch(() => {}); },
      onTimeout: () => { this.env.log.warn('call: no PRACK from caller'); this.events.failed('no_prack'); },
    });
    if (!this.earlyKey) {
      // PRACKs arrive in the early dialog (RFC 3262 §4): index it like a confirmed one.
      this.earlyKey = dialogKey(this.callId, this.tag, this.req.msg.fromTag ?? '');
      this.events.bindDialog(this.earlyKey);
    }
    this.reliable.provisional(send, body !== undefined);
  }

  requires100rel(): boolean {
    return this.req.msg.getHeaders('require').some((v) => v.trim().toLowerCase() === '100rel');
  }

  /** PRACK for a reliable provisional (RFC 3262 §3): 200, or 481 when it matches none. */
  prack(req: IncomingRequest): void {
    if (this.reliable?.prack(req.msg.getHeader('rack'), this.req.msg.cseq.seq)) { req.reply(200, 'OK'); return; }
    req.reply(481, 'Call/Transaction Does Not Exist');
  }

  /** Our 2xx, resent until the ACK comes; the dialog is confirmed and the session timer runs. */
  answer(body: string | undefined): void {
    this.dialog = Dialog.asUas(this.req.msg, this.tag);
    this.events.bindDialog(this.dialog.key);
    this.lastSdp = body;
    this.reliable?.stop();
    this.final = this.req.reply(200, 'OK', { toTag: this.tag, body, contentType: body ? 'application/sdp' : undefined, headers: { Contact: this.contact(), Allow: ALLOW, ...this.sessionTimerReplyHeaders() } });
    this.startRetransmit();
    this.armSessionTimer();
  }

  /** A final error answer on the INVITE, unless one went out already or the caller cancelled. */
  reject(status: number, reason?: string, headers?: Record<string, string>): void {
    this.reliable?.stop();
    if (this.req.cancelled || this.req.tx.lastStatus >= 200) return;
    try { this.req.reply(status, reason, { toTag: this.tag, headers }); } catch { /* transaction gone */ }
  }

  /** §13.3.1.4: the UAS core resends its 2xx until the ACK comes (unreliable transports). */
  private startRetransmit(): void {
    if (this.target.protocol !== 'udp' || !this.final) return;
    let interval = this.env.t1;
    let elapsed = 0;
    const tick = () => {
      if (!this.final || this.stopped) return;
      elapsed += interval;
      if (elapsed >= 64 * this.env.t1) { this.env.log.warn('call: no ACK from caller'); this.events.failed('no_ack'); return; }
      void this.env.endpoint.sendStateless(this.final, this.target).catch(() => {});
      interval = Math.min(interval * 2, 4000);
      this.retransmit = this.env.timers.setTimeout(tick, interval);
    };
    this.retransmit = this.env.timers.setTimeout(tick, interval);
  }

  /** An ACK in this dialog. True when it acknowledges the INVITE's 2xx (not a re-INVITE's). */
  onAck(ack: SipMessage): boolean {
    clearTimer(this.env.timers, this.retransmit);
    this.retransmit = undefined;
    this.final = undefined;
    return ack.cseq.seq === this.req.msg.cseq.seq;
  }

  /** The caller refreshed the session (re-INVITE or UPDATE): restart the wait (§10). */
  refreshed(): void {
    this.armSessionTimer();
  }

  /** The SDP the caller now has from us (after a re-INVITE answered by the other side). */
  sdpSent(body: string): void {
    this.lastSdp = body;
  }

  sessionTimerReplyHeaders(): Record<string, string> {
    return this.sessionTimer.kind === 'on' ? sessionTimerHeaders(this.sessionTimer) : {};
  }

  /**
   * RFC 4028 §10: with the caller as refresher we wait for its refresh and end the session
   * when none comes; as refresher ourselves we send a target-refresh re-INVITE at half time.
   */
  private armSessionTimer(): void {
    const st = this.sessionTimer;
    if (st.kind !== 'on' || !this.dialog || this.stopped) return;
    clearTimer(this.env.timers, this.sessionTimerHandle);
    if (st.refresher === 'uac') {
      this.sessionTimerHandle = this.env.timers.setTimeout(() => {
        this.env.log.info({ interval: st.interval }, 'call: session timer expired without refresh');
        this.events.failed('session_expired');
      }, expiryDelayMs(st.interval));
    } else {
      this.sessionTimerHandle = this.env.timers.setTimeout(() => this.refresh(), (st.interval * 1000) / 2);
    }
  }

  /** We are the refresher: re-INVITE with the SDP the caller already has (§7.4, §10). */
  private refresh(): void {
    const dialog = this.dialog;
    if (!dialog || this.stopped) return;
    const body = this.lastSdp;
    const reinvite = dialog.createRequest('INVITE', { contact: this.contact(), body, contentType: body ? 'application/sdp' : undefined, headers: { ...this.sessionTimerReplyHeaders(), Supported: 'timer' } });
    reinvite.removeHeader('require');
    try {
      this.env.endpoint.request(reinvite, this.target, {
        onResponse: (res) => {
          if (res.status < 200) return;
          if (res.status >= 300) { this.events.failed('session_refresh_failed'); return; }
          sendAck(this.env, dialog, reinvite.cseq.seq, this.target);
          this.armSessionTimer();
        },
      });
    } catch (err) {
      this.env.log.warn({ err }, 'call: session refresh not sent');
    }
  }

  bye(): void {
    if (!this.dialog || this.byeSent) return;
    this.byeSent = true;
    sendBye(this.env, this.dialog, this.target);
  }

  /** BYE when answered; otherwise a final error answer chosen from the cause. */
  hangup(cause: string): void {
    if (this.dialog) { this.bye(); return; }
    const status = cause === 'caller_cancel' ? 487 : cause === 'no_answer' ? 480 : 503;
    this.reject(status, cause === 'no_answer' ? 'Temporarily Unavailable' : undefined);
  }

  /** No more timers: the call is over. */
  stop(): void {
    this.stopped = true;
    clearTimer(this.env.timers, this.retransmit);
    clearTimer(this.env.timers, this.sessionTimerHandle);
    this.reliable?.stop();
  }

  get sipCallId(): string {
    return this.callId;
  }

  snapshot(): LegSnapshot {
    const s = this.req.source;
    return { id: this.id, kind: this.kind, sipCallId: this.sipCallId, peer: `${s.protocol}:${s.remoteAddress}:${s.remotePort}`, mediaLegId: this.media.endpoint.id, codec: codecLabel(this.media) };
  }
}
