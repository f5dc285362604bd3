/**
 * Calls through the B2BUA, each figure next to a reference measured in the same run.
 *
 * 1. Calls per second: sipp's built-in `uac` (INVITE, 200, ACK, BYE, no media) dials a DID
 *    from the inbound trunk's host; the route forwards to a number on the default trunk, a
 *    sipp UAS that answers 200 at once (`test/sipp/uas-200-only.xml`). Rates stepped up for
 *    BENCH_CALLS_SECONDS each (default 10; 250, 500, 1000, 1500, 2000, 3000, 4000: the issue's
 *    steps, until one fails); per step: failed calls, our CPU per call, and whether every call left
 *    exactly one CDR. Reference: the same sipp UAC straight at the same sipp UAS, and Kamailio as
 *    a stateful proxy, which goes on up the ladder after the B2BUA's first failed step until its
 *    own first unclean one, so the printed ratio is of both clean limits.
 *    Target: >= 2,000 CPS with 0 failed calls.
 * 2. Concurrent relayed G.711 calls: N calls brought up through the B2BUA (sipp with a long
 *    pause), then 20 ms packets of 172 octets both ways on every call from a separate sender
 *    process (`bench/media-relay.ts --media-relay-sender`, reused as is): A side -> our A leg
 *    -> B leg -> B side and back. Per step: loss each way, relay worker CPU per core, packets/s.
 *    Reference: `npm run bench -- media` (bare relay engine, echo floor).
 *    Target: >= 1,000 concurrent calls per core with < 0.1 % loss. Also printed: the server
 *    process's RSS before the calls and with the most calls up (budget: < 200 MB per 1,000
 *    relayed calls); this part runs first, so the CPS steps' lingering transactions do not blur it.
 *
 *     npm run bench -- calls
 *     BENCH_CALLS_RATES=250,500 BENCH_CALLS_SECONDS=3 BENCH_CALLS_MEDIA=100,250 npm run bench -- calls
 *     BENCH_CALLS_PROFILE=/tmp/cps.cpuprofile npm run bench -- calls   (CPU profile of the server process over the CPS steps)
 *
 * The calls-per-second steps drive the compiled server in its own process (`npm start`'s build
 * and flags; CPU of all its threads from /proc, calls up from `/metrics`, CDRs read from its
 * SQLite file). The media steps run a server in this process with one media worker, whose CPU
 * they read from the engine: `maxRSS` is then this process's peak.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSipp, startSippServer, type SippResult } from '../test/helpers/sipp.ts';
import { kamailioReference } from './kamailio.ts';
import { DID, farEnd, sleep, startBench, startBenchProcess, type Bench, type ProcessBench } from './call-bench-server.ts';
import { currentRssMb } from './memory.ts';
import { shedSoFar } from './server-process.ts';
import { SIPP_BUFFER_ARGS } from './sipp-buffers.ts';

const pad = (v: string | number, width: number): string => String(v).padStart(width);

export interface CpsStep {
  rate: number;
  calls: number;
  successful: number;
  failed: number;
  retransmissions: number;
  /** CDRs of this step's calls 5 s after sipp ended, and in the end (after the 64*T1 no-ACK timeout). */
  cdrs: number;
  cdrsFinal: number;
  /** CPU of the whole server process (signalling thread + media worker) per call. */
  cpuUsPerCall: number;
  refSuccessful: number;
  refFailed: number;
  /** The same rate through Kamailio as a stateful proxy to the reference UAS (when installed); CPU of all its processes. */
  kamailio?: { calls: number; successful: number; failed: number; retransmissions: number; cpuUsPerCall: number };
}

export interface MediaStep {
  calls: number;
  packetsPerSecond: number;
  lossAtoB: number;
  lossBtoA: number;
  workerCpuPercent: number;
  senderLateMs: number;
}

/** CDRs of the calls one sipp run placed (its Call-IDs are `<n>-<pid>@<ip>`), once their count stopped growing (group commit). */
async function cdrCount(b: ProcessBench, sippPid: number): Promise<number> {
  let n = b.cdrCount(`%-${sippPid}@%`);
  for (let i = 0; i < 50; i++) {
    await sleep(100);
    const next = b.cdrCount(`%-${sippPid}@%`);
    if (next === n) break;
    n = next;
  }
  return n;
}

/** Waits until the server carries no call (or `ms` passed): the step's calls are all closed. */
async function settle(b: ProcessBench, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while ((await b.activeCalls()) > 0 && Date.now() < deadline) await sleep(100);
}

export async function sippCps(target: string, rate: number, seconds: number): Promise<SippResult & { pid: number }> {
  // -timeout: a step that overloads must end anyway; its unfinished calls count as failed.
  const p = await spawnSipp({ scenario: 'uac', target, service: DID, rate, calls: rate * seconds, timeoutMs: (seconds + 40) * 1000, traceMessages: false, extraArgs: ['-timeout', `${seconds + 30}s`, ...SIPP_BUFFER_ARGS] });
  return { ...(await p.done), pid: p.child.pid! };
}

async function cps(b: ProcessBench): Promise<CpsStep[]> {
  const rates = (process.env.BENCH_CALLS_RATES ?? '250,500,1000,1500,2000,3000,4000').split(',').map(Number);
  const seconds = Number(process.env.BENCH_CALLS_SECONDS ?? 10);
  const uas = await farEnd(b, 'uas-200-only.xml');
  const ref = await startSippServer({ scenario: 'uas-200-only.xml', traceMessages: false, timeoutMs: 600_000, extraArgs: SIPP_BUFFER_ARGS });
  // The issue's peer: Kamailio as a stateful proxy (2 children) in front of the reference UAS.
  const kamailio = await kamailioReference('proxy.cfg', { UAS: ref.address, CHILDREN: '2' }, 'BENCH_CALLS_KAMAILIO');
  const steps: CpsStep[] = [];
  const kamailioOnly: Array<NonNullable<CpsStep['kamailio']> & { rate: number }> = [];
  const pids: number[] = [];
  console.log(`calls per second: sipp uac -> B2BUA (trunk in, DID, forward, default trunk) -> sipp UAS 200-only, ${seconds} s per step, SQLite; the compiled server in its own process (CPU: all its threads, /proc)`);
  console.log(` rate   calls   ok    failed  retrans   CDRs       CPU/call   |  reference sipp->sipp ok / failed${kamailio ? '  |  Kamailio proxy ok / failed / retrans, CPU/call' : ''}`);
  try {
    // Warm-up: JIT, caches, SQLite pages.
    await sippCps(b.sipTarget, 100, 1);
    await settle(b, 5000);
    for (const rate of rates) {
      const cpu0 = b.server.cpuUs();
      const shed0 = await shedSoFar(b.server);
      const r = await sippCps(b.sipTarget, rate, seconds);
      const shed = (await shedSoFar(b.server)) - shed0;
      await settle(b, 5000);
      const cpuUs = b.server.cpuUs() - cpu0;
      const cdrs = await cdrCount(b, r.pid);
      const calls = r.stats.totalCallCreated;
      const reference = await sippCps(ref.address, rate, seconds);
      const kamCpu0 = kamailio?.cpuUs() ?? 0;
      const viaKamailio = kamailio ? await sippCps(kamailio.address, rate, seconds) : undefined;
      const step: CpsStep = {
        rate, calls, successful: r.stats.successful, failed: r.stats.failed, retransmissions: r.stats.retransmissions, cdrs, cdrsFinal: 0,
        cpuUsPerCall: cpuUs / Math.max(1, calls),
        refSuccessful: reference.stats.successful, refFailed: reference.stats.failed,
        kamailio: viaKamailio && {
          calls: viaKamailio.stats.totalCallCreated, successful: viaKamailio.stats.successful, failed: viaKamailio.stats.failed, retransmissions: viaKamailio.stats.retransmissions,
          cpuUsPerCall: (kamailio!.cpuUs() - kamCpu0) / Math.max(1, viaKamailio.stats.totalCallCreated),
        },
      };
      steps.push(step);
      if (step.failed > 0) {
        const f = r.stats;
        console.log(`       failed: ${f.failedCallRejected} rejected (${shed} shed by overload control), ${f.failedTimeoutOnRecv} timed out, ${f.failedMaxUdpRetrans} max retransmissions, ${f.failedUnexpectedMessage} unexpected`);
      }
      console.log([
        pad(rate, 5), pad(calls, 7), pad(step.successful, 6), pad(step.failed, 6), pad(step.retransmissions, 8),
        pad(`${cdrs}${cdrs === calls ? ' =' : ' !'}`, 8), pad(`${step.cpuUsPerCall.toFixed(0)} us`, 11), '  |', pad(step.refSuccessful, 8), '/', step.refFailed,
        ...(step.kamailio ? ['  |', pad(step.kamailio.successful, 8), '/', step.kamailio.failed, '/', step.kamailio.retransmissions, ',', `${step.kamailio.cpuUsPerCall.toFixed(0)} us`] : []),
      ].join(' '));
      pids.push(r.pid);
      if (step.failed > 0) break;
    }
    // Kamailio's own limit: the rest of the ladder without the B2BUA (the ratio is of clean rates).
    const done = steps.length;
    for (const rate of kamailio && steps.at(-1)?.failed ? rates.slice(done) : []) {
      const kamCpu0 = kamailio!.cpuUs();
      const k = await sippCps(kamailio!.address, rate, seconds);
      const row = { rate, calls: k.stats.totalCallCreated, successful: k.stats.successful, failed: k.stats.failed, retransmissions: k.stats.retransmissions, cpuUsPerCall: (kamailio!.cpuUs() - kamCpu0) / Math.max(1, k.stats.totalCallCreated) };
      kamailioOnly.push(row);
      console.log([pad(rate, 5), pad('-', 7), pad('-', 6), pad('-', 6), pad('-', 8), pad('-', 8), pad('-', 11), '  |', pad('-', 8), '/', '-', '  |', pad(row.successful, 8), '/', row.failed, '/', row.retransmissions, ',', `${row.cpuUsPerCall.toFixed(0)} us`].join(' '));
      if (row.failed > 0 || row.retransmissions > 0 || row.successful !== row.calls) break;
    }
    // A call whose ACK and BYE were lost is closed by the 2xx timeout (64*T1 = 32 s, no_ack):
    // its CDR comes late but must come.
    await settle(b, 40_000);
    for (const [i, step] of steps.entries()) step.cdrsFinal = await cdrCount(b, pids[i]!);
    console.log(`CDRs in the end: ${steps.map((s) => `${s.rate}: ${s.cdrsFinal}/${s.calls}`).join(', ')}; calls still up: ${await b.activeCalls()} (their BYE never arrived)`);
  } finally {
    await uas.stop();
    await kamailio?.stop();
    await ref.stop();
  }
  // Strict: a call whose ACK or BYE was lost shows as "successful" in sipp (its BYE may take a
  // retransmitted 200 of the INVITE for its answer) but ends only on our no-ACK timeout.
  const clean = steps.filter((s) => s.failed === 0 && s.cdrs === s.calls && s.cdrsFinal === s.calls);
  const best = clean.length ? Math.max(...clean.map((s) => s.rate)) : 0;
  console.log(`highest rate with 0 failed calls and every CDR within 5 s: ${best} CPS (target >= 2,000): ${best >= 2000 ? 'OK' : 'MISSED'}. CDRs "!": some only after the no-ACK timeout (lost datagrams)`);
  const kamRows = [...steps.flatMap((s) => (s.kamailio === undefined ? [] : [{ ...s.kamailio, rate: s.rate }])), ...kamailioOnly];
  const kamClean = kamRows.filter((k) => k.failed === 0 && k.retransmissions === 0 && k.successful === k.calls);
  if (kamRows.length > 0) {
    const kamBest = kamClean.length ? Math.max(...kamClean.map((k) => k.rate)) : 0;
    const top = kamBest === rates.at(-1) ? ' (the top of the ladder: its own limit may be higher)' : '';
    console.log(`Kamailio stateful proxy, highest clean step: ${kamBest} CPS${top}; B2BUA / Kamailio: ${kamBest ? (best / kamBest).toFixed(2) : '-'} (target >= 1.0)`);
  }
  return steps;
}

// ------------------------------------------------------------------ media through the B2BUA

/** The RTP sender of bench/media-relay.ts, driven over its IPC protocol. */
interface SenderResult { type: 'result'; sent: [number, number]; received: [number, number]; corrupt: number; cpuMs: number; lateMs: number; elapsedMs: number }

class Sender {
  private constructor(private readonly child: ChildProcess, readonly ports: number[]) {}

  static async start(): Promise<Sender> {
    const child = fork(fileURLToPath(new URL('./media-relay.ts', import.meta.url)), ['--media-relay-sender'], { execArgv: ['--import', 'tsx'] });
    const [msg] = (await once(child, 'message')) as [{ type: string; ports: number[] }];
    if (msg.type !== 'ports') throw new Error('sender did not report its ports');
    return new Sender(child, msg.ports);
  }

  async run(targets: number[], durationMs: number): Promise<SenderResult> {
    const result = once(this.child, 'message') as Promise<[SenderResult]>;
    this.child.send({ type: 'run', targets, durationMs });
    return (await result)[0];
  }

  async stop(): Promise<void> {
    const exited = once(this.child, 'exit');
    this.child.send({ type: 'exit' });
    await exited;
  }
}

async function media(b: Bench): Promise<MediaStep[]> {
  const steps = (process.env.BENCH_CALLS_MEDIA ?? '100,250,500,1000').split(',').map(Number);
  const stepMs = Number(process.env.BENCH_CALLS_MEDIA_MS ?? 5000);
  const engine = b.server.ctx.sip!;
  const uas = await farEnd(b, 'uas');
  const sender = await Sender.start();
  const callers: Array<{ kill(): void; done: Promise<SippResult> }> = [];
  const results: MediaStep[] = [];
  console.log(`\nconcurrent relayed calls: sipp uac -> B2BUA -> sipp uas (calls held up), then 20 ms G.711 packets (172 octets) both ways on each from a separate sender process; 1 media worker, ${stepMs} ms per step`);
  console.log('calls  pkt/s in  loss A>B  loss B>A  worker CPU  calls/core  sender late   RSS');
  const rss0 = currentRssMb();
  let rssTop = { calls: 0, rss: rss0 };
  try {
    for (const n of steps) {
      const more = n - engine.b2bua.calls.size;
      if (more > 0) {
        const p = await spawnSipp({ scenario: 'uac', target: b.sipTarget, service: DID, rate: 200, calls: more, limit: more, pauseMs: 3_600_000, timeoutMs: 3_600_000, traceMessages: false });
        callers.push(p);
        const deadline = Date.now() + 30_000;
        while ([...engine.b2bua.calls.values()].filter((c) => c.state === 'answered').length < n) {
          if (Date.now() > deadline) throw new Error(`only ${engine.b2bua.calls.size} of ${n} calls came up`);
          await sleep(100);
        }
      }
      // Stream 2i: sender -> call i's A leg; stream 2i+1: sender -> its B leg. The legs latch onto
      // the sender's sockets on the first packet (symmetric RTP), so the replies come back to it.
      const targets: number[] = [];
      for (const c of engine.b2bua.calls.values()) targets.push(c.legA.rtpPort, c.legB.rtpPort);
      await sender.run(targets, 400); // latch every leg before measuring
      const w0 = engine.media.totals().perWorker[0]!;
      const r = await sender.run(targets, stepMs);
      // The worker reports its CPU once per tick, late when it is saturated: wait for a sample
      // taken after the traffic stopped, and divide by the span between the two samples.
      const stopped = Date.now();
      let w1 = engine.media.totals().perWorker[0]!;
      for (let i = 0; i < 100 && w1.sampledAt <= stopped; i++) { await sleep(50); w1 = engine.media.totals().perWorker[0]!; }
      const cpuMs = w1.cpuMs - w0.cpuMs;
      const spanMs = w1.sampledAt - w0.sampledAt;
      const sent = r.sent[0] + r.sent[1];
      const step: MediaStep = {
        calls: targets.length / 2,
        packetsPerSecond: Math.round((sent * 1000) / r.elapsedMs),
        lossAtoB: (100 * (r.sent[0] - r.received[0])) / r.sent[0],
        lossBtoA: (100 * (r.sent[1] - r.received[1])) / r.sent[1],
        workerCpuPercent: (100 * cpuMs) / spanMs,
        senderLateMs: r.lateMs,
      };
      results.push(step);
      const rss = currentRssMb();
      if (step.calls > rssTop.calls) rssTop = { calls: step.calls, rss };
      const perCore = step.workerCpuPercent > 0 ? Math.round((step.calls * 100) / step.workerCpuPercent) : 0;
      console.log([
        pad(step.calls, 5), pad(step.packetsPerSecond, 8), pad(`${step.lossAtoB.toFixed(3)}%`, 8), pad(`${step.lossBtoA.toFixed(3)}%`, 8),
        pad(`${step.workerCpuPercent.toFixed(1)}%`, 10), pad(perCore, 10), pad(`${r.lateMs.toFixed(0)} ms`, 11), pad(`${rss.toFixed(0)} MB`, 7),
      ].join('  ') + (r.corrupt > 0 ? `  CORRUPT ${r.corrupt}` : ''));
    }
  } finally {
    await sender.stop();
    for (const c of [...engine.b2bua.calls.values()]) c.hangup('system', 'bench_end');
    for (const p of callers) p.kill();
    await Promise.all(callers.map((p) => p.done));
    await uas.stop();
  }
  const ok = results.filter((s) => s.lossAtoB < 0.1 && s.lossBtoA < 0.1);
  const best = ok.length ? Math.max(...ok.map((s) => s.calls)) : 0;
  console.log(`highest step with < 0.1 % loss: ${best} calls on one worker (target >= 1,000 per core): ${best >= 1000 ? 'OK' : 'MISSED'}`);
  if (rssTop.calls > 0) {
    const per1000 = ((rssTop.rss - rss0) * 1000) / rssTop.calls;
    console.log(`memory: RSS ${rss0.toFixed(0)} MB before the calls, ${rssTop.rss.toFixed(0)} MB with ${rssTop.calls} relayed calls up: ${per1000.toFixed(0)} MB per 1,000 relayed calls (budget < 200 MB): ${per1000 < 200 ? 'met' : 'MISSED'}`);
  }
  return results;
}

export async function run(): Promise<{ cps: CpsStep[]; media: MediaStep[]; maxRssMb: number }> {
  const loadBefore = loadavg()[0]!;
  // Media in this process (its steps read the engine's per-worker counters and hold calls up
  // through it); its peak RSS is this process's.
  const b = await startBench();
  let m: MediaStep[];
  try {
    m = await media(b);
  } finally {
    await b.close();
  }
  const mediaRssMb = process.resourceUsage().maxRSS / 1024;
  // Calls per second: the compiled server in its own process, as `npm start` runs it.
  const profileDir = process.env.BENCH_CALLS_PROFILE ? mkdtempSync(join(tmpdir(), 'strowger-bench-calls-prof-')) : undefined;
  const p = await startBenchProcess(profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`]);
  let c: CpsStep[];
  let cpsRssMb: number;
  try {
    p.server.resetPeak();
    c = await cps(p);
    cpsRssMb = p.server.rssMb().peak;
  } finally {
    await p.close();
  }
  if (profileDir !== undefined) {
    const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
    if (file !== undefined) { copyFileSync(join(profileDir, file), process.env.BENCH_CALLS_PROFILE!); console.log(`CPU profile of the server process written to ${process.env.BENCH_CALLS_PROFILE}`); }
    rmSync(profileDir, { recursive: true, force: true });
  }
  const maxRssMb = Math.max(mediaRssMb, cpsRssMb);
  console.log(`peak RSS: ${mediaRssMb.toFixed(0)} MiB (media steps, this process), ${cpsRssMb.toFixed(0)} MiB (calls-per-second steps, the server process); load average ${loadBefore.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after, ${availableParallelism()} CPUs\n`);
  return { cps: c, media: m, maxRssMb };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run();
