/**
 * SRTP-protected relay next to plain relay, in the same run, on one engine worker pinned to one
 * CPU (the generator on the other): issue 16's "SRTP relayed calls per core, target >= 60 % of
 * plain".
 *
 * The C load generator sends plain RTP and checks what comes back, so it cannot speak SRTP
 * itself. Each measured call is therefore a chain of two bridged leg pairs inside the engine:
 *
 *   generator -> A (plain) => X (SRTP: encrypts) -> Y (SRTP: decrypts) => B (plain) -> generator
 *
 * Every packet crosses two relay hops, and each hop does exactly what one direction of a real
 * SRTP call (an SRTP phone bridged to a plain trunk) does: receive, one SRTP operation (protect
 * or unprotect+authenticate), send. So CPU per hop-packet is the cost of one relayed packet of an
 * SRTP call, and calls/core is computed from it (100 packets/s relayed per call). The plain
 * reference runs the same chain without keys, so the hop count is the same on both sides.
 *
 *   npm run bench -- media-srtp
 *   MEDIA_SRTP_STEPS=250,500,750 MEDIA_SRTP_SUITES=AES_CM_128_HMAC_SHA1_80 node --import tsx bench/media-srtp.ts
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMediaEngine, SRTP_SUITES } from '../src/media/index.ts';
import type { MediaEngine, SrtpSuiteName } from '../src/media/index.ts';
import { CLoadGen, buildLoadGen, pinSelf } from './relay-loadgen.ts';
import type { LoadGenerator } from './relay-loadgen.ts';
import { callsPerCore, clean, measureInProcess, row, type RelayFigures } from './media-passthrough.ts';

const HOST = '127.0.0.1';
const SOCKETS = 8;
/**
 * Above the integration tests' 20000-48000 (media-passthrough's engine also starts at 50000: do
 * not run both at once). Each chain takes 8 ports; 3 systems of 500 chains fit below 65535.
 */
const PORT_BASE = 50000;

interface System { name: string; suite: SrtpSuiteName | null; engine: MediaEngine; targets: number[]; on: boolean; srtpLegs: number[] }

/** Grows `sys` to `calls` chains (see the module comment). */
async function growChains(sys: System, ports: number[], calls: number): Promise<void> {
  const pending: Promise<void>[] = [];
  for (let i = sys.targets.length / 2; i < calls; i++) {
    pending.push((async () => {
      const e = sys.engine;
      const [a, x] = await e.createLegPair();
      const [y, b] = await e.createLegPair();
      await e.setRemote(a.id, { address: HOST, rtpPort: ports[(2 * i) % ports.length]! });
      await e.setRemote(b.id, { address: HOST, rtpPort: ports[(2 * i + 1) % ports.length]! });
      await e.setRemote(x.id, { address: HOST, rtpPort: y.rtpPort });
      await e.setRemote(y.id, { address: HOST, rtpPort: x.rtpPort });
      if (sys.suite !== null) {
        const s = SRTP_SUITES[sys.suite];
        const kx = randomBytes(s.keyLength + s.saltLength);
        const ky = randomBytes(s.keyLength + s.saltLength);
        await e.setSrtp(x.id, { suite: sys.suite, rxKey: ky, txKey: kx });
        await e.setSrtp(y.id, { suite: sys.suite, rxKey: kx, txKey: ky });
        sys.srtpLegs.push(x.id, y.id);
      }
      await e.bridge(a.id, x.id);
      await e.bridge(y.id, b.id);
      sys.targets[2 * i] = a.rtpPort;
      sys.targets[2 * i + 1] = b.rtpPort;
    })());
    if (pending.length === 100) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
}

/** SRTP drops of a system so far (a correct relay has none: every packet is sealed by the other hop). */
async function srtpDrops(sys: System): Promise<string> {
  let auth = 0, replays = 0, malformed = 0;
  for (const id of sys.srtpLegs) {
    const s = (await sys.engine.stats(id)).srtp;
    if (s) { auth += s.authFailures; replays += s.replays; malformed += s.malformed; }
  }
  return auth + replays + malformed === 0 ? '' : `  SRTP drops: auth ${auth}, replay ${replays}, malformed ${malformed}`;
}

/** Per hop: each generator packet crossed two. */
const perHop = (f: RelayFigures): RelayFigures => ({ ...f, usPerPacket: f.usPerPacket / 2 });

export async function run(): Promise<void> {
  const steps = (process.env.MEDIA_SRTP_STEPS ?? '250,500').split(',').filter((v) => v.trim() !== '').map(Number);
  const suites = (process.env.MEDIA_SRTP_SUITES ?? 'AES_CM_128_HMAC_SHA1_80,AEAD_AES_128_GCM').split(',').filter((v) => v !== '') as SrtpSuiteName[];
  const stepMs = Number(process.env.MEDIA_SRTP_STEP_MS ?? 4000);
  const pin = process.env.MEDIA_BENCH_PIN !== '0' && availableParallelism() >= 2;
  const relayCpu = pin ? availableParallelism() - 1 : null;
  const maxCalls = Math.max(...steps);
  const build = buildLoadGen();
  if (!('path' in build)) throw new Error(`the C load generator is needed: ${build.reason}`);
  const gen: LoadGenerator = await CLoadGen.start(build, SOCKETS, pin ? 0 : null);
  const unpin = relayCpu !== null ? pinSelf(relayCpu) : () => {};
  const span = maxCalls * 8 + 400;
  if (PORT_BASE + (suites.length + 1) * span > 65535) throw new Error(`${maxCalls} chains x ${suites.length + 1} systems need more ports than 50000-65535 hold`);
  const systems: System[] = [];
  for (const [i, suite] of [null, ...suites].entries()) {
    const engine = await createMediaEngine({ portRange: [PORT_BASE + i * span, PORT_BASE + (i + 1) * span - 1], bindAddress: HOST, workers: 1, rtpTimeoutMs: 600_000, srtpAuthTimeoutMs: 0 });
    systems.push({ name: suite === null ? 'plain' : suite === 'AEAD_AES_128_GCM' ? 'srtp-gcm' : suite === 'AES_CM_128_HMAC_SHA1_32' ? 'srtp-cm32' : 'srtp-cm80', suite, engine, targets: [], on: true, srtpLegs: [] });
  }
  console.log(`SRTP vs plain relay: 1 engine worker per system${relayCpu !== null ? ` pinned to CPU ${relayCpu}` : ' (not pinned)'}, chains A=>X~Y=>B (2 hops per packet, 1 SRTP op per hop), ${stepMs} ms per step; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log('calls  system     loss A>B  loss B>A     CPU  us/hop  calls/core  latency p50/p99/max  peak RSS  gen CPU');
  const best = new Map<string, { calls: number; f: RelayFigures }>();
  try {
    for (const calls of steps) {
      for (const sys of systems) {
        if (!sys.on) continue;
        await growChains(sys, gen.ports, calls);
        await gen.run(sys.targets, 300);
        await sleep(100);
        const f = perHop(await measureInProcess(gen, sys.targets, stepMs));
        console.log(`${String(calls).padStart(5)}${row(sys.name, f)}${sys.suite === null ? '' : await srtpDrops(sys)}`);
        if (clean(f)) best.set(sys.name, { calls, f });
        if (Math.max(f.lossAtoB, f.lossBtoA) > 1 && f.cpu >= 90) sys.on = false;
      }
    }
    const plain = best.get('plain');
    console.log('');
    for (const sys of systems) {
      const b = best.get(sys.name);
      const ratio = plain && b ? ` -> ${(100 * callsPerCore(b.f) / callsPerCore(plain.f)).toFixed(0)} % of plain by CPU per packet (target >= 60 %)` : '';
      console.log(`${sys.name.padEnd(10)} ${b ? `${b.calls} chains clean, ${b.f.usPerPacket.toFixed(2)} us/hop, ${callsPerCore(b.f)} calls/core${ratio}` : 'no clean step'}`);
    }
    console.log(`load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  } finally {
    await gen.stop();
    for (const s of systems) await s.engine.close();
    unpin();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run();
