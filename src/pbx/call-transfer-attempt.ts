/**
 * One transfer attempt: a new leg towards the transfer target, ringing while the call goes on.
 * The target is routed like a dialled number (blocklist, DND, a device's contacts or the
 * trunk); its media endpoint is created next to the kept party's endpoint (same worker, so the
 * two can be bridged) and offered the kept party's codec first (`call-transfer-sdp.ts`). Forks
 * share that endpoint; the first 2xx wins and the others are cancelled, as for a call.
 * The attempt only rings: swapping the parties is `call-transfer.ts`'s job.
 */
import type { Logger } from 'pino';
import { addressFamily } from '../sip/endpoint.ts';
import type { SipMessage } from '../sip/message.ts';
import type { SendTarget, TransportProtocol } from '../sip/transport-types.ts';
import { randomCallId, randomTag } from '../sip/message-build.ts';
import { COMPLETED_ELSEWHERE } from '../sip/header-reason.ts';
import { reasonPhrase } from '../sip/message-reasons.ts';
import type { MediaEngine } from '../media/media-engine.ts';
import type { NewCdr } from '../store/cdrs.ts';
import type { Call } from './call.ts';
import type { CallTarget, RouteDecision } from './call-router.ts';
import { clearTimer, type Timers, type TimerHandle } from './call-timers.ts';
import { createLegMedia, type LegMedia } from './anchor-sdp.ts';
import type { CallEndpoint, SipLegEnv } from './leg-sip.ts';
import { SipUacLeg } from './leg-sip-uac.ts';
import { buildOutgoingInvite } from './outgoing-invite.ts';
import { anchorTransferAnswer, transferOffer } from './call-transfer-sdp.ts';

/** What transfers need of the PBX around them (given by the B2BUA; faked in unit tests). */
export interface TransferEnv {
  endpoint: CallEndpoint;
  media: Pick<MediaEngine, 'createLeg' | 'bridge' | 'releaseLeg' | 'setRemote' | 'setCodec' | 'setSrtp'>;
  timers: Timers;
  logger: Logger;
  domain: string;
  t1: number;
  advertise(protocol: TransportProtocol, family?: 4 | 6): { host: string; port: number };
  /**
   * Routes `dialed` as if the party on `side` of `call` dialled it (same blocklist, DND and
   * routing rules as its own calls); `side` null: as the PBX itself (API transfers).
   */
  route(dialed: string, call: Call, side: 'a' | 'b' | null): Promise<RouteDecision>;
  sendTargetsFor(target: CallTarget): Promise<SendTarget[]>;
  trunkCredentials(trunkId: number): Promise<{ username: string; password: string } | undefined>;
  /**
   * The parties were swapped: write `cdr` (the pairing before the transfer, journalled), open
   * the continuing call's journal row (`call.cdrId` is new), and move the media index from
   * `oldLegId` (released here) to `newLegId`.
   */
  swapped(call: Call, cdr: NewCdr, oldLegId: number, newLegId: number): Promise<void>;
  /** The call and side a dialog key (`Dialog.key`) belongs to, for Replaces (RFC 3891 §3). */
  findDialog(key: string): { call: Call; side: 'a' | 'b' } | undefined;
}

export type RingResult = { ok: true; leg: SipUacLeg } | { ok: false; status: number; reason: string };

/** Response preference when every fork failed (RFC 3261 §16.7 step 6, as `call.ts`). */
function rank(s: number): number {
  return s >= 600 ? 0 : s === 486 ? 1 : s >= 300 && s < 400 ? 2 : s === 408 || s === 480 || s === 487 ? 5 : s >= 500 ? 4 : 3;
}

export class TransferAttempt {
  /** Settles once: the winning leg (answered, ACKed, its answer anchored) or the failure. */
  readonly result: Promise<RingResult>;
  private resolve!: (r: RingResult) => void;
  private over = false;
  private readonly forks: SipUacLeg[] = [];
  private targets = 0;
  private winner: SipUacLeg | undefined;
  private timer: TimerHandle | undefined;
  private media: LegMedia | undefined;
  private readonly log: Logger;

  /**
   * @param keep the side of `call` that stays and will talk to the target.
   * @param routeAs whose dialling rules apply (the transferor's side; null for the API).
   * @param progress each provisional status of the target (180, 183).
   */
  constructor(
    private readonly env: TransferEnv,
    readonly call: Call,
    readonly keep: 'a' | 'b',
    private readonly routeAs: 'a' | 'b' | null,
    readonly target: string,
    private readonly progress: (status: number) => void,
    private readonly extraHeaders: Record<string, string> = {},
  ) {
    this.result = new Promise((r) => { this.resolve = r; });
    this.log = env.logger.child({ call: call.id, transfer_to: target });
  }

  /** Routes and rings; never throws (failures settle `result`). */
  async start(): Promise<void> {
    try {
      await this.ring();
    } catch (err) {
      this.log.warn({ err }, 'transfer: attempt failed');
      this.finish({ ok: false, status: 500, reason: 'Server Internal Error' });
    }
  }

  private async ring(): Promise<void> {
    const decision = await this.env.route(this.target, this.call, this.routeAs);
    if (this.over) return;
    if (decision.kind === 'reject') { this.finish({ ok: false, status: decision.status, reason: decision.reason }); return; }
    const kept = this.keep === 'a' ? this.call.partyA : this.call.partyB;
    if (!kept) { this.finish({ ok: false, status: 481, reason: 'Call/Transaction Does Not Exist' }); return; }
    const sendTargets = await Promise.all(decision.targets.map((t) => this.env.sendTargetsFor(t)));
    const info = await this.env.media.createLeg({ near: kept.media.endpoint.id, family: addressFamily(sendTargets[0]![0]!.address) });
    const media = createLegMedia(info);
    this.media = media;
    if (this.over) { void this.env.media.releaseLeg(info.id).catch(() => {}); return; }
    const body = transferOffer(kept.media, media);
    const callId = randomCallId();
    const fromTag = randomTag();
    const display = this.keep === 'a' ? this.call.origin.caller : this.call.origin.callee;
    this.targets = decision.targets.length;
    this.timer = this.env.timers.setTimeout(() => this.giveUp(), decision.ringTimeoutMs);
    const legEnv: SipLegEnv = { endpoint: this.env.endpoint, timers: this.env.timers, t1: this.env.t1, log: this.log, advertise: this.env.advertise };
    this.log.info({ targets: decision.targets.length }, 'transfer: ringing the target');
    decision.targets.forEach((target, i) => {
      const to = sendTargets[i]!;
      const leg = new SipUacLeg(legEnv, {
        provisional: (_l, res) => { if (!this.over) this.progress(res.status); },
        answered: (l, res) => { void this.onAnswered(l, res); },
        failed: () => this.onForkFailed(),
      }, media, {
        target, sendTargets: to, body,
        buildInvite: (cseq, b, at) => this.buildInvite(target, at, b, cseq, callId, fromTag, display),
        trunkCredentials: (id) => this.env.trunkCredentials(id),
      });
      this.forks.push(leg);
      leg.send();
    });
  }

  private buildInvite(target: CallTarget, to: SendTarget, body: string | undefined, cseq: number, callId: string, fromTag: string, user: string): SipMessage {
    return buildOutgoingInvite({
      legEnv: this.env, domain: this.env.domain, destination: { kind: 'routed', target }, callId, fromTag, fromUser: user, headers: this.extraHeaders,
    }, to, body, cseq);
  }

  private async onAnswered(leg: SipUacLeg, res: SipMessage): Promise<void> {
    if (this.winner === leg) { leg.ack(); return; } // 2xx retransmission
    if (this.over || !this.media) { leg.refuseAnswer(); leg.release(); return; }
    this.winner = leg;
    leg.won(res.status);
    for (const f of this.forks) if (f !== leg) f.cancel([COMPLETED_ELSEWHERE]);
    clearTimer(this.env.timers, this.timer);
    leg.ack();
    try {
      await anchorTransferAnswer(this.env.media, res.body, this.media);
    } catch (err) {
      this.log.info({ err: (err as Error).message }, 'transfer: unusable answer from the target');
      leg.bye();
      this.finish({ ok: false, status: 488, reason: 'Not Acceptable Here' });
      return;
    }
    if (this.over) { leg.bye(); return; }
    this.over = true;
    this.resolve({ ok: true, leg });
  }

  private onForkFailed(): void {
    if (this.over || this.winner) return;
    if (this.forks.length < this.targets || !this.forks.every((f) => f.done)) return;
    let best = 0;
    for (const f of this.forks) best = best === 0 || rank(f.status) < rank(best) ? f.status : best;
    const status = best || 480;
    this.finish({ ok: false, status, reason: reasonPhrase(status) });
  }

  private giveUp(): void {
    if (this.over || this.winner) return;
    this.log.info('transfer: the target did not answer');
    for (const f of this.forks) f.cancel();
    this.finish({ ok: false, status: 408, reason: 'Request Timeout' });
  }

  /** Stops ringing (CANCEL to the target, §9.1); `result` settles with `status`. */
  cancel(status = 487, reason = 'Request Terminated'): void {
    if (this.over) return;
    if (this.winner) { this.winner.bye(); }
    for (const f of this.forks) f.cancel();
    this.finish({ ok: false, status, reason });
  }

  private finish(r: RingResult): void {
    if (this.over) return;
    this.over = true;
    clearTimer(this.env.timers, this.timer);
    if (!r.ok && this.media) void this.env.media.releaseLeg(this.media.endpoint.id).catch(() => {});
    for (const f of this.forks) if (f !== this.winner) f.release();
    this.resolve(r);
  }
}
