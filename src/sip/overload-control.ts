/**
 * Overload control for new work at the SIP edge (issue 12): decides, per new INVITE or
 * REGISTER, whether to take it, answer it `503 Service Unavailable` + `Retry-After`
 * (RFC 3261 §21.5.4) or drop it unanswered. In-dialog requests and responses are never asked
 * about: they finish work already accepted (an established call must still end with BYE/200).
 *
 * Signals, sampled every `sampleMs` from an injected {@link LoadProbe}:
 * - **event-loop utilization** (share of wall time the main thread was busy): the saturation
 *   signal. Node reads at most 32 datagrams per socket per loop turn, so a saturated thread
 *   shows little timer lag while the kernel's receive queue (invisible here) grows;
 * - **event-loop lag** (worst timer delay of the sample): long synchronous work, GC, a machine
 *   starved of CPU;
 * - **unanswered INVITEs** (queue depth, read per decision): optional cap.
 *
 * The shed share `p` is an integral controller on utilization: each sample adds
 * `gain × (utilization − target)`, clamped to [0, 1]; while lag is above its limit the share
 * only rises (by `lagStep` at least). It settles where the thread is just below saturation and falls back to 0 within a
 * few samples once the load goes. Which requests are shed follows `p` deterministically (a
 * credit counter, no random numbers): with p = 0.25 every fourth new request is shed.
 * Above `dropLagMs` of lag, new requests are dropped without an answer: the 503 would arrive
 * too late to help and costs a send and the ACK it draws.
 */

/** What the controller reads each sample. */
export interface LoadSample {
  /** Share of the sample's wall time the event loop was busy, 0..1. */
  utilization: number;
  /** Worst event-loop delay seen during the sample, ms. */
  lagMs: number;
}

/** Takes a sample covering the time since the previous call. */
export type LoadProbe = () => LoadSample;

export interface OverloadOptions {
  /** Utilization the controller holds the thread at; 1 or more turns the utilization signal off. Default 0.9. */
  targetUtilization?: number;
  /** Lag above which the shed share rises by `lagStep` per sample; 0 = off. Default 100 ms. */
  maxLagMs?: number;
  /** Lag above which new requests are dropped unanswered; 0 = never drop. Default 1000 ms. */
  dropLagMs?: number;
  /** Unanswered INVITEs above which every new INVITE gets 503; 0 = no cap. Default 0. */
  maxPendingInvites?: number;
  /** Seconds for `Retry-After`. Default 5. */
  retryAfterSeconds?: number;
  /** Default 100 ms. */
  sampleMs?: number;
  /** Shed-share change per unit of utilization error per sample. Default 1. */
  gain?: number;
  /** Shed-share rise per sample while lag is above `maxLagMs`. Default 0.2. */
  lagStep?: number;
}

/** Decision for one new request. */
export type Admission = 'accept' | 'reject' | 'drop';

export interface OverloadCounters {
  /** New requests answered 503 by the controller. */
  rejected: number;
  /** New requests dropped unanswered. */
  dropped: number;
}

export class OverloadControl {
  readonly counters: OverloadCounters = { rejected: 0, dropped: 0 };
  readonly retryAfterSeconds: number;
  readonly sampleMs: number;
  /** Share of new requests shed now, 0..1. */
  shedShare = 0;
  /** The last sample (for metrics and the status page). */
  last: LoadSample = { utilization: 0, lagMs: 0 };
  private readonly target: number;
  private readonly maxLagMs: number;
  private readonly dropLagMs: number;
  private readonly maxPending: number;
  private readonly gain: number;
  private readonly lagStep: number;
  private dropping = false;
  private credit = 0;

  constructor(opts: OverloadOptions = {}) {
    this.target = opts.targetUtilization ?? 0.9;
    this.maxLagMs = opts.maxLagMs ?? 100;
    this.dropLagMs = opts.dropLagMs ?? 1000;
    this.maxPending = opts.maxPendingInvites ?? 0;
    this.retryAfterSeconds = opts.retryAfterSeconds ?? 5;
    this.sampleMs = opts.sampleMs ?? 100;
    this.gain = opts.gain ?? 1;
    this.lagStep = opts.lagStep ?? 0.2;
  }

  /** True while any new request may be shed: the caller's cheap test before looking closer. */
  active(pendingInvites: number): boolean {
    return this.shedShare > 0 || this.dropping || (this.maxPending > 0 && pendingInvites >= this.maxPending);
  }

  /** Feeds one sample: updates the shed share and the drop state. */
  update(s: LoadSample): void {
    this.last = s;
    let p = this.shedShare;
    const error = this.target < 1 ? this.gain * (s.utilization - this.target) : -this.lagStep;
    // While the loop lags the share only rises: a thread starved of CPU may look idle.
    if (this.maxLagMs > 0 && s.lagMs > this.maxLagMs) p += this.lagStep + Math.max(0, error);
    else p += error;
    this.shedShare = p <= 0 ? 0 : p >= 1 ? 1 : p;
    if (this.shedShare === 0) this.credit = 0;
    this.dropping = this.dropLagMs > 0 && s.lagMs > this.dropLagMs;
  }

  /**
   * The decision for one new INVITE (`invite` true) or REGISTER; counts what it sheds.
   * `pendingInvites`: unanswered INVITE transactions now.
   */
  admit(invite: boolean, pendingInvites: number): Admission {
    if (this.dropping) { this.counters.dropped++; return 'drop'; }
    if (invite && this.maxPending > 0 && pendingInvites >= this.maxPending) { this.counters.rejected++; return 'reject'; }
    this.credit += this.shedShare;
    // The tolerance keeps p = 0.25 at exactly one in four despite rounding (0.2499…).
    if (this.credit < 1 - 1e-9) return 'accept';
    this.credit -= 1;
    this.counters.rejected++;
    return 'reject';
  }
}
