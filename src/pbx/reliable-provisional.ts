/**
 * Reliable provisional responses on the caller's leg (RFC 3262 §3): each carries RSeq and
 * Require: 100rel, is retransmitted (T1 doubling) until its PRACK arrives, and only one is
 * outstanding at a time — a later one waits, and a later one without SDP is simply dropped
 * (a second "ringing" adds nothing).
 */
import { randomInt } from 'node:crypto';
import type { SipMessage } from '../sip/message.ts';
import { clearTimer, realTimers, type TimerHandle, type Timers } from './call-timers.ts';

export interface ReliableProvisionalOptions {
  t1: number;
  /** Sends (or re-sends) a provisional response to the caller. */
  send(msg: SipMessage): void;
  /** No PRACK after 64*T1 (§3: the UAS SHOULD then reject the request with a 5xx). */
  onTimeout(): void;
  /** Default: Node's timers. */
  timers?: Timers;
}

interface Pending {
  msg: SipMessage;
  rseq: number;
  timer: TimerHandle;
}

export class ReliableProvisionals {
  /** §3: the first RSeq is random between 1 and 2^31 - 1. */
  private rseq = randomInt(1, 2 ** 31 - 1);
  private pending: Pending | undefined;
  private waiting: ((headers: Record<string, string>) => SipMessage) | undefined;

  private readonly timers: Timers;

  constructor(private readonly o: ReliableProvisionalOptions) {
    this.timers = o.timers ?? realTimers;
  }

  /** True while a reliable provisional waits for its PRACK. */
  get busy(): boolean {
    return this.pending !== undefined;
  }

  /**
   * Sends a provisional built by `build` with RSeq and Require: 100rel, now or once the one in
   * flight is acknowledged. `essential` ones (carrying SDP) are queued; others are dropped when busy.
   */
  provisional(build: (headers: Record<string, string>) => SipMessage, essential: boolean): void {
    if (this.pending) {
      if (essential) this.waiting = build;
      return;
    }
    const rseq = ++this.rseq;
    const msg = build({ Require: '100rel', RSeq: String(rseq) });
    let interval = this.o.t1;
    let elapsed = 0;
    const limit = 64 * this.o.t1;
    let wait = interval;
    const tick = () => {
      elapsed += wait;
      if (elapsed >= limit) { this.stop(); this.o.onTimeout(); return; }
      this.o.send(msg);
      interval *= 2;
      wait = Math.min(interval, limit - elapsed);
      if (this.pending) this.pending.timer = this.timers.setTimeout(tick, wait);
    };
    this.pending = { msg, rseq, timer: this.timers.setTimeout(tick, wait) };
  }

  /** A PRACK's RAck ("rseq cseq method", §7.2): true when it acknowledges the pending one. */
  prack(rack: string | null, inviteCseq: number): boolean {
    const m = rack ? /^\s*(\d+)\s+(\d+)\s+INVITE\s*$/i.exec(rack) : null;
    const p = this.pending;
    if (!m || !p || Number(m[1]) !== p.rseq || Number(m[2]) !== inviteCseq) return false;
    clearTimer(this.timers, p.timer);
    this.pending = undefined;
    const next = this.waiting;
    this.waiting = undefined;
    if (next) this.provisional(next, true);
    return true;
  }

  /** The final response went out (or the call ended): no more retransmissions. */
  stop(): void {
    if (this.pending) clearTimer(this.timers, this.pending.timer);
    this.pending = undefined;
    this.waiting = undefined;
  }
}
