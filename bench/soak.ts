/**
 * Soak: steady call traffic for a while, watching the server's memory for growth. sipp's
 * `uac` places calls at BENCH_SOAK_CPS (default 300) through the B2BUA to a sipp UAS (the
 * `calls` bench's set-up, CDRs included) for BENCH_SOAK_MINUTES (default 10). Every 30 s: RSS
 * and heap after a full GC. The first 60 s are the heap's ramp (32 s of lingering transactions
 * fill up); RSS settles later (~4 min here), so it is judged on the second half.
 *
 * Printed: the samples, the heap and RSS change from the first steady sample to the last, as
 * MB per hour, next to the reference: the same readings at the start, before any call.
 * Budget: no growth (heap over the steady part, RSS over the second half: each within 5 %).
 * Measured (10 min, 180,000 calls): heap 105.3 -> 105.1 MB, RSS 376 -> 383 MB.
 *
 *     npm run bench -- soak          BENCH_SOAK_MINUTES=30 BENCH_SOAK_CPS=500 npm run bench -- soak
 */
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawnSipp, type SippResult } from '../test/helpers/sipp.ts';
import { DID, farEnd, sleep, startBench } from './call-bench-server.ts';
import { footprint } from './memory.ts';
import { SIPP_BUFFER_ARGS } from './sipp-buffers.ts';

export async function run(): Promise<{ heapGrowthPercent: number }> {
  const minutes = Number(process.env.BENCH_SOAK_MINUTES ?? 10);
  const cps = Number(process.env.BENCH_SOAK_CPS ?? 300);
  const b = await startBench();
  const engine = b.server.ctx.sip!;
  // The far end must outlive the caller (whose own limit is the run + 120 s): a UAS killed at a
  // fixed 10 min failed the last ~500 calls of a 10-min soak, which looked like the server's.
  const uas = await farEnd(b, 'uas-200-only.xml', (minutes * 60 + 300) * 1000);
  try {
    const idle = await footprint();
    const total = Math.round(cps * minutes * 60);
    const caller = await spawnSipp({
      scenario: 'uac', target: b.sipTarget, service: DID, rate: cps, calls: total,
      timeoutMs: (minutes * 60 + 120) * 1000, traceMessages: false, extraArgs: SIPP_BUFFER_ARGS,
    });
    process.stdout.write(`soak: ${cps} calls/s through the B2BUA for ${minutes} min (${total} calls), memory after a full GC every 30 s\n`);
    process.stdout.write(`  idle before calls: RSS ${idle.rss.toFixed(1)} MB, heap ${idle.heap.toFixed(1)} MB\n`);
    const started = Date.now();
    const samples: Array<{ s: number; rss: number; heap: number; calls: number; tx: number }> = [];
    let done = false;
    void caller.done.then(() => { done = true; });
    // The last 30 s are left out: the traffic winds down there.
    while (!done && Date.now() - started < (minutes * 60 - 30) * 1000) {
      await sleep(30_000);
      if (done) break;
      const f = await footprint();
      const s = (Date.now() - started) / 1000;
      samples.push({ s, ...f, calls: engine.b2bua.counters.attempts, tx: engine.endpoint.transactions.size });
      process.stdout.write(`  ${s.toFixed(0).padStart(5)} s  RSS ${f.rss.toFixed(1).padStart(7)} MB  heap ${f.heap.toFixed(1).padStart(6)} MB  calls so far ${engine.b2bua.counters.attempts}  transactions ${engine.endpoint.transactions.size}\n`);
    }
    const r = await caller.done;
    if (r.errors !== '') {
      const file = path.join(os.tmpdir(), `soak-sipp-errors-${process.pid}.log`);
      await writeFile(file, r.errors);
      process.stdout.write(`  sipp error log: ${file}\n`);
    }
    const steady = samples.filter((x) => x.s >= 60);
    if (steady.length < 2) {
      process.stdout.write(`  too short for a slope (${steady.length} steady samples); run longer\n`);
      return { heapGrowthPercent: NaN };
    }
    const first = steady[0]!;
    const last = steady[steady.length - 1]!;
    const hours = (last.s - first.s) / 3600;
    const heapGrowthPercent = (100 * (last.heap - first.heap)) / first.heap;
    // RSS warms up for minutes after the heap (malloc arenas, the media worker's heap, which
    // this process's gc() does not collect): judge it on the second half of the run.
    const mid = steady[Math.floor(steady.length / 2)]!;
    const rssGrowthPercent = (100 * (last.rss - mid.rss)) / mid.rss;
    process.stdout.write([
      `  sipp: ${r.stats.successful} ok, ${r.stats.failed} failed${failureBreakdown(r)}`,
      `  heap (${first.s.toFixed(0)} s -> ${last.s.toFixed(0)} s): ${first.heap.toFixed(1)} -> ${last.heap.toFixed(1)} MB (${((last.heap - first.heap) / hours).toFixed(1)} MB/h, ${heapGrowthPercent.toFixed(1)} %)`,
      `  RSS second half (${mid.s.toFixed(0)} s -> ${last.s.toFixed(0)} s): ${mid.rss.toFixed(1)} -> ${last.rss.toFixed(1)} MB (${rssGrowthPercent.toFixed(1)} %); first steady sample ${first.rss.toFixed(1)} MB`,
      `  no growth (heap over the steady part and RSS over the second half each change < 5 %): ${Math.abs(heapGrowthPercent) < 5 && Math.abs(rssGrowthPercent) < 5 ? 'met' : 'MISSED'}; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
      '',
    ].join('\n'));
    return { heapGrowthPercent };
  } finally {
    await uas.stop();
    await b.close();
  }
}

/** sipp's reasons for the failed calls, when any failed. */
function failureBreakdown(r: SippResult): string {
  const s = r.stats;
  const reasons: Array<[string, number]> = [
    ['unexpected message', s.failedUnexpectedMessage], ['timeout on receive', s.failedTimeoutOnRecv],
    ['max UDP retransmissions', s.failedMaxUdpRetrans], ['rejected', s.failedCallRejected],
    ['cannot send', s.failedCannotSendMessage], ['regexp', s.failedRegexpDoesntMatch],
  ];
  const named = reasons.filter(([, n]) => n > 0).map(([why, n]) => `${n} ${why}`);
  return named.length === 0 ? '' : ` (${named.join(', ')}; ${s.retransmissions} retransmissions, ${s.outOfCallMsgs} out-of-call, ${s.deadCallMsgs} dead-call messages)`;
}
