/**
 * Pass-through relay: N bridged G.711 calls (20 ms packets of 172 octets both ways, 100 packets/s
 * per call), on ONE engine worker pinned to one CPU, against two references measured in the
 * same run and pinned to the same CPU:
 *
 * - **rtpengine** (Debian `rtpengine-daemon`), started by the bench in userspace (no kernel
 *   forwarding), one worker thread, calls set up over its ng protocol (`bench/rtpengine.ts`);
 * - a one-socket **Node UDP echo** in a worker thread: the floor of any relay built on dgram;
 * - with `MEDIA_BENCH_DGRAM=1`, the engine itself on the public dgram API (`socket.send`, the
 *   'message' event: how the relay worked before `src/net/udp-direct.ts`), a second engine.
 *
 * The engine relays plain pairs in its native relay thread (native/udp-relay) when the addon is
 * built: `MEDIA_BENCH_NATIVE=0` runs it in JS instead (`STROWGER_MEDIA_NATIVE_RELAY=0`),
 * `MEDIA_BENCH_NATIVE=both` adds a second engine in JS, measured in the same steps ("engine JS").
 * Both legs of every call get PCMU (what the PBX signals), so the pairs qualify for the native relay.
 *
 * The load comes from `relay-loadgen.c`, built with gcc at run time and pinned to the other CPU
 * (sendmmsg/recvmmsg: it is not the bottleneck); without gcc, the Node sender process of
 * `media-relay.ts`, and the printout says so. Per step and system: loss per direction, CPU
 * (% of one core, and µs per packet relayed: in + out), calls/core (100 packets/s per call at
 * 100 % CPU), latency through the relay (send -> back at the generator, kernel timestamps:
 * p50/p99/max), peak RSS. A system that lost > 1 % on a saturated core is not driven further.
 *
 * Target (issues 10, 17): >= 1,000 calls per core at < 0.1 % loss, p99 < 40 ms, and >= 1.0x
 * rtpengine in the same run.
 *
 *   npm run bench -- media
 *   MEDIA_BENCH_STEPS=500,1000,1500 MEDIA_BENCH_STEP_MS=5000 node --import tsx bench/media-passthrough.ts
 */
import dgram from 'node:dgram';
import { readFileSync, readdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMediaEngine } from '../src/media/index.ts';
import type { MediaEngine } from '../src/media/index.ts';
import { Sender, growCalls } from './media-relay.ts';
import type { LegCodec } from '../src/media/index.ts';
import { loadNativeRelay } from '../src/media/native-relay.ts';
import { CLoadGen, buildLoadGen, pinSelf } from './relay-loadgen.ts';
import type { LoadGenerator, LoadResult } from './relay-loadgen.ts';
import { Rtpengine, rtpengineMissing } from './rtpengine.ts';

const HOST = '127.0.0.1';
const SOCKETS = 8;
const BIG_BUFFER = 4 << 20;
/**
 * Media port ranges, 4 ports per call each. The integration tests take theirs in 20000-48000
 * (fixed or random bases), so the engine and rtpengine stay out of it: a bench run beside a
 * test run must not take the test's ports ("503 no media ports"). The optional dgram engine
 * (MEDIA_BENCH_DGRAM=1) has no room left outside and may meet a test's range.
 */
const PORTS = { engine: 50000, rtpengine: 10000, dgramEngine: 36000 };
/** G.711 as the PBX signals it: every call's legs get it, so plain pairs qualify for the native relay. */
const PCMU: LegCodec = { pt: 0, name: 'PCMU', clockRate: 8000, channels: 1, fmtp: null, telephoneEventPt: null, ptime: 20 };

/**
 * A system that lost more than this while using >= SATURATED % of a core ran out of CPU: it is
 * not driven to the next step. Loss with less CPU means other processes took the core (a shared
 * machine): the next steps still tell the CPU per packet.
 */
const GIVE_UP_LOSS = 1;
const SATURATED = 90;

/** One system (engine, echo, rtpengine) at one step. */
export interface RelayFigures {
  lossAtoB: number;
  lossBtoA: number;
  corrupt: number;
  /** CPU of the relay, % of one core. */
  cpu: number;
  /** CPU µs per packet relayed (received and sent on; packets lost on the way are not counted). */
  usPerPacket: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  generatorCpu: number;
  generatorLateMs: number;
  peakRssMb: number;
}

export interface PassthroughStep {
  calls: number;
  packetsPerSecond: number;
  engine: RelayFigures | null;
  /** The same engine on the public dgram API (STROWGER_MEDIA_DIRECT_UDP=0), with MEDIA_BENCH_DGRAM=1. */
  dgram: RelayFigures | null;
  /** The same engine relaying in JS (STROWGER_MEDIA_NATIVE_RELAY=0), with MEDIA_BENCH_NATIVE=both. */
  js: RelayFigures | null;
  echo: RelayFigures | null;
  rtpengine: RelayFigures | null;
}

const ECHO_WORKER = `
const { parentPort } = require('node:worker_threads');
const dgram = require('node:dgram');
const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: ${BIG_BUFFER}, sendBufferSize: ${BIG_BUFFER}, lookup: (a, f, cb) => cb(null, a, 4) });
sock.on('message', (msg, rinfo) => sock.send(msg, rinfo.port, rinfo.address));
sock.bind(0, '${HOST}', () => parentPort.postMessage(sock.address().port));
`;

async function startEcho(): Promise<{ port: number; stop(): Promise<number> }> {
  const worker = new Worker(ECHO_WORKER, { eval: true });
  const [port] = (await once(worker, 'message')) as [number];
  return { port, stop: () => worker.terminate() };
}

const pct = (lost: number, sent: number): number => (sent === 0 ? 0 : (100 * lost) / sent);
const pad = (v: string | number, width: number): string => String(v).padStart(width);

/** Figures of one generator run against a relay that used `cpuMs` meanwhile. */
export function figures(r: LoadResult, cpuMs: number, peakRssMb: number): RelayFigures {
  const relayed = r.received[0] + r.received[1];
  return {
    lossAtoB: pct(r.sent[0] - r.received[0], r.sent[0]),
    lossBtoA: pct(r.sent[1] - r.received[1], r.sent[1]),
    corrupt: r.corrupt,
    cpu: (100 * cpuMs) / r.elapsedMs,
    usPerPacket: (1000 * cpuMs) / Math.max(1, relayed),
    p50Ms: r.latencyMs?.p50 ?? null,
    p99Ms: r.latencyMs?.p99 ?? null,
    maxMs: r.latencyMs?.max ?? null,
    generatorCpu: (100 * r.cpuMs) / r.elapsedMs,
    generatorLateMs: r.lateMs,
    peakRssMb,
  };
}

export const clean = (f: RelayFigures | null): boolean => f !== null && f.lossAtoB < 0.1 && f.lossBtoA < 0.1 && f.corrupt === 0 && (f.p99Ms === null || f.p99Ms < 40);
const lost = (f: RelayFigures | null): boolean => f === null || (Math.max(f.lossAtoB, f.lossBtoA) > GIVE_UP_LOSS && f.cpu >= SATURATED);
export const callsPerCore = (f: RelayFigures): number => Math.round(1e6 / (f.usPerPacket * 100));

export function row(name: string, f: RelayFigures | null): string {
  if (f === null) return `  ${name.padEnd(9)}  -`;
  const ms = (v: number | null): string => (v === null ? '-' : v.toFixed(1));
  return [
    `  ${name.padEnd(9)}`,
    pad(`${f.lossAtoB.toFixed(3)}%`, 8),
    pad(`${f.lossBtoA.toFixed(3)}%`, 8),
    pad(`${f.cpu.toFixed(1)}%`, 7),
    pad(f.usPerPacket.toFixed(1), 6),
    pad(callsPerCore(f), 10),
    pad(`${ms(f.p50Ms)}/${ms(f.p99Ms)}/${ms(f.maxMs)}`, 17),
    pad(`${f.peakRssMb.toFixed(0)} MB`, 7),
    pad(`${f.generatorCpu.toFixed(0)}%`, 5),
  ].join('  ') +
    (f.corrupt > 0 ? `  CORRUPT ${f.corrupt}` : '') +
    (f.generatorLateMs > 100 ? `  (generator ${f.generatorLateMs.toFixed(0)} ms behind: generator-bound)` : '');
}

/** The Node sender of media-relay.ts as a {@link LoadGenerator}. */
async function nodeSender(): Promise<LoadGenerator> {
  const sender = await Sender.start();
  return { kind: `Node sender process (${sender.ports.length} sockets, one send() per packet)`, ports: sender.ports, run: (t, ms) => sender.run(t, ms), stop: () => sender.stop() };
}

export async function run(): Promise<PassthroughStep[]> {
  const steps = (process.env.MEDIA_BENCH_STEPS ?? '500,1000,1500,2000,2500').split(',').filter((v) => v.trim() !== '').map(Number);
  if (steps.length === 0) return [];
  const stepMs = Number(process.env.MEDIA_BENCH_STEP_MS ?? 5000);
  const echoMs = Number(process.env.MEDIA_BENCH_ECHO_MS ?? 3000);
  // Relay on the last CPU, generator on the first: each has a core (on the 2-core machine).
  const pin = process.env.MEDIA_BENCH_PIN !== '0' && availableParallelism() >= 2;
  const relayCpu = pin ? availableParallelism() - 1 : null;
  const maxCalls = Math.max(...steps);

  const build = buildLoadGen();
  const gen: LoadGenerator = 'path' in build ? await CLoadGen.start(build, SOCKETS, pin ? 0 : null) : await nodeSender();
  const noRtpengine = rtpengineMissing();
  const rtpengine = noRtpengine === null ? await Rtpengine.start({ ngPort: await freeUdpPort(), portMin: PORTS.rtpengine, portMax: PORTS.rtpengine + maxCalls * 4 + 400, cpu: relayCpu }) : null;
  const unpin = relayCpu !== null ? pinSelf(relayCpu) : () => {};
  const nativeMode = process.env.MEDIA_BENCH_NATIVE ?? '1';
  const nativeLoad = loadNativeRelay();
  const engine = await engineWith({ STROWGER_MEDIA_NATIVE_RELAY: nativeMode === '0' ? '0' : '1' }, PORTS.engine, maxCalls);
  // The JS engine takes the dgram engine's range: MEDIA_BENCH_NATIVE=both wins over MEDIA_BENCH_DGRAM=1.
  const jsEngine = nativeMode === 'both' ? await engineWith({ STROWGER_MEDIA_NATIVE_RELAY: '0' }, PORTS.dgramEngine, maxCalls) : null;
  // "Before": a second engine whose worker uses dgram's send()/'message' (the env is read there).
  const dgramEngine = process.env.MEDIA_BENCH_DGRAM === '1' && jsEngine === null ? await engineWith({ STROWGER_MEDIA_DIRECT_UDP: '0', STROWGER_MEDIA_NATIVE_RELAY: '0' }, PORTS.dgramEngine, maxCalls) : null;
  const echo = await startEcho();

  console.log(`pass-through relay: 1 engine worker${relayCpu !== null ? ` pinned to CPU ${relayCpu}` : ' (not pinned)'}, 20 ms packets of 172 octets both ways, ${stepMs} ms per step; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`engine relay: ${nativeMode === '0' ? 'JS (MEDIA_BENCH_NATIVE=0)' : nativeLoad.reason === null ? 'native relay thread (native/udp-relay)' : `JS: native relay unavailable (${nativeLoad.reason})`}${jsEngine !== null ? '; "engine JS": a second engine relaying in JS' : ''}`);
  console.log(`load: ${gen.kind}${'reason' in build ? ` — the C generator is not used: ${build.reason}` : ''}`);
  console.log(`references: ${rtpengine !== null ? `rtpengine ${rtpengine.version} (userspace, --num-threads=1${relayCpu !== null ? `, pinned to CPU ${relayCpu}` : ''})` : `no rtpengine: ${noRtpengine}`}; Node one-socket UDP echo (worker thread, ${echoMs} ms)`);
  console.log('calls  system     loss A>B  loss B>A     CPU  us/pkt  calls/core  latency p50/p99/max  peak RSS  gen CPU');
  console.log('  (CPU: % of one core; us/pkt: CPU per packet in + out; calls/core: 100 pkt/s per call at 100 % CPU; latency ms: generator -> relay -> generator)');

  const results: PassthroughStep[] = [];
  const engineTargets: number[] = [];
  const dgramTargets: number[] = [];
  let dgramOn = dgramEngine !== null;
  const jsTargets: number[] = [];
  let jsOn = jsEngine !== null;
  const rtpeTargets: number[] = [];
  let rtpeCalls = 0;
  let engineOn = true;
  let rtpeOn = rtpengine !== null;
  const fds = descriptorBudget();
  try {
    for (const calls of steps) {
      if (!engineOn && !rtpeOn) break;
      const short = fds.shortFor(calls);
      if (short !== null) {
        console.log(`${pad(calls, 5)}  not run: ${short}`);
        break;
      }
      const step: PassthroughStep = { calls, packetsPerSecond: calls * 100, engine: null, dgram: null, js: null, echo: null, rtpengine: null };
      if (engineOn) {
        step.engine = await measureEngine(engine, gen, engineTargets, calls, stepMs);
        engineOn = !lost(step.engine);
        const echoTargets = engineTargets.map(() => echo.port);
        step.echo = await measureInProcess(gen, echoTargets, echoMs);
      }
      if (jsEngine !== null && jsOn) {
        step.js = await measureEngine(jsEngine, gen, jsTargets, calls, stepMs);
        jsOn = !lost(step.js);
        // Its sockets go now: with the native engine's (which borrows duplicates: 4 descriptors
        // per leg) they would reach a 20,000-descriptor limit near 2,000 calls.
        if (!jsOn) await jsEngine.close();
      }
      if (dgramEngine !== null && dgramOn) {
        step.dgram = await measureEngine(dgramEngine, gen, dgramTargets, calls, stepMs);
        dgramOn = !lost(step.dgram);
      }
      if (rtpengine !== null && rtpeOn) {
        for (; rtpeCalls < calls; rtpeCalls += 100) {
          const batch = [];
          for (let i = rtpeCalls; i < Math.min(calls, rtpeCalls + 100); i++) {
            batch.push(rtpengine.call(gen.ports[(2 * i) % gen.ports.length], gen.ports[(2 * i + 1) % gen.ports.length]).then((c) => {
              rtpeTargets[2 * i] = c.callerTarget;
              rtpeTargets[2 * i + 1] = c.calleeTarget;
            }));
          }
          await Promise.all(batch);
        }
        rtpeCalls = calls;
        await gen.run(rtpeTargets, 300); // warm-up: rtpengine learns the endpoints
        const cpu0 = rtpengine.cpuMs();
        const r = await gen.run(rtpeTargets, stepMs);
        step.rtpengine = figures(r, rtpengine.cpuMs() - cpu0, rtpengine.peakRssMb());
        rtpeOn = !lost(step.rtpengine);
      }
      results.push(step);
      fds.measured(calls);
      console.log(`${pad(calls, 5)}${row('engine', step.engine)}`);
      if (jsEngine !== null) console.log(`     ${row('engine JS', step.js)}`);
      if (dgramEngine !== null) console.log(`     ${row('on dgram', step.dgram)}`);
      console.log(`     ${row('echo', step.echo)}`);
      if (rtpengine !== null) console.log(`     ${row('rtpengine', step.rtpengine)}`);
    }
    summary(results, rtpengine !== null, jsEngine !== null);
    return results;
  } finally {
    await gen.stop();
    await echo.stop();
    await engine.close();
    await dgramEngine?.close();
    await jsEngine?.close();
    await rtpengine?.stop();
    unpin();
  }
}

/**
 * The in-process engines hold descriptors per call (the native relay: its own duplicates of
 * both legs' RTP and RTCP sockets, 8 a call). A step that would pass the process's open-files
 * limit is not run: it would end the bench with EMFILE before the summary. The cost per call is
 * read off the steps already run.
 */
function descriptorBudget(): { shortFor(calls: number): string | null; measured(calls: number): void } {
  const open = (): number => readdirSync('/proc/self/fd').length;
  const limit = Number(/^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? Infinity);
  const base = open();
  let perCall = 0;
  return {
    shortFor(calls) {
      const need = base + Math.ceil(perCall * calls);
      return need < limit * 0.95 ? null : `needs ~${need} open descriptors (${perCall.toFixed(1)} per call), the limit is ${limit} (ulimit -n)`;
    },
    measured(calls) {
      perCall = Math.max(perCall, (open() - base) / calls);
    },
  };
}

/** A UDP port free right now on 127.0.0.1 (for rtpengine's control socket). */
async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, HOST, resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(resolve));
  return port;
}

/** An engine of one worker whose env has `env` (copied into the worker's env when it starts). */
async function engineWith(env: Record<string, string>, portFrom: number, maxCalls: number): Promise<MediaEngine> {
  const saved = Object.keys(env).map((k) => [k, process.env[k]] as const);
  Object.assign(process.env, env);
  try {
    return await createMediaEngine({ portRange: [portFrom, Math.min(65534, portFrom + maxCalls * 4 + 400)], bindAddress: HOST, workers: 1, rtpTimeoutMs: 600_000 });
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** Grows the engine to `calls` bridged pass-through calls and runs the load through it. */
async function measureEngine(engine: MediaEngine, gen: LoadGenerator, targets: number[], calls: number, stepMs: number): Promise<RelayFigures> {
  await growCalls(engine, gen.ports, targets, calls, { codecs: [PCMU, PCMU] });
  await gen.run(targets, 300); // warm-up: the new legs latch onto the generator
  await sleep(100);
  let peakRss = process.memoryUsage.rss();
  const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 250);
  const f = await measureInProcess(gen, targets, stepMs);
  clearInterval(rssTimer);
  f.peakRssMb = Math.max(peakRss, process.memoryUsage.rss()) / 2 ** 20;
  return f;
}

/**
 * CPU of this process (engine worker + echo worker + an idle main thread) during one run: the
 * engine gets no traffic while the echo runs and vice versa, so the figure is the one system's.
 */
export async function measureInProcess(gen: LoadGenerator, targets: number[], ms: number): Promise<RelayFigures> {
  const cpu0 = process.cpuUsage();
  const r = await gen.run(targets, ms);
  const cpu = process.cpuUsage(cpu0);
  return figures(r, (cpu.user + cpu.system) / 1000, process.memoryUsage.rss() / 2 ** 20);
}

function summary(results: PassthroughStep[], withRtpengine: boolean, withJs: boolean): void {
  const best = (pick: (s: PassthroughStep) => RelayFigures | null): { calls: number; f: RelayFigures } | null => {
    const ok = results.filter((s) => clean(pick(s)));
    return ok.length === 0 ? null : { calls: ok.at(-1)!.calls, f: pick(ok.at(-1)!)! };
  };
  const e = best((s) => s.engine);
  const j = best((s) => s.js);
  const r = best((s) => s.rtpengine);
  const say = (b: { calls: number; f: RelayFigures } | null): string =>
    b === null ? 'no clean step' : `${b.calls} calls clean (< 0.1 % loss, p99 ${b.f.p99Ms ?? '-'} ms), ${b.f.usPerPacket.toFixed(1)} us/pkt there -> ${callsPerCore(b.f)} calls/core`;
  console.log(`\nengine:    ${say(e)}`);
  if (withJs) console.log(`engine JS: ${say(j)}`);
  if (withRtpengine) console.log(`rtpengine: ${say(r)}`);
  if (e !== null && r !== null) {
    console.log(`ratio engine/rtpengine: ${(e.calls / r.calls).toFixed(2)}x by highest clean step, ${(r.f.usPerPacket / e.f.usPerPacket).toFixed(2)}x by CPU per packet (target >= 1.0)`);
  }
  console.log(`load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run();
