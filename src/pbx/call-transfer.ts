/**
 * Call transfer: a phone's REFER inside a call (RFC 3515, blind per RFC 5589 §6) and the API's
 * blind and attended transfers. Each rings the target with a `TransferAttempt` while the call
 * goes on, then swaps: the kept party's endpoint is bridged with the target's (we anchor media,
 * so the kept party's own SDP with us does not change and needs no re-INVITE; the engine
 * transcodes when codecs differ), the target's leg takes the transferor's side of the `Call`,
 * and the transferor's leg is let go.
 *
 * Behaviour:
 * - REFER from party X of an answered call: 202 (with `Refer-Sub: false` when asked,
 *   RFC 4488), NOTIFY `100 Trying`, one NOTIFY per provisional of the target, and a final
 *   NOTIFY with the target's final status (`Subscription-State: terminated`). The target is
 *   routed as if X dialled it. On success X is detached: its BYE is answered, or we BYE it after
 *   `graceMs` (RFC 5589 §6.1 leaves the BYE to the transferor). On failure the call goes on.
 *   A `Replaces` in the Refer-To (attended transfer, RFC 5589 §7) joins the other party with
 *   the party of the consultation call it names (`attended`).
 * - API (`transfer`): the callee side is replaced; the caller is kept. `blind`: the callee is
 *   hung up at once and the caller is connected to the target when it answers; if the target
 *   fails the call ends `transfer_failed`. `attended`: the parties keep talking while the
 *   target rings; on answer the callee is hung up; on failure (or `cancel`) the call goes on.
 * - CDRs: the pairing before the swap gets its CDR with hangup_cause `transferred` (hangup_by
 *   the transferor's side, or `api`); the continuing call gets its own CDR under a new
 *   `call_id` (`<call id>-t<n>`) whose caller is the kept party and callee the target. The
 *   call keeps its API id.
 */
import type { Logger } from 'pino';
import type { IncomingRequest } from '../sip/endpoint.ts';
import { dialogKey } from '../sip/dialog.ts';
import { ReferNotifier, createReferNotify, referAcceptance, referToOfRequest, replacesDecision, replacesDialogKey, SipReferError, type Replaces, type ReferNotify, type ReferTo } from '../sip/index.ts';
import type { CdrHangupBy, NewCdr } from '../store/cdrs.ts';
import type { Call } from './call.ts';
import { clearTimer, type TimerHandle } from './call-timers.ts';
import { contactFor, type SipLegEnv, type SipParty } from './leg-sip.ts';
import type { SipUacLeg } from './leg-sip-uac.ts';
import { TransferAttempt, type RingResult, type TransferEnv } from './call-transfer-attempt.ts';

export type { TransferEnv, RingResult };
export type TransferType = 'blind' | 'attended';

type Party = SipParty;

/** The device a transfer leg rang, null for a trunk. */
const deviceOf = (leg: SipUacLeg): number | null => (leg.callTarget?.kind === 'contact' ? leg.callTarget.deviceId : null);

/** Why an API transfer could not start. */
export type TransferRefusal = 'not_answered' | 'pending';

export interface TransferOptions {
  /** How long a transferor may keep its leg after the final NOTIFY before we BYE it. Default 2000 ms. */
  graceMs?: number;
}

/** The user part of a transfer target given as a number or a `sip:`/`tel:` URI; null when unusable. */
export function transferTargetUser(target: string): string | null {
  const t = target.trim();
  const m = /^(?:sips?:)([^@;?>]+)@/i.exec(t) ?? /^tel:([^;?]+)/i.exec(t);
  const user = m ? decodeURIComponent(m[1]!) : /^[^:@\s]+$/.test(t) ? t : null;
  return user && user.length <= 64 && !/[\s<>"]/.test(user) ? user : null;
}

export class CallTransfers {
  private readonly pending = new Map<string, TransferAttempt>();
  /** Transferors' dialogs after the swap, until their BYE or ours (by dialog key). */
  private readonly detached = new Map<string, { leg: Party; timer: TimerHandle }>();
  private readonly log: Logger;
  private seq = 0;

  constructor(private readonly env: TransferEnv, private readonly opts: TransferOptions = {}) {
    this.log = env.logger.child({ component: 'transfer' });
  }

  /** A transfer of this call is ringing its target. */
  isPending(callId: string): boolean {
    return this.pending.has(callId);
  }

  /** REFER inside one of `call`'s dialogs, from the party on `side`. */
  async refer(call: Call, side: 'a' | 'b', r: IncomingRequest): Promise<void> {
    const x = side === 'a' ? call.partyA : call.partyB;
    if (call.state !== 'answered' || !x?.dialog || !x.target) { r.reply(481, 'Call/Transaction Does Not Exist'); return; }
    if (this.pending.has(call.id)) { r.reply(491, 'Request Pending'); return; }
    let referTo: ReferTo;
    let acceptance;
    try {
      referTo = referToOfRequest(r.msg);
      acceptance = referAcceptance(r.msg);
    } catch (err) {
      if (err instanceof SipReferError) { r.reply(400, 'Bad Request', { headers: { Warning: `399 strowger "${err.message.replace(/["\\]/g, '')}"` } }); return; }
      throw err;
    }
    if (referTo.method !== 'INVITE') { r.reply(403, 'Forbidden (only INVITE can be referred)'); return; }
    const user = referTo.target.user ?? (referTo.target.scheme === 'tel' ? referTo.target.opaque : null);
    if (!user) { r.reply(404, 'Not Found'); return; }
    r.reply(202, 'Accepted', { headers: Object.fromEntries(acceptance.headers) });
    const dialog = x.dialog;
    const target = x.target;
    const legEnv: SipLegEnv = { endpoint: this.env.endpoint, timers: this.env.timers, t1: this.env.t1, log: this.log, advertise: this.env.advertise };
    const notifier = new ReferNotifier({ referCseq: r.msg.cseq.seq, subscribe: acceptance.subscribe, clock: this.env.timers });
    // NOTIFYs go in the REFER's dialog (RFC 3515 §2.4.4), one at a time in CSeq order.
    const notify = (n: ReferNotify | null) => {
      if (!n) return;
      try {
        this.env.endpoint.request(createReferNotify(dialog, n, contactFor(legEnv, target)), target, { onResponse: () => {} });
      } catch (err) {
        this.log.warn({ err }, 'transfer: NOTIFY not sent');
      }
    };
    notify(notifier.start());
    if (referTo.replaces) { await this.attended(call, side, referTo.replaces, (s, reason) => notify(notifier.progress(s, reason))); return; }
    const referredBy = r.msg.getHeader('referred-by');
    const keep = side === 'a' ? 'b' : 'a';
    this.log.info({ call: call.id, from: side, to: user }, 'transfer: REFER accepted');
    const result = await this.ring(call, keep, side, user, (s) => notify(notifier.progress(s)), referredBy ? { 'Referred-By': referredBy } : {});
    if (!result.ok) {
      this.log.info({ call: call.id, status: result.status }, 'transfer: target failed; the call goes on');
      notify(notifier.progress(result.status, result.reason));
      return;
    }
    let old: Party;
    try {
      old = await this.swap(call, side, result.leg, { name: user, deviceId: deviceOf(result.leg) }, side === 'a' ? 'caller' : 'callee');
    } catch (err) {
      this.log.error({ err, call: call.id }, 'transfer: swap failed; the call goes on');
      result.leg.bye();
      void this.env.media.releaseLeg(result.leg.media.endpoint.id).catch(() => {});
      notify(notifier.progress(500, 'Server Internal Error'));
      return;
    }
    notify(notifier.progress(200, 'OK'));
    this.detach(old, this.opts.graceMs ?? 2000);
  }

  /**
   * Attended transfer by REFER (RFC 5589 §7): X talks to Y in `call` and to Z in the call
   * whose dialog with X the Replaces names (as we see it: to-tag ours, from-tag X's, RFC 3891
   * §3). Y's endpoint is bridged with Z's, Z's leg moves into `call` in X's place, X's legs
   * of both calls are let go (BYE in the consultation call now; in this one after the grace).
   * The consultation call's CDR ends `transferred`. Either of them may have placed the
   * consultation call (Z is then its callee or its caller), and the two calls' legs may live
   * in different media workers (the engine links them).
   */
  private async attended(call: Call, side: 'a' | 'b', replaces: Replaces, final: (status: number, reason?: string) => void): Promise<void> {
    const hit = this.env.findDialog(replacesDialogKey(replaces));
    const decision = replacesDecision(replaces, hit && hit.call !== call ? { state: hit.call.state === 'answered' ? 'confirmed' : hit.call.state === 'ended' ? 'terminated' : 'early', initiatedLocally: hit.side === 'b' } : null);
    if (decision !== 0 || !hit || hit.call.state !== 'answered') { final(decision || 481); return; }
    const consult = hit.call;
    const zSide = hit.side === 'a' ? 'b' : 'a';
    const zName = zSide === 'b' ? consult.origin.callee : consult.origin.caller;
    const zDevice = (zSide === 'b' ? consult.callStart().callee_device_id : consult.origin.callerDeviceId) ?? null;
    const z = consult.handOver(zSide, hit.side === 'a' ? 'caller' : 'callee');
    if (!z) { final(481); return; }
    this.log.info({ call: call.id, consult: consult.id, to: zName }, 'transfer: attended (Replaces)');
    let old: Party;
    try {
      old = await this.swap(call, side, z, { name: zName, deviceId: zDevice }, side === 'a' ? 'caller' : 'callee');
    } catch (err) {
      // Z is let go too: the consultation call is over already.
      this.log.error({ err, call: call.id }, 'transfer: attended swap failed');
      z.bye();
      void this.env.media.releaseLeg(z.media.endpoint.id).catch(() => {});
      final(500, 'Server Internal Error');
      return;
    }
    final(200, 'OK');
    this.detach(old, this.opts.graceMs ?? 2000);
  }

  /**
   * API transfer of `call`'s callee side to `target` (the caller is kept). Resolves when the
   * target answered (the call now connects caller and target) or failed (`blind`: the call is
   * ended `transfer_failed`; `attended`: it goes on). A refusal is returned before anything rings.
   */
  async transfer(call: Call, target: string, type: TransferType): Promise<RingResult | { refused: TransferRefusal }> {
    if (call.state !== 'answered' || !call.partyB) return { refused: 'not_answered' };
    if (this.pending.has(call.id)) return { refused: 'pending' };
    if (type === 'blind') {
      // The callee goes now; a BYE of its own crossing ours is answered by `byeDetached`.
      const callee = call.partyB;
      callee.bye();
      if (callee.dialog) this.detach(callee, 0, false);
    }
    const result = await this.ring(call, 'a', null, target, () => {});
    if (!result.ok) {
      if (type === 'blind' && (call.state as string) !== 'ended') call.hangup('system', 'transfer_failed');
      return result;
    }
    const old = await this.swap(call, 'b', result.leg, { name: target, deviceId: deviceOf(result.leg) }, 'api');
    if (type === 'attended') old.bye();
    return result;
  }

  /** Cancels the pending transfer of `callId` (CANCEL to the target). False when none. */
  cancel(callId: string): boolean {
    const attempt = this.pending.get(callId);
    if (!attempt) return false;
    attempt.cancel();
    return true;
  }

  /** A call ended: its pending transfer stops ringing. */
  callEnded(call: Call): void {
    this.pending.get(call.id)?.cancel();
  }

  /** BYE in a transferor's detached dialog: answered 200 here (true), else false. */
  byeDetached(r: IncomingRequest): boolean {
    const key = dialogKey(r.msg.callId, r.msg.toTag ?? '', r.msg.fromTag ?? '');
    const d = this.detached.get(key);
    if (!d) return false;
    clearTimer(this.env.timers, d.timer);
    this.detached.delete(key);
    r.reply(200, 'OK');
    return true;
  }

  private async ring(call: Call, keep: 'a' | 'b', routeAs: 'a' | 'b' | null, target: string, progress: (s: number) => void, headers: Record<string, string> = {}): Promise<RingResult> {
    const attempt = new TransferAttempt(this.env, call, keep, routeAs, target, progress, headers);
    this.pending.set(call.id, attempt);
    void attempt.start();
    const result = await attempt.result;
    this.pending.delete(call.id);
    if (result.ok && call.state !== 'answered') {
      // The kept party hung up while the target was answering.
      result.leg.bye();
      void this.env.media.releaseLeg(result.leg.media.endpoint.id).catch(() => {});
      return { ok: false, status: 487, reason: 'Request Terminated' };
    }
    return result;
  }

  /**
   * The target answered: bridge the kept party with it, put its leg on the transferor's side,
   * write the CDR of the pairing before (hangup cause `cause`). Returns the transferor's leg
   * (not hung up). Also the swap of an INVITE with Replaces (`call-replaces.ts`).
   */
  async swap(call: Call, xSide: 'a' | 'b', leg: Party, target: { name: string; deviceId: number | null }, by: CdrHangupBy, cause = 'transferred'): Promise<Party> {
    const kept = xSide === 'a' ? call.partyB! : call.partyA;
    await this.env.media.bridge(kept.media.endpoint.id, leg.media.endpoint.id);
    const now = this.env.timers.now();
    const before = call.callStart();
    const cdr: NewCdr = { ...before, end_time: new Date(now).toISOString(), disposition: 'answered', hangup_cause: cause, hangup_by: by, sip_code: 200 };
    const old = call.replaceParty(xSide, leg);
    if (xSide === 'a') {
      call.origin.caller = call.origin.callee;
      call.origin.callerDeviceId = before.callee_device_id ?? null;
    }
    call.origin.callee = target.name;
    call.origin.calleeDeviceId = target.deviceId;
    call.answeredAt = now;
    call.cdrId = `${call.id}-t${++this.seq}`;
    await this.env.swapped(call, cdr, old.media.endpoint.id, leg.media.endpoint.id);
    this.log.info({ call: call.id, side: xSide, to: target.name, cdr: call.cdrId }, 'transfer: parties swapped');
    return old;
  }

  /** Lets the transferor go: its BYE is answered; after `graceMs` we send ours (when `byeLater`). */
  private detach(leg: Party, graceMs: number, byeLater = true): void {
    const key = leg.dialog?.key;
    if (!key) { if (byeLater) leg.bye(); return; }
    const timer = this.env.timers.setTimeout(() => {
      this.detached.delete(key);
      if (byeLater) leg.bye();
    }, byeLater ? graceMs : 32_000);
    this.detached.set(key, { leg, timer });
  }
}
