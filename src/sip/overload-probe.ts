/**
 * The real {@link LoadProbe} of {@link OverloadControl}: event-loop utilization from
 * `performance.eventLoopUtilization()` (capped by the thread's CPU share when a CPU clock is
 * given) and the worst lateness of a 10 ms ticker (100 ms while the loop is quiet), both over the
 * time since the previous sample. (`perf_hooks.monitorEventLoopDelay` on Node 20 does not see
 * a 120 ms block of the loop, measured: its histogram stayed at the 10 ms resolution.)
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { LoadProbe, OverloadControl } from './overload-control.ts';

export interface EventLoopProbe {
  probe: LoadProbe;
  /** The lag ticker's period now, ms: `tickMs` after a busy sample, `idleTickMs` after a quiet one. */
  period(): number;
  close(): void;
}

export interface EventLoopProbeOptions {
  /** Lag ticker period while the loop is quiet, ms. Default 100. */
  idleTickMs?: number;
  /** Called on every tick of the lag ticker: work that should run as often, without a wake-up of its own (the queue-delay pings). */
  onTick?: () => void;
  /** Sample utilization from which the ticker runs every `tickMs`. Default 0.3. */
  busyUtilization?: number;
}

/**
 * `threadCpuMs`: CPU time of the calling thread in ms (-1 when unknown), e.g. from
 * `/proc/thread-self/stat`. With it, utilization is the smaller of the loop's busy share and
 * the CPU share the thread really got: a thread preempted by other processes in the middle of
 * its work reads as busy to `eventLoopUtilization` (measured: an idle server on a machine at
 * load average 20 showed 0.97 at 100 REGISTERs/s) though it is starved, not overloaded.
 *
 * The lag ticker runs every `tickMs` only after a sample with utilization of at least
 * `busyUtilization`, else every `idleTickMs`. Lag counts for overload control only when the
 * smoothed utilization is near its target (`OverloadControl`), which takes more than one busy
 * sample to reach, so the fine ticker is always running by then; a quiet server no longer
 * wakes up 100 times a second for it (idle main thread: 12.7 → 6 ms of CPU per second, measured).
 */
export function eventLoopProbe(tickMs = 10, threadCpuMs?: () => number, opts: EventLoopProbeOptions = {}): EventLoopProbe {
  const idleTickMs = Math.max(tickMs, opts.idleTickMs ?? 100);
  const busyUtilization = opts.busyUtilization ?? 0.3;
  let prev: EventLoopUtilization = performance.eventLoopUtilization();
  let cpuPrev = threadCpuMs?.() ?? -1;
  let wallPrev = performance.now();
  let period = 0;
  let due = 0;
  let worst = 0;
  let ticker: NodeJS.Timeout | undefined;
  // One callback per period: the lag of the loop is how late it runs.
  const also = opts.onTick;
  const onTick = (): void => {
    const now = performance.now();
    const late = now - due;
    if (late > worst) worst = late;
    due = now + period;
    also?.();
  };
  const setPeriod = (ms: number): void => {
    if (ms === period) return;
    clearInterval(ticker);
    period = ms;
    due = performance.now() + period;
    ticker = setInterval(onTick, period);
    ticker.unref();
  };
  setPeriod(idleTickMs);
  return {
    probe: () => {
      const now = performance.eventLoopUtilization();
      let utilization = performance.eventLoopUtilization(now, prev).utilization;
      prev = now;
      const wall = performance.now();
      const cpu = threadCpuMs?.() ?? -1;
      if (cpu >= 0 && cpuPrev >= 0 && wall > wallPrev) utilization = Math.min(utilization, (cpu - cpuPrev) / (wall - wallPrev));
      cpuPrev = cpu;
      wallPrev = wall;
      // A tick still waiting counts too: a loop blocked right now is lagging right now.
      const lagMs = Math.max(worst, performance.now() - due, 0);
      worst = 0;
      setPeriod(utilization >= busyUtilization ? tickMs : idleTickMs);
      return { utilization, lagMs };
    },
    period: () => period,
    close: () => clearInterval(ticker),
  };
}

/**
 * Feeds `control` a sample of `source` every `control.sampleMs` until stopped. The timers are
 * unref'd: they never keep the process alive.
 */
export function startOverloadSampler(control: OverloadControl, source: Pick<EventLoopProbe, 'probe' | 'close'> = eventLoopProbe()): () => void {
  const timer = setInterval(() => control.update(source.probe()), control.sampleMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    source.close();
  };
}

/**
 * Retransmitted requests received per new request since the previous call, from the
 * transaction layer's counters (`absorbed`, `serverCreated`) and the endpoint's `stateless`:
 * a request answered without a transaction is new work too. Left out, a REGISTER storm's
 * challenges would leave the denominator and double the measured share.
 */
export function retransmissionProbe(counters: { readonly absorbed: number; readonly serverCreated: number }, endpoint: { readonly stateless: number } = { stateless: 0 }): () => number {
  const fresh = () => counters.serverCreated + endpoint.stateless;
  let absorbed = counters.absorbed;
  let created = fresh();
  return () => {
    const a = counters.absorbed - absorbed;
    const c = fresh() - created;
    absorbed = counters.absorbed;
    created += c;
    return a / Math.max(1, c);
  };
}
