/**
 * REGISTER with digest per second: sipp (`test/sipp/register-digest.xml`: REGISTER, 401,
 * REGISTER + MD5 Authorization, 200) against a running server with 1,000 devices, the rate
 * stepped up (`-r`) for a few seconds each with a bounded call count (`-m`). Reported per
 * step: achieved rate, failures, retransmissions, sipp's response time, and the server's CPU
 * time per REGISTER pair; then the highest rate with 0 failures and the server's peak RSS.
 *
 * Reference in the same run: the same sipp client against sipp's own registrar
 * (`test/sipp/mock-registrar.xml`: 401, `verifyauth`, 200) at the same rates: what the load
 * generator and loopback manage without our server.
 *
 * Target: >= 5,000 REGISTER+auth/s with 0 failures.
 *
 *     npm run bench -- sip      BENCH_SIP_RATES=2000,5000,8000,10000,12000,15000 BENCH_SIP_SECONDS=10
 *     BENCH_SIP_PROFILE=/tmp/reg.cpuprofile npm run bench -- sip   (CPU profile of the server's main thread, whole run)
 *
 * The server runs in its own process, as `npm start` runs it (`server-process.ts`): its CPU per
 * step and its peak RSS over the steps (set-up and warm-up left out) are read from /proc, its
 * overload counters from its `/metrics`.
 */
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { getFreePort, runSipp, sippUserRow, startSippServer, type SippResult } from '../test/helpers/sipp.ts';
import { kamailioReference } from './kamailio.ts';
import { shedSoFar, startServerProcess, type ServerProcess } from './server-process.ts';
import { SIPP_BUFFER_ARGS } from './sipp-buffers.ts';

const DEVICES = Number(process.env.BENCH_SIP_DEVICES ?? 1000);
const DOMAIN = 'bench.test';
const SIP_PASSWORD = 'bench-sip-password';
const ADMIN = { email: 'bench@example.com', password: 'bench-password-1' };

export interface RegisterStep {
  target: string;
  rate: number;
  calls: number;
  successful: number;
  failed: number;
  retransmissions: number;
  /** Successful REGISTER exchanges per second of sipp's elapsed time. */
  achieved: number;
  /** sipp's mean response time of the final 200 (ms). */
  responseMs: number;
  /** Share of exchanges whose final 200 came < 20 ms after the first REGISTER (NaN: no histogram). */
  under20: number;
  /** The histogram bucket bound (ms) the 99th percentile is under (Infinity: >= 500 ms). */
  p99Bound: number;
  /** Server CPU (user+system) microseconds per exchange; NaN for the reference. */
  cpuUsPerCall: number;
  /** REGISTERs the server's overload control answered 503 (or dropped); NaN for the reference. */
  shed: number;
}

/** `ElapsedTime(C)` of sipp's stat CSV: `HH:MM:SS:uuuuuu` (older builds: `HH:MM:SS`). */
function elapsedSeconds(raw: string | undefined): number {
  const p = (raw ?? '').split(':').map(Number);
  if (p.length < 3 || p.some((n) => !Number.isFinite(n))) return NaN;
  return p[0]! * 3600 + p[1]! * 60 + p[2]! + (p[3] ?? 0) / 1e6;
}

/** `ResponseTime1(C)` is `HH:MM:SS:uuuuuu` too: the mean response time of the `rtd` message. */
function responseMs(raw: string | undefined): number {
  return elapsedSeconds(raw) * 1000;
}

/**
 * From the `ResponseTimeRepartition` histogram of register-digest.xml (buckets < 10, < 20, < 50,
 * < 100, < 200, < 500, >= 500 ms): the share of `rtd` samples under 20 ms (the issue's "p99 < 20
 * ms" holds when >= 0.99) and the bucket bound the 99th percentile falls under (Infinity: >= 500).
 */
export function repartition(raw: Record<string, string>): { under20: number; p99Bound: number } {
  const buckets: Array<{ bound: number; n: number }> = [];
  for (const [name, value] of Object.entries(raw)) {
    const m = /^ResponseTimeRepartition1_(<|>=)(\d+)$/.exec(name);
    if (m === null) continue;
    buckets.push({ bound: m[1] === '<' ? Number(m[2]) : Infinity, n: Number(value) || 0 });
  }
  buckets.sort((a, b) => a.bound - b.bound);
  const total = buckets.reduce((t, b) => t + b.n, 0);
  if (total === 0) return { under20: NaN, p99Bound: NaN };
  let seen = 0;
  let p99Bound = Infinity;
  for (const b of buckets) {
    seen += b.n;
    if (seen >= total * 0.99) { p99Bound = b.bound; break; }
  }
  const fast = buckets.filter((b) => b.bound <= 20).reduce((t, b) => t + b.n, 0);
  return { under20: fast / total, p99Bound };
}

function step(target: string, rate: number, calls: number, r: SippResult, cpuUs: number, shed = NaN): RegisterStep {
  const seconds = elapsedSeconds(r.stats.raw['ElapsedTime(C)']) || r.durationMs / 1000;
  return {
    target, rate, calls,
    successful: r.stats.successful,
    failed: r.stats.failed + (r.timedOut ? calls - r.stats.successful - r.stats.failed : 0),
    retransmissions: r.stats.retransmissions,
    achieved: r.stats.successful / seconds,
    responseMs: responseMs(r.stats.raw['ResponseTime1(C)']),
    ...repartition(r.stats.raw),
    cpuUsPerCall: cpuUs / Math.max(1, r.stats.successful),
    shed,
  };
}

async function json(base: string, method: string, path: string, body: unknown, headers: Record<string, string>): Promise<any> {
  const res = await fetch(base + path, { method, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

function settle(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Waits (at most 10 s) until overload control sheds nothing: seeding devices through the API
 * or the previous step may have pegged the thread, and the next step must start from calm.
 */
async function calm(server: ServerProcess): Promise<void> {
  for (let i = 0; i < 100 && ((await server.metrics()).get('strowger_sip_shed_share') ?? 0) > 0; i++) await settle(100);
}

/** The server settings of the REGISTER benches (`dataDir` is the server's data directory). */
export function registerServerEnv(dataDir: string): Record<string, string> {
  return {
    STROWGER_DATA_DIR: dataDir, STROWGER_HOST: '127.0.0.1',
    STROWGER_SIP_HOST: '127.0.0.1', STROWGER_SIP_TLS_PORT: 'off',
    STROWGER_DOMAIN: DOMAIN, STROWGER_LOG_LEVEL: 'silent',
    STROWGER_ADMIN_EMAIL: ADMIN.email, STROWGER_ADMIN_PASSWORD: ADMIN.password,
    // sipp 3.6 answers only the first challenge, and only MD5.
    STROWGER_SIP_DIGEST_ALGORITHMS: 'MD5,SHA-256',
    // `STROWGER_SIP_DIRECT_UDP=0 npm run bench -- sip`: the same run on dgram's public API.
    STROWGER_SIP_DIRECT_UDP: process.env.STROWGER_SIP_DIRECT_UDP ?? '1',
  };
}

/** Creates the bench's devices through the API; answers sipp's injection rows for them. */
export async function seedDevices(base: string): Promise<string[][]> {
  const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
  const cookie = { cookie: login.headers.getSetCookie()[0]!.split(';')[0]! };
  const users = Array.from({ length: DEVICES }, (_, i) => String(20000 + i));
  for (let i = 0; i < DEVICES; i += 25) {
    await Promise.all(users.slice(i, i + 25).map((u) => json(base, 'POST', '/api/devices', { name: `Bench ${u}`, username: u, password: SIP_PASSWORD }, cookie)));
  }
  return users.map((u) => sippUserRow(u, SIP_PASSWORD, DOMAIN));
}

/**
 * The devices' phones: one sipp source port for every run against one registrar. A REGISTER's
 * Contact names sipp's port, so a new port per step gave each device one more binding per step
 * (1,000 new rows, and a 200 listing up to six Contacts by the last step) where the steps mean to
 * measure what a fleet does: refresh the binding it has.
 */
export interface Fleet {
  readonly rows: string[][];
  readonly localPort: number;
}

export async function fleet(rows: string[][]): Promise<Fleet> {
  return { rows, localPort: await getFreePort('udp') };
}

/** `calls` REGISTER pairs (register-digest.xml) at `rate` per second from one sipp to `target`. */
export function driveRegister(target: string, phones: Fleet, rate: number, calls: number): Promise<SippResult> {
  return runSipp({
    scenario: 'register-digest.xml', target, rate, calls, injection: { rows: phones.rows }, localPort: phones.localPort,
    traceMessages: false, timeoutMs: (calls / rate) * 1000 + 30_000,
    // One UDP socket; sipp gives up on a transaction after 5 retransmissions (T1 500 ms).
    extraArgs: ['-max_recv_loops', '10000', '-max_sched_loops', '10000', ...SIPP_BUFFER_ARGS],
  });
}

export async function run(): Promise<{ steps: RegisterStep[]; reference: RegisterStep[]; best: number; maxRssMb: number }> {
  const seconds = Number(process.env.BENCH_SIP_SECONDS ?? 10);
  const rates = (process.env.BENCH_SIP_RATES ?? '2000,5000,8000,10000,12000,15000').split(',').map(Number);
  const loadBefore = loadavg()[0]!;
  const dataDir = mkdtempSync(join(tmpdir(), 'strowger-bench-sip-'));
  const profileDir = process.env.BENCH_SIP_PROFILE ? mkdtempSync(join(tmpdir(), 'strowger-bench-sip-prof-')) : undefined;
  const server = await startServerProcess(registerServerEnv(dataDir), profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`]);
  const sipPort = server.sipPort;
  let peakRssMb = NaN;
  const steps: RegisterStep[] = [];
  const reference: RegisterStep[] = [];
  const kamailioSteps: RegisterStep[] = [];
  try {
    const phones = await fleet(await seedDevices(server.base));
    const target = `127.0.0.1:${sipPort}`;

    // Warm-up: every device registers once (bindings exist, so the steps measure refreshes
    // like a real fleet; credential cache and JIT are warm).
    // On a loaded machine overload control may answer some with 503: go again, slower
    // (from the same port: the same binding).
    let warm: SippResult | undefined;
    for (const rate of [1000, 300, 100]) {
      if (warm?.stats.successful === DEVICES) break;
      await calm(server);
      warm = await driveRegister(target, phones, rate, DEVICES);
    }
    if (warm?.stats.successful !== DEVICES) throw new Error(`warm-up: ${warm?.stats.successful}/${DEVICES} registered\n${warm?.errors.slice(0, 2000)}`);
    const bound = (await server.metrics()).get('strowger_sip_registrations') ?? 0;
    if (bound < DEVICES) throw new Error(`warm-up: ${bound} bindings, expected ${DEVICES}`);

    server.resetPeak();
    for (const rate of rates) {
      await settle(1000);
      await calm(server);
      const shed0 = await shedSoFar(server);
      const calls = rate * seconds;
      const cpu0 = server.cpuUs();
      const r = await driveRegister(target, phones, rate, calls);
      const cpuUs = server.cpuUs() - cpu0;
      steps.push(step('strowger', rate, calls, r, cpuUs, (await shedSoFar(server)) - shed0));
    }
    peakRssMb = server.rssMb().peak;
    await server.stop();
    if (profileDir !== undefined) {
      const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
      if (file !== undefined) copyFileSync(join(profileDir, file), process.env.BENCH_SIP_PROFILE!);
      rmSync(profileDir, { recursive: true, force: true });
    }

    // Reference: sipp's own registrar, same client, same rates (one user: verifyauth checks
    // against the single -set user/pass pair).
    const mock = await startSippServer({ scenario: 'mock-registrar.xml', vars: { user: 'bench', pass: SIP_PASSWORD }, traceMessages: false, extraArgs: ['-max_recv_loops', '10000', ...SIPP_BUFFER_ARGS] });
    const mockPhone = await fleet([sippUserRow('bench', SIP_PASSWORD, DOMAIN)]);
    try {
      for (const rate of rates) {
        await settle(500);
        const calls = rate * seconds;
        const r = await driveRegister(mock.address, mockPhone, rate, calls);
        reference.push(step('sipp mock-registrar', rate, calls, r, NaN));
      }
    } finally {
      await mock.stop();
    }

    // Reference the issue names: Kamailio's registrar (2 children, bindings in memory), the
    // same devices, client and rates, its CPU read from /proc.
    const kamailio = await kamailioReference('registrar.cfg', { PASSWORD: SIP_PASSWORD, CHILDREN: '2' }, 'BENCH_SIP_KAMAILIO');
    try {
      if (kamailio !== null) {
        const kamPhones = await fleet(phones.rows);
        await driveRegister(kamailio.address, kamPhones, 1000, DEVICES); // warm-up: bindings exist, like ours
        for (const rate of rates) {
          await settle(500);
          const calls = rate * seconds;
          const cpu0 = kamailio.cpuUs();
          const r = await driveRegister(kamailio.address, kamPhones, rate, calls);
          kamailioSteps.push(step('kamailio 5.6', rate, calls, r, kamailio.cpuUs() - cpu0));
        }
      }
    } finally {
      await kamailio?.stop();
    }
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }

  const maxRssMb = peakRssMb;
  // A step is clean when nothing failed, nothing was retransmitted (issue 17: "no retransmission
  // at any rate reported as clean") and sipp actually reached (95 % of) the asked rate.
  const ok = (s: RegisterStep) => s.failed === 0 && s.retransmissions === 0 && s.successful === s.calls && s.achieved >= s.rate * 0.95;
  const best = Math.max(0, ...steps.filter(ok).map((s) => s.rate));
  const refBest = Math.max(0, ...reference.filter(ok).map((s) => s.rate));
  const kamBest = Math.max(0, ...kamailioSteps.filter(ok).map((s) => s.rate));
  // CPU per pair where the system still keeps up (an overloaded step adds retransmissions and shedding).
  const atBest = (list: RegisterStep[], rate: number) => list.find((s) => s.rate === rate)?.cpuUsPerCall ?? NaN;
  // The step nearest 80 % of the clean rate, for the issue's "p99 < 20 ms at 80 % of the clean rate".
  const near80 = steps.filter((s) => s.rate <= best * 0.8).at(-1) ?? steps.filter(ok)[0];
  const row = (s: RegisterStep) => [
    s.target.padEnd(20), String(s.rate).padStart(6), `${s.successful}/${s.calls}`.padStart(13), String(s.failed).padStart(6),
    String(s.retransmissions).padStart(7), s.achieved.toFixed(0).padStart(9), s.responseMs.toFixed(1).padStart(8),
    Number.isNaN(s.under20) ? '      -' : `${(s.under20 * 100).toFixed(2)}%`.padStart(7),
    (Number.isNaN(s.p99Bound) ? '-' : s.p99Bound === Infinity ? '>=500' : `<${s.p99Bound}`).padStart(6),
    Number.isNaN(s.cpuUsPerCall) ? '       -' : s.cpuUsPerCall.toFixed(0).padStart(8),
    Number.isNaN(s.shed) ? '     -' : String(s.shed).padStart(6),
  ].join(' ');
  process.stdout.write([
    `sip-register: REGISTER+digest (2 transactions each) driven by sipp, ${DEVICES} devices, ${seconds} s per step, SQLite, UDP`,
    `${'target'.padEnd(20)} ${'rate'.padStart(6)} ${'ok/calls'.padStart(13)} ${'failed'.padStart(6)} ${'retrans'.padStart(7)} ${'achieved'.padStart(9)} ${'resp ms'.padStart(8)} ${'<20ms'.padStart(7)} ${'p99 ms'.padStart(6)} ${'cpu us'.padStart(8)} ${'shed'.padStart(6)}`,
    ...steps.map(row),
    ...reference.map(row),
    ...kamailioSteps.map(row),
    `  (resp ms: sipp's mean time from the first REGISTER to the final 200, i.e. both round trips; <20ms: share of pairs answered within 20 ms; p99 ms: the histogram bucket (10, 20, 50, 100, 200, 500 ms) the 99th percentile falls in; clean: 0 failed, 0 retransmitted)`,
    `highest clean rate: ${best}/s (sipp mock ${refBest}/s${kamailioSteps.length ? `, Kamailio ${kamBest}/s${kamBest === rates.at(-1) ? ' (the top of the ladder: its own limit may be higher)' : ''}: ratio ${kamBest > 0 ? (best / kamBest).toFixed(2) : '-'} (target >= 1.0)` : ''}); target >= 5000/s: ${best >= 5000 ? 'OK' : 'MISSED'}`,
    `server CPU per REGISTER pair at the highest clean step: ${atBest(steps, best).toFixed(0)} us (=> ${Math.round(1e6 / atBest(steps, best))} pairs per CPU-second; target <= 80 us)${kamailioSteps.length ? `; Kamailio ${atBest(kamailioSteps, kamBest).toFixed(0)} us at its highest clean step` : ''}`,
    near80 === undefined ? 'p99 at 80 % of the clean rate: no clean step' : `pairs answered within 20 ms at ${near80.rate}/s (<= 80 % of the clean rate): ${(near80.under20 * 100).toFixed(2)} % (target: p99 < 20 ms, i.e. >= 99 %): ${near80.under20 >= 0.99 ? 'OK' : 'MISSED'}`,
    `peak RSS of the server process over the steps: ${maxRssMb.toFixed(0)} MiB (target <= 200); load average ${loadBefore.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after, ${availableParallelism()} CPUs`,
    '',
  ].join('\n'));
  return { steps, reference, best, maxRssMb };
}
