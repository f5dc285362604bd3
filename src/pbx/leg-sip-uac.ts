/**
 * One fork towards the callee: we are its UAC. Owns the INVITE client transaction, the digest
 * retry towards trunks (one per fork), CANCEL (§9.1), the dialog of its 1xx/2xx, and ACK/BYE.
 * Forks of one call share the callee-side media endpoint until one of them answers.
 */
import { randomHex } from '../sip/random-pool.ts';
import type { SipMessage } from '../sip/message.ts';
import type { ClientTransaction } from '../sip/transaction-client.ts';
import type { SendTarget } from '../sip/transport-types.ts';
import { buildCancel } from '../sip/transaction-cancel.ts';
import { Dialog } from '../sip/dialog.ts';
import { DigestClient } from '../sip/digest-client.ts';
import type { LegMedia } from './anchor-sdp.ts';
import type { CallTarget } from './call-router.ts';
import { codecLabel, type CallLeg, type LegSnapshot } from './leg-types.ts';
import { sendAck, sendBye, type SipDialogLeg, type SipLegEnv } from './leg-sip.ts';

export interface UacLegEvents {
  /** A 1xx other than 100 while the INVITE is pending. */
  provisional(leg: SipUacLeg, res: SipMessage): void;
  /** Every 2xx, retransmissions included (the caller decides winner, ACK and BYE). */
  answered(leg: SipUacLeg, res: SipMessage): void;
  /** The fork is over without an answer (`leg.status` says how). */
  failed(leg: SipUacLeg): void;
}

export interface UacLegOptions {
  /** The routed target; absent for a PBX-originated call straight to a SIP URI (`originate.ts`). */
  target: CallTarget | undefined;
  /**
   * Where the INVITE may go, in order (RFC 3263 §4.3): the next one is tried when the
   * current one fails at the transport, times out (Timer B) or answers 503. At least one.
   */
  sendTargets: readonly SendTarget[];
  /** Builds the INVITE (CSeq given) to `to` with the offer `body`, so the digest retry and failover can rebuild it. */
  buildInvite(cseq: number, body: string | undefined, to: SendTarget): SipMessage;
  body: string | undefined;
  trunkCredentials(trunkId: number): Promise<{ username: string; password: string } | undefined>;
  /**
   * Digest credentials for a 401/407 of any target (one retry, as for trunks); absent: only a
   * trunk target answers challenges, with `trunkCredentials`.
   */
  credentials?: () => Promise<{ username: string; password: string } | undefined>;
}

export class SipUacLeg implements CallLeg, SipDialogLeg {
  readonly id = randomHex(6);
  readonly kind = 'sip-uac' as const;
  /** The target the current INVITE went to (then the dialog's). */
  target: SendTarget;
  /** Index of `target` in the options' `sendTargets`. */
  private targetIndex = 0;
  invite: SipMessage;
  dialog: Dialog | undefined;
  /** Final answer received (or given up): nothing more to CANCEL. */
  done = false;
  /** Final status of the fork; 0 while pending. */
  status = 0;
  private tx: ClientTransaction<SendTarget> | undefined;
  private authTried = false;
  private byeSent = false;
  /** Highest RSeq we PRACKed (RFC 3262 §4): a retransmitted reliable provisional is not relayed twice. */
  private lastRseq = -1;
  /** The body of our ACK (a late offer's answer), resent with it for a retransmitted 2xx. */
  lastAckBody: string | undefined;

  constructor(
    private readonly env: SipLegEnv,
    private readonly events: UacLegEvents,
    readonly media: LegMedia,
    private readonly o: UacLegOptions,
  ) {
    this.target = o.sendTargets[0]!;
    this.invite = o.buildInvite(1, o.body, this.target);
  }

  get callTarget(): CallTarget | undefined {
    return this.o.target;
  }

  /** Sends the INVITE (again after a digest challenge). */
  send(): void {
    try {
      this.tx = this.env.endpoint.request(this.invite, this.target, { onResponse: (res) => this.onResponse(res) });
    } catch (err) {
      this.env.log.warn({ err }, 'call: fork could not be sent');
      this.finish(503);
    }
  }

  private onResponse(res: SipMessage): void {
    const s = res.status;
    if (s < 200) {
      if (s === 100) return;
      if (res.toTag && !this.dialog) this.dialog = Dialog.asUac(this.invite, res);
      if (this.isReliable(res) && !this.prack(res)) return;
      this.events.provisional(this, res);
      return;
    }
    if (s < 300) {
      this.dialog = this.dialog && this.dialog.remoteTag === res.toTag ? this.dialog : Dialog.asUac(this.invite, res);
      this.events.answered(this, res);
      return;
    }
    if (this.done) return;
    if (this.shouldFailOver(s)) {
      this.failOver(res);
      return;
    }
    if ((s === 401 || s === 407) && (this.o.credentials !== undefined || this.o.target?.kind === 'trunk') && !this.authTried) {
      this.authTried = true;
      void this.retryWithAuth(res);
      return;
    }
    const error = this.tx?.localFailure === 'transport_error' ? (this.tx.error as { cause?: { message?: string } } | undefined)?.cause?.message : undefined;
    this.env.log.info({ status: s, local: this.tx?.localFailure, error, target: `${this.target.protocol}:${this.target.address}:${this.target.port}` }, 'call: fork failed');
    this.finish(s);
  }

  /**
   * RFC 3263 §4.3: a transport error, a timeout with no answer at all, or a 503 sends the
   * request to the next target. (A 408 from the server is its answer, not a silent server.)
   */
  private shouldFailOver(status: number): boolean {
    if (this.targetIndex + 1 >= this.o.sendTargets.length) return false;
    return status === 503 || (status === 408 && this.tx?.localFailure === 'timeout');
  }

  /** The same request with a new branch (a new transaction) to the next target; dialog state starts over. */
  private failOver(res: SipMessage): void {
    const failed = this.target;
    const cause = this.tx?.localFailure ?? `${res.status} response`;
    const error = this.tx?.error as { message?: string; cause?: { code?: string; message?: string } } | undefined;
    this.tx?.release();
    this.targetIndex++;
    this.target = this.o.sendTargets[this.targetIndex]!;
    this.env.log.warn({
      failed: `${failed.protocol}:${failed.address}:${failed.port}`, cause, error: error?.cause?.message ?? error?.message,
      next: `${this.target.protocol}:${this.target.address}:${this.target.port}`,
    }, 'call: target failed, trying the next one (RFC 3263)');
    this.dialog = undefined;
    this.authTried = false;
    this.lastRseq = -1;
    const body = this.invite.body.length ? this.invite.body.toString('utf8') : undefined;
    this.invite = this.o.buildInvite(this.invite.cseq.seq + 1, body, this.target);
    this.send();
  }

  private isReliable(res: SipMessage): boolean {
    return res.getHeaders('require').some((v) => v.split(',').some((t) => t.trim().toLowerCase() === '100rel'));
  }

  /**
   * RFC 3262 §4: a reliable provisional is acknowledged with a PRACK in its early dialog,
   * `RAck: <RSeq> <CSeq number> INVITE`. Provisionals arrive in RSeq order; a retransmission
   * (same or older RSeq) is not acknowledged or relayed again — the PRACK transaction already
   * retransmits itself. @returns false when the provisional must not be relayed.
   */
  private prack(res: SipMessage): boolean {
    const rseq = Number(res.getHeader('rseq')?.trim());
    if (!Number.isInteger(rseq) || rseq < 0 || rseq > 0xffffffff) return true; // malformed: relay, cannot PRACK
    if (rseq <= this.lastRseq) return false;
    this.lastRseq = rseq;
    const dialog = this.dialog?.remoteTag === res.toTag ? this.dialog : Dialog.asUac(this.invite, res);
    const prack = dialog.createRequest('PRACK', { headers: { RAck: `${rseq} ${this.invite.cseq.seq} INVITE` } });
    try {
      this.env.endpoint.request(prack, this.target, { onResponse: () => {} });
    } catch (err) {
      this.env.log.warn({ err }, 'call: PRACK not sent');
    }
    return true;
  }

  private finish(status: number): void {
    this.done = true;
    this.status = status;
    this.events.failed(this);
  }

  private async retryWithAuth(res: SipMessage): Promise<void> {
    const trunk = this.o.target?.kind === 'trunk' ? this.o.target.trunk : undefined;
    const creds = this.o.credentials ? await this.o.credentials() : trunk ? await this.o.trunkCredentials(trunk.id) : undefined;
    const challenges = res.getHeaders(res.status === 401 ? 'www-authenticate' : 'proxy-authenticate');
    if (this.done) return;
    if (!creds || challenges.length === 0) { this.finish(403); return; }
    const answer = new DigestClient({ username: creds.username, password: creds.password }).answer(challenges, { method: 'INVITE', uri: this.invite.requestUriText });
    const body = this.invite.body.length ? this.invite.body.toString('utf8') : undefined;
    this.invite = this.o.buildInvite(this.invite.cseq.seq + 1, body, this.target);
    this.invite.addHeader(res.status === 401 ? 'Authorization' : 'Proxy-Authorization', answer.header);
    this.tx?.release();
    this.send();
  }

  /** CANCEL a pending INVITE (§9.1), with `reasons` as its Reason headers (RFC 3326); the fork counts as 487 from now on. */
  cancel(reasons: readonly string[] = []): void {
    if (this.done || !this.tx) return;
    this.done = true;
    this.status = 487;
    try {
      this.env.endpoint.request(buildCancel(this.invite, reasons), this.target, { onResponse: () => {} });
    } catch { /* transaction already gone */ }
  }

  /** ACK for the INVITE's 2xx, carrying the answer of a late offer when there is one. */
  ack(body?: string): void {
    this.lastAckBody = body;
    if (this.dialog) sendAck(this.env, this.dialog, this.invite.cseq.seq, this.target, body);
  }

  bye(): void {
    if (!this.dialog || this.byeSent) return;
    this.byeSent = true;
    sendBye(this.env, this.dialog, this.target);
  }

  /** A 2xx that came when it is no longer wanted (second fork, caller gone): ACK and BYE (§13.2.2.4). */
  refuseAnswer(): void {
    this.ack();
    this.bye();
  }

  hangup(_cause: string): void {
    if (this.dialog && this.status >= 200 && this.status < 300) this.bye();
    else this.cancel();
  }

  /**
   * The call ended: an answered fork's transaction lingers 32 s (Timer M/D) and need not hold
   * the call. A fork still waiting keeps its handler, so a 2xx crossing our CANCEL still gets
   * its ACK and BYE (§13.2.2.4).
   */
  release(): void {
    if (this.tx !== undefined && this.tx.lastStatus >= 200) this.tx.release();
  }

  /** Marks the fork as the one that answered. */
  won(status: number): void {
    this.done = true;
    this.status = status;
  }

  get sipCallId(): string {
    return this.invite.callId;
  }

  snapshot(): LegSnapshot {
    const t = this.target;
    return { id: this.id, kind: this.kind, sipCallId: this.sipCallId, peer: `${t.protocol}:${t.address}:${t.port}`, mediaLegId: this.media.endpoint.id, codec: codecLabel(this.media) };
  }
}
