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
 * - **waiting INVITEs** (queue depth, read per decision): INVITEs taken that have had no answer
 *   beyond `100 Trying` yet, i.e. calls waiting for the system rather than for a person (a
 *   ringing phone's 180 ends the wait). A cap; it also sees a slow far end. The cap follows the
 *   measured rate at which INVITEs leave that queue (CoDel's idea: bound the time a request
 *   waits, not the number waiting): `progressed/s × targetWaitMs`, between `minPendingInvites`
 *   and `maxPendingInvites`; the rate rises fast and falls slowly (a short stall is no new rate). Under overload the queue never empties, so that rate is what the
 *   system can serve and the cap holds the setup time near `targetWaitMs`; by Little's law a
 *   fixed cap of 1,000 at 500 calls/s made every admitted call wait 2 s. Again as CoDel, the
 *   adaptive cap sheds only a **standing** queue: one whose lowest depth stayed at or above
 *   the cap for `standingMs` (then until that low-water mark falls under half the cap). A burst
 *   after a stall (GC, JIT warm-up, a machine busy elsewhere) that the system drains within
 *   `standingMs` is served, not shed; `maxPendingInvites` stays a hard cap that sheds at once.
 *
 * The shed share `p` is an integral controller on utilization: each sample adds
 * `gain × (u − target)`, where u is the utilization smoothed over a few samples (EWMA,
 * `smoothing` per sample: one 100 ms sample is noisy, ±0.2 on a busy machine), clamped to
 * [0, `maxShare`]. The target is near 1 on purpose: a thread with idle time left still answers
 * promptly, so only a pegged thread sheds; as utilization cannot exceed 1, the share rises by
 * at most `gain × (1 − target)` per sample and falls fast once there is idle time again.
 * `maxShare` < 1 keeps some new work coming in: a thread starved of CPU by other processes
 * reads as busy whatever it sheds, and shedding everything would be a self-made outage.
 * While lag is above its limit (and u is at least 80 % of the target: lag on a machine
 * starved by other processes is not ours to shed) the share only rises, by `lagStep` at
 * least, and with a pegged thread may reach 1. Which requests are shed follows `p`
 * deterministically (a credit counter, no random numbers): at p = 0.25 every fourth.
 * Clients retransmitting (more than `maxRetransmitted` per new request, smoothed) raise the
 * share the same way, up to `maxShare`: a sign of a queue that a thread starved by other
 * processes still shows, but a late one (clients resend after 500 ms). The early one is the
 * queue itself: a **queue delay** (the time a datagram waits before it is read, measured by
 * `queue-delay-probe.ts`, lowest of the sample: a standing queue, CoDel's sojourn time)
 * above `targetQueueDelayMs` raises the share like lag does, by `lagStep` per target's worth of
 * excess, whoever is to blame for it, up to `maxShare` (never all: answering 503s is work
 * too, and at a share of 1 a queue of 503s could stand for ever with nothing served).
 * Utilization cannot see such a queue when other processes take the CPU, nor can the
 * retransmission count when the requests are challenged without a transaction.
 * The share falls by at most `maxDecrease` per sample.
 * Above `dropLagMs` of lag (same condition), new requests are dropped without an answer: the
 * 503 would arrive too late to help and costs a send and the ACK it draws.
 */

/** What the controller reads each sample. */
export interface LoadSample {
  /** Share of the sample's wall time the event loop was busy, 0..1. */
  utilization: number;
  /** Worst event-loop delay seen during the sample, ms. */
  lagMs: number;
  /**
   * Retransmitted requests received per new request during the sample (UDP clients resend
   * after 500 ms without an answer): a direct sign that answers queue, whatever the cause.
   */
  retransmitted?: number;
  /** INVITEs that left the waiting queue (first answer beyond 100, or ended) during the sample. */
  progressed?: number;
  /** Lowest depth of the waiting queue during the sample (absent: the depth is not sampled, and the adaptive cap applies at once). */
  standing?: number;
  /** Time a datagram waited before it was read, lowest of the sample, ms (absent: not measured). */
  queueDelayMs?: number;
}

/** Takes a sample covering the time since the previous call. */
export type LoadProbe = () => LoadSample;

export interface OverloadOptions {
  /** Utilization the controller holds the thread at; 1 or more turns the utilization signal off. Default 0.97. */
  targetUtilization?: number;
  /** Lag above which the shed share rises by `lagStep` per sample; 0 = off. Default 100 ms. */
  maxLagMs?: number;
  /** Lag above which new requests are dropped unanswered; 0 = never drop. Default 1000 ms. */
  dropLagMs?: number;
  /** Waiting INVITEs at which every new INVITE gets 503 whatever the measured rate; 0 = no cap. Default 0 (the server config sets 1,000). */
  maxPendingInvites?: number;
  /**
   * Time an INVITE may wait for its first answer beyond 100 (ms): the cap is the measured
   * progress rate times this, at least `minPendingInvites`, at most `maxPendingInvites`. 0 = fixed
   * cap (`maxPendingInvites`). Default 0 (the server config sets 200).
   */
  targetWaitMs?: number;
  /** Lowest adaptive cap: a burst on an idle server, whose rate reads near 0, still gets in. Default 100 (the server config sets 200). */
  minPendingInvites?: number;
  /**
   * How long the waiting queue's lowest depth must stay at or above the adaptive cap before
   * the cap sheds (ms, whole samples); 0 = shed as soon as the depth reaches the cap. Default 0
   * (the server config sets 300).
   */
  standingMs?: number;
  /** Seconds for `Retry-After`. Default 5. */
  retryAfterSeconds?: number;
  /** Default 100 ms. */
  sampleMs?: number;
  /** Shed-share change per unit of utilization error per sample. Default 3. */
  gain?: number;
  /** Shed-share rise per sample while lag is above `maxLagMs`. Default 0.05. */
  lagStep?: number;
  /** Weight of a new utilization sample in the moving average (1 = no smoothing). Default 0.5. */
  smoothing?: number;
  /** Highest share utilization alone may shed. Default 0.95. */
  maxShare?: number;
  /** Retransmissions per new request (smoothed like utilization) above which the share rises like for lag; 0 = off. Default 0.1. */
  maxRetransmitted?: number;
  /** Largest fall of the share per sample. Default 0.1 (from 95 % to nothing in a second). */
  maxDecrease?: number;
  /**
   * Queue delay above which the share rises (by `lagStep` per target's worth of excess), and
   * REGISTERs answering a challenge are spared; 0 = off. Default 0, in the server config too
   * (bench/README.md, wave 2 session 18: what it gains and costs; 200 is the setting measured).
   */
  targetQueueDelayMs?: number;
}

/** Largest fall of the measured progress rate per sample (to 60 % in a second at 100 ms). */
const RATE_DECAY = 0.05;

/** Lag counts when smoothed utilization is at least this share of the target. */
const LAG_UTILIZATION_SHARE = 0.8;

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
  private readonly minPending: number;
  private readonly targetWaitMs: number;
  /** INVITEs leaving the waiting queue per second, smoothed. */
  private progressRate = 0;
  /** Waiting INVITEs at which new ones get 503 now (0 = none). */
  pendingCap: number;
  /** The adaptive cap sheds now: the queue has stood at the cap for `standingMs`. */
  capShedding: boolean;
  private readonly standingSamples: number;
  /** Consecutive samples whose lowest queue depth was at or above the cap. */
  private standingFor = 0;
  private readonly gain: number;
  private readonly lagStep: number;
  private readonly smoothing: number;
  private readonly maxShare: number;
  private readonly maxRetransmitted: number;
  private readonly maxDecrease: number;
  private readonly targetQueueDelayMs: number;
  /** Smoothed utilization and retransmission ratio. */
  private utilization = 0;
  private retransmitted = 0;
  private dropping = false;
  private credit = 0;
  /** The previous sample's queue delay, ms. */
  private lastDelay = 0;

  constructor(opts: OverloadOptions = {}) {
    this.target = opts.targetUtilization ?? 0.97;
    this.maxLagMs = opts.maxLagMs ?? 100;
    this.dropLagMs = opts.dropLagMs ?? 1000;
    this.maxPending = opts.maxPendingInvites ?? 0;
    this.targetWaitMs = opts.targetWaitMs ?? 0;
    this.minPending = Math.min(opts.minPendingInvites ?? 100, this.maxPending > 0 ? this.maxPending : Infinity);
    this.pendingCap = this.targetWaitMs > 0 ? this.minPending : this.maxPending;
    this.sampleMs = opts.sampleMs ?? 100;
    this.standingSamples = this.targetWaitMs > 0 ? Math.ceil((opts.standingMs ?? 0) / this.sampleMs) : 0;
    this.capShedding = this.standingSamples === 0;
    this.retryAfterSeconds = opts.retryAfterSeconds ?? 5;
    this.gain = opts.gain ?? 3;
    this.lagStep = opts.lagStep ?? 0.05;
    this.smoothing = opts.smoothing ?? 0.5;
    this.maxShare = opts.maxShare ?? 0.95;
    this.maxRetransmitted = opts.maxRetransmitted ?? 0.1;
    this.maxDecrease = opts.maxDecrease ?? 0.1;
    this.targetQueueDelayMs = opts.targetQueueDelayMs ?? 0;
  }

  /** True while any new request may be shed: the caller's cheap test before looking closer. */
  active(pendingInvites: number): boolean {
    return this.shedShare > 0 || this.dropping || this.capped(pendingInvites);
  }

  /** The queue cap refuses a new INVITE now: the adaptive cap while it sheds, the hard cap always. */
  private capped(pendingInvites: number): boolean {
    if (this.pendingCap === 0 || pendingInvites < this.pendingCap) return false;
    return this.capShedding || (this.maxPending > 0 && pendingInvites >= this.maxPending);
  }

  /** Feeds one sample: updates the shed share and the drop state. */
  update(s: LoadSample): void {
    this.last = s;
    this.utilization += this.smoothing * (s.utilization - this.utilization);
    let p = this.shedShare;
    const error = this.target < 1 ? this.gain * (this.utilization - this.target) : -this.lagStep;
    // Lag is ours to shed only while the loop is mostly busy with our own work: on a machine
    // starved by other processes the timers run late whatever we take in.
    const ours = this.utilization >= LAG_UTILIZATION_SHARE * Math.min(1, this.target);
    let max = this.maxShare;
    this.retransmitted += this.smoothing * ((s.retransmitted ?? 0) - this.retransmitted);
    const lagging = ours && this.maxLagMs > 0 && s.lagMs > this.maxLagMs;
    const delay = s.queueDelayMs ?? 0;
    const queueing = this.targetQueueDelayMs > 0 && delay > this.targetQueueDelayMs;
    const resending = this.maxRetransmitted > 0 && this.retransmitted > this.maxRetransmitted;
    if (lagging || queueing || resending) {
      // While our loop lags, requests queue or clients resend, the share only rises; with a
      // lagging, pegged loop it may reach 1. A queue raises it in proportion to its excess
      // over the target: a short one after a stall (JIT, GC, a burst) sheds little, one
      // growing towards T1 a lot within a sample or two.
      // A queue that shrinks is being drained by the share already taken: that share holds
      // (the delay lags the share by the delay itself; rising on would overshoot).
      const draining = queueing && delay < this.lastDelay;
      const rise = Math.max(lagging || resending ? this.lagStep : 0, queueing && !draining ? this.lagStep * (delay / this.targetQueueDelayMs - 1) : 0);
      if (!draining || lagging || resending) p += rise + Math.max(0, error);
      if (lagging && this.utilization >= this.target) max = 1;
    } else {
      p += Math.max(error, -this.maxDecrease);
    }
    this.lastDelay = delay;
    this.shedShare = p <= 0 ? 0 : Math.min(p, max);
    if (this.shedShare === 0) this.credit = 0;
    this.dropping = ours && this.dropLagMs > 0 && s.lagMs > this.dropLagMs;
    if (this.targetWaitMs > 0) {
      // Rises like utilization, falls by at most RATE_DECAY per sample: a stall of the thread or
      // the far end (nothing progresses for a few hundred ms) must not shrink the cap exactly
      // when the queue grows; a lasting slow-down still brings it down within seconds.
      const rate = (s.progressed ?? 0) * 1000 / this.sampleMs;
      this.progressRate = rate >= this.progressRate
        ? this.progressRate + this.smoothing * (rate - this.progressRate)
        : Math.max(rate, this.progressRate * (1 - RATE_DECAY));
      const cap = Math.max(this.minPending, Math.round(this.progressRate * this.targetWaitMs / 1000));
      this.pendingCap = this.maxPending > 0 ? Math.min(cap, this.maxPending) : cap;
      if (this.standingSamples > 0) this.updateStanding(s.standing);
    }
  }

  /** Enters the shedding state after `standingSamples` of standing queue; leaves it once the queue drained to half the cap. */
  private updateStanding(standing: number | undefined): void {
    if (standing === undefined) {
      this.capShedding = true;
      return;
    }
    if (this.capShedding) {
      if (standing < this.pendingCap / 2) {
        this.capShedding = false;
        this.standingFor = 0;
      }
      return;
    }
    this.standingFor = standing >= this.pendingCap ? this.standingFor + 1 : 0;
    if (this.standingFor >= this.standingSamples) this.capShedding = true;
  }

  /**
   * The decision for one new INVITE (`invite` true) or REGISTER; counts what it sheds.
   * `pendingInvites`: INVITEs waiting for their first answer beyond 100 now. `reliable`: it came
   * over TCP/TLS/WS, where a drop is never silent: nothing resends there (RFC 3261 §17.1.1.2
   * sets Timer A only for unreliable transports), so the client would wait out Timer F; it gets
   * the 503 instead. `credentials`: a REGISTER answering a challenge (it carries
   * Authorization): the share spares it below 1, since the first half of its exchange is
   * already paid for and shedding it loses that too (a pair survives a share p as 1 − p
   * instead of (1 − p)²); the queue delay still bounds what gets in, by shedding new
   * exchanges harder (so only while that signal is on), and at a share of 1 it goes too.
   * INVITEs are not spared: phones send credentials on new INVITEs too, and the waiting-queue
   * cap is theirs.
   */
  admit(invite: boolean, pendingInvites: number, reliable = false, credentials = false): Admission {
    if (this.dropping && !reliable) { this.counters.dropped++; return 'drop'; }
    if (this.dropping) { this.counters.rejected++; return 'reject'; }
    if (invite && this.capped(pendingInvites)) { this.counters.rejected++; return 'reject'; }
    if (credentials && !invite && this.targetQueueDelayMs > 0 && this.shedShare < 1) return 'accept';
    this.credit += this.shedShare;
    // The tolerance keeps p = 0.25 at exactly one in four despite rounding (0.2499…).
    if (this.credit < 1 - 1e-9) return 'accept';
    this.credit -= 1;
    this.counters.rejected++;
    return 'reject';
  }
}
