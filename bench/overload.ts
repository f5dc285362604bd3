/**
 * Overload: does the server keep its goodput when offered more calls than it can carry
 * (issue 12, "Overload control")? Same set-up as `calls` (bench/call-bench-server.ts: sipp's
 * built-in `uac` -> inbound trunk -> DID -> forward -> default trunk -> sipp UAS 200-only, no
 * media, server in this process with its overload control as configured by default).
 *
 * 1. Clean rate: calls per second stepped up (BENCH_OVERLOAD_RATES, BENCH_OVERLOAD_STEP_SECONDS
 *    each) until a step has a failed call; the clean rate R is the highest step without one.
 * 2. Overload: 2R offered for BENCH_OVERLOAD_SECONDS (30). Reported: goodput (calls answered
 *    and ended with BYE/200, sipp's successful calls, per second of offered load) against R,
 *    the failed calls by sipp's reason, what the server shed (503 / dropped), sipp's
 *    retransmissions, INVITE→200 setup time p50/p99 of the answered calls (`-trace_rtt`),
 *    and the shed share the controller held.
 * 3. Recovery: time from the end of the overload until nothing is shed any more, then R for
 *    BENCH_OVERLOAD_STEP_SECONDS: it must be clean again.
 *
 * Targets: goodput >= 90 % of R during the overload; clean again within 5 s after it.
 *
 *     npm run bench -- overload
 *     BENCH_OVERLOAD_RATES=500,1000 BENCH_OVERLOAD_SECONDS=10 npm run bench -- overload
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSipp, type SippResult } from '../test/helpers/sipp.ts';
import { DID, farEnd, sleep, startBench, type Bench } from './call-bench-server.ts';
import { SIPP_BUFFER_ARGS } from './sipp-buffers.ts';

const pad = (v: string | number, width: number): string => String(v).padStart(width);

interface Run {
  result: SippResult;
  /** INVITE -> 200 times of answered calls, ms, sorted. */
  setupMs: number[];
}

/** sipp's built-in uac at `rate` for `seconds`, with per-call response times. */
async function offer(b: Bench, rate: number, seconds: number): Promise<Run> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-overload-'));
  try {
    const p = await spawnSipp({
      scenario: 'uac', target: b.sipTarget, service: DID, rate, calls: Math.round(rate * seconds), cwd: dir,
      timeoutMs: (seconds + 60) * 1000, traceMessages: false,
      // -timeout: calls still unfinished 40 s after the last was offered count as failed.
      extraArgs: ['-timeout', `${seconds + 40}s`, '-trace_rtt', '-rtt_freq', '1', ...SIPP_BUFFER_ARGS],
    });
    const result = await p.done;
    const rtt = (await readdir(dir)).find((f) => f.endsWith('_rtt.csv'));
    const setupMs = rtt === undefined ? [] : (await readFile(join(dir, rtt), 'utf8')).split('\n').slice(1)
      .map((l) => Number(l.split(';')[1])).filter((v) => Number.isFinite(v) && v >= 0).sort((x, y) => x - y);
    return { result, setupMs };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const percentile = (sorted: number[], p: number): number => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!);

/** True while overload control would shed a new INVITE: a shed share, or the waiting INVITEs at their cap. */
const shedding = (sip: Bench['server']['ctx']['sip'] & object): boolean =>
  sip.overload.shedShare > 0 || (sip.overload.pendingCap > 0 && sip.endpoint.inviteWait.waiting >= sip.overload.pendingCap);

/** Waits (at most `ms`) until no call is up and overload control sheds nothing. */
async function settle(b: Bench, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  const sip = b.server.ctx.sip!;
  while ((sip.b2bua.calls.size > 0 || shedding(sip)) && Date.now() < deadline) await sleep(50);
}

export interface OverloadResult {
  cleanRate: number;
  offered: number;
  goodput: number;
  goodputShare: number;
  failed: number;
  retransmissions: number;
  setupP99Ms: number;
  recoveryMs: number;
  recoveredClean: boolean;
}

export async function run(): Promise<OverloadResult> {
  const rates = (process.env.BENCH_OVERLOAD_RATES ?? '500,1000,1500,2000,2500,3000').split(',').map(Number);
  const stepSeconds = Number(process.env.BENCH_OVERLOAD_STEP_SECONDS ?? 5);
  const seconds = Number(process.env.BENCH_OVERLOAD_SECONDS ?? 30);
  const loadBefore = loadavg()[0]!;
  const b = await startBench();
  const sip = b.server.ctx.sip!;
  const uas = await farEnd(b, 'uas-200-only.xml');
  // BENCH_OVERLOAD_TRACE=1: the controller's view twice a second (utilization, lag, shed share).
  const trace = process.env.BENCH_OVERLOAD_TRACE ? setInterval(() => {
    const l = sip.overload.last;
    console.log(`  [trace] utilization ${l.utilization.toFixed(2)} lag ${l.lagMs.toFixed(0)} ms shed ${sip.overload.shedShare.toFixed(2)} waiting INVITEs ${sip.endpoint.inviteWait.waiting} cap ${sip.overload.pendingCap} calls up ${sip.b2bua.calls.size}`);
  }, 500) : undefined;
  try {
    console.log(`overload: sipp uac -> B2BUA -> sipp UAS 200-only (no media), SQLite; clean rate first (${stepSeconds} s per step), then 2x it for ${seconds} s`);
    console.log(' rate   calls     ok  failed  retrans  setup p99  shed  CPU/call');
    await settle(b, 10_000); // seeding through the API may have pegged the thread
    await offer(b, 100, 1); // warm-up: JIT, caches, SQLite pages
    await settle(b, 5000);
    let cleanRate = 0;
    for (const rate of rates) {
      const shed0 = sip.overload.counters.rejected + sip.overload.counters.dropped;
      const cpu0 = process.cpuUsage();
      const r = await offer(b, rate, stepSeconds);
      const cpuStep = process.cpuUsage(cpu0);
      await settle(b, 5000);
      const s = r.result.stats;
      const shed = sip.overload.counters.rejected + sip.overload.counters.dropped - shed0;
      console.log([pad(rate, 5), pad(s.totalCallCreated, 7), pad(s.successful, 6), pad(s.failed, 6), pad(s.retransmissions, 8), pad(`${percentile(r.setupMs, 99)} ms`, 10), pad(shed, 5), pad(`${((cpuStep.user + cpuStep.system) / Math.max(1, r.result.stats.successful)).toFixed(0)} us`, 9)].join(' '));
      if (s.failed > 0 || s.successful < s.totalCallCreated) break;
      cleanRate = rate;
    }
    if (cleanRate === 0) throw new Error('no clean step: lower BENCH_OVERLOAD_RATES');

    const offered = cleanRate * 2;
    await settle(b, 10_000);
    const before = { ...sip.overload.counters };
    const outcomes0 = new Map(sip.b2bua.outcomes);
    let shareSum = 0;
    let shareMax = 0;
    let samples = 0;
    const watch = setInterval(() => {
      shareSum += sip.overload.shedShare;
      shareMax = Math.max(shareMax, sip.overload.shedShare);
      samples++;
    }, 100);
    const cpu0 = process.cpuUsage();
    let o: Run;
    try {
      o = await offer(b, offered, seconds);
    } finally {
      clearInterval(watch);
    }
    const cpu = process.cpuUsage(cpu0);
    const ended = performance.now();
    while (shedding(sip) && performance.now() - ended < 30_000) await sleep(20);
    const recoveryMs = performance.now() - ended;
    const s = o.result.stats;
    const goodput = s.successful / seconds;
    const share = goodput / cleanRate;
    const rejected = sip.overload.counters.rejected - before.rejected;
    const dropped = sip.overload.counters.dropped - before.dropped;
    const outcomes = [...sip.b2bua.outcomes].map(([k, v]) => [k, v - (outcomes0.get(k) ?? 0)] as const).filter(([, v]) => v > 0);
    console.log(`\noffered ${offered} calls/s for ${seconds} s (${s.totalCallCreated} calls): goodput ${goodput.toFixed(0)} calls/s answered and ended with BYE/200 = ${(share * 100).toFixed(1)} % of the clean rate ${cleanRate} (target >= 90 %): ${share >= 0.9 ? 'OK' : 'MISSED'}`);
    console.log(`failed ${s.failed}: 503 and other unexpected answers ${s.failedUnexpectedMessage}, max UDP retransmissions ${s.failedMaxUdpRetrans}, receive timeouts ${s.failedTimeoutOnRecv}, rejected ${s.failedCallRejected}, cannot send ${s.failedCannotSendMessage}; unfinished ${s.totalCallCreated - s.successful - s.failed}`);
    console.log(`server: shed ${rejected} with 503 + Retry-After, dropped ${dropped}; shed share mean ${(shareSum / Math.max(1, samples)).toFixed(2)}, max ${shareMax.toFixed(2)}; CPU ${((cpu.user + cpu.system) / 1e6 / seconds * 100).toFixed(0)} % of a core; CDRs by outcome: ${outcomes.map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`);
    console.log(`sipp retransmissions ${s.retransmissions}; setup time (INVITE -> 200) of answered calls: p50 ${percentile(o.setupMs, 50)} ms, p99 ${percentile(o.setupMs, 99)} ms`);

    await settle(b, 10_000);
    const again = await offer(b, cleanRate, stepSeconds);
    const recoveredClean = again.result.stats.failed === 0 && again.result.stats.successful === again.result.stats.totalCallCreated;
    console.log(`recovery: nothing shed ${(recoveryMs / 1000).toFixed(2)} s after the overload ended (target <= 5 s): ${recoveryMs <= 5000 ? 'OK' : 'MISSED'}; then ${cleanRate} calls/s for ${stepSeconds} s: ${again.result.stats.successful}/${again.result.stats.totalCallCreated} ok, ${again.result.stats.failed} failed: ${recoveredClean ? 'clean' : 'NOT clean'}`);
    console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB; load average ${loadBefore.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after, ${availableParallelism()} CPUs\n`);
    return { cleanRate, offered, goodput, goodputShare: share, failed: s.failed, retransmissions: s.retransmissions, setupP99Ms: percentile(o.setupMs, 99), recoveryMs, recoveredClean };
  } finally {
    clearInterval(trace);
    await uas.stop();
    await b.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run();
