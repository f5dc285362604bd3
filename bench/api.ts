/**
 * HTTP API latency and throughput: `GET /api/devices?limit=50` with an API key (auth, then the
 * page of 1,000 devices: on SQLite from the store's read cache until the next write, else
 * count + page query and response schema serialization) against a bare
 * hello-world route registered on the SAME Fastify instance (through startServer's
 * `configureApp` hook, before listen), so both share plugins, hooks-free routing and process.
 * autocannon runs in a child process so load generation uses the other core and neither the
 * server's event loop nor its memory (peak RSS is the server's alone).
 *
 * Targets (issue 12; relative, as the hello route's own p99 is ~10 ms on the 2-core machine, so
 * the earlier absolute "p99 < 5 ms at 50 connections" could not be met by any route there):
 * p99 <= 1.5x the hello-world route's p99 and >= 70 % of its requests/s, in the same run.
 *
 *     npm run bench -- api                         (BENCH_API_SECONDS=10, BENCH_API_CONNECTIONS=50)
 *     node --cpu-prof --import tsx bench/index.ts api   (profile the hot path)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig } from '../src/config.ts';
import { startServer } from '../src/server.ts';

/** The part of autocannon's result used here (the package ships no types). */
interface AutocannonResult {
  requests: { average: number; total: number };
  /** Requests of the warm-up run before the measured one. */
  warmup: number;
  latency: { p50: number; p99: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}
const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon');

// The load generator runs in its own process: a worker thread would share this process's
// heap limits, libuv pool and peak RSS, and in-process it would share the event loop. The
// child warms up (V8 optimises, pools fill), then measures, and prints the result as JSON.
const LOAD_SCRIPT = `
const autocannon = require(process.argv[1]);
const opts = JSON.parse(process.argv[2]);
(async () => {
  const w = await autocannon({ ...opts, duration: Math.min(2, opts.duration) });
  const r = await autocannon(opts);
  process.stdout.write(JSON.stringify({ requests: r.requests, warmup: w.requests.total, latency: r.latency, errors: r.errors, timeouts: r.timeouts, non2xx: r.non2xx }));
})().catch((err) => { console.error(err); process.exit(1); });
`;

function autocannon(opts: { url: string; headers: Record<string, string>; connections: number; duration: number }): Promise<AutocannonResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', LOAD_SCRIPT, AUTOCANNON, JSON.stringify(opts)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as AutocannonResult) : reject(new Error(`autocannon exited with ${code}`))));
  });
}

const ADMIN = { email: 'bench@example.com', password: 'bench-password-1' };
const DEVICES = 1000;
const HELLO_PATH = '/bench/hello';

export interface ApiBenchResult {
  name: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  /**
   * Server CPU time (user + system, all threads) per request, warm-up included: unlike the rate,
   * it hardly depends on how much CPU other processes leave us, so it compares routes (and
   * builds) on a loaded machine.
   */
  cpuUs: number;
}

async function measure(name: string, url: string, headers: Record<string, string>, seconds: number, connections: number): Promise<ApiBenchResult> {
  const cpu0 = process.cpuUsage();
  const r = await autocannon({ url, headers, connections, duration: seconds });
  const cpu = process.cpuUsage(cpu0);
  const cpuUs = (cpu.user + cpu.system) / Math.max(1, r.requests.total + r.warmup);
  return { name, rps: r.requests.average, p50Ms: r.latency.p50, p99Ms: r.latency.p99, errors: r.errors + r.timeouts, non2xx: r.non2xx, cpuUs };
}

function combine(a: ApiBenchResult, b: ApiBenchResult): ApiBenchResult {
  return {
    name: a.name, rps: (a.rps + b.rps) / 2, p50Ms: Math.max(a.p50Ms, b.p50Ms), p99Ms: Math.max(a.p99Ms, b.p99Ms),
    errors: a.errors + b.errors, non2xx: a.non2xx + b.non2xx, cpuUs: (a.cpuUs + b.cpuUs) / 2,
  };
}

async function json(base: string, method: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<any> {
  const res = await fetch(base + path, body === undefined ? { method, headers } : { method, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

export async function run(): Promise<{ api: ApiBenchResult; hello: ApiBenchResult; ratio: number; p99Ratio: number; maxRssMb: number }> {
  const seconds = Number(process.env.BENCH_API_SECONDS ?? 10);
  const loadBefore = loadavg()[0]!;
  const connections = Number(process.env.BENCH_API_CONNECTIONS ?? 50);
  const dataDir = mkdtempSync(join(tmpdir(), 'strowger-bench-'));
  const config = loadConfig({
    STROWGER_DATA_DIR: dataDir, STROWGER_HTTP_PORT: '0', STROWGER_HOST: '127.0.0.1',
    STROWGER_SIP_HOST: '127.0.0.1', STROWGER_SIP_PORT: '0', STROWGER_SIP_TLS_PORT: '0',
    STROWGER_ADMIN_EMAIL: ADMIN.email, STROWGER_ADMIN_PASSWORD: ADMIN.password, STROWGER_LOG_LEVEL: 'silent',
  });
  const server = await startServer(config, {
    logger: pino({ level: 'silent' }),
    configureApp: (app) => { app.get(HELLO_PATH, { config: { auth: 'public' }, schema: { hide: true } }, async () => ({ hello: 'world' })); },
  });
  try {
    const base = `http://127.0.0.1:${server.httpPort}`;
    const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
    const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
    const key: string = (await json(base, 'POST', '/api/keys', { name: 'bench', scopes: ['pbx'] }, { cookie })).key;
    const auth = { authorization: `Bearer ${key}` };
    const t0 = performance.now();
    for (let i = 0; i < DEVICES; i += 20) {
      await Promise.all(Array.from({ length: 20 }, (_, j) => json(base, 'POST', '/api/devices', {
        name: `Bench phone ${i + j}`, username: `${10000 + i + j}`, password: 'bench-sip-password', type: 'grandstream',
      }, auth)));
    }
    const seedMs = performance.now() - t0;
    const check = await json(base, 'GET', '/api/devices?limit=50', undefined, auth);
    if (check.pagination?.total !== DEVICES) throw new Error(`expected ${DEVICES} devices, got ${JSON.stringify(check.pagination)}`);

    // Two halves in A-B-B-A order: load from other jobs that drifts during the run weighs on
    // both routes alike. Rates are averaged, the worse p50/p99 of the two halves is kept.
    const half = Math.max(1, Math.round(seconds / 2));
    const apiRun = () => measure('GET /api/devices?limit=50 (Bearer)', `${base}/api/devices?limit=50`, auth, half, connections);
    const helloRun = () => measure(`GET ${HELLO_PATH} (reference)`, `${base}${HELLO_PATH}`, {}, half, connections);
    const [a1, h1, h2, a2] = [await apiRun(), await helloRun(), await helloRun(), await apiRun()];
    const api = combine(a1!, a2!);
    const hello = combine(h1!, h2!);
    // The list is cached until the next database write: with a write every 10 ms (as a busy
    // registrar makes) most requests find the page just invalidated and read it again.
    const writer = setInterval(() => {
      void server.ctx.store.db.updateTable('devices').set({ updated_at: new Date().toISOString() }).where('username', '=', '10000').execute();
    }, 10);
    const apiWrites = await measure('same, a write every 10 ms', `${base}/api/devices?limit=50`, auth, Math.min(seconds, 5), connections).finally(() => clearInterval(writer));
    // With N connections, latency ~ N / throughput (Little's law): one connection shows the service time itself.
    const api1 = await measure('same, 1 connection', `${base}/api/devices?limit=50`, auth, Math.min(seconds, 5), 1);
    const hello1 = await measure('hello, 1 connection', `${base}${HELLO_PATH}`, {}, Math.min(seconds, 5), 1);
    const ratio = api.rps / hello.rps;
    const p99Ratio = api.p99Ms / Math.max(1, hello.p99Ms);
    const maxRssMb = process.resourceUsage().maxRSS / 1024;

    const row = (r: ApiBenchResult) => `${r.name.padEnd(40)} ${r.rps.toFixed(0).padStart(8)} req/s   p50 ${r.p50Ms.toFixed(2).padStart(6)} ms   p99 ${r.p99Ms.toFixed(2).padStart(6)} ms   CPU ${r.cpuUs.toFixed(1).padStart(5)} us/req   errors ${r.errors + r.non2xx}`;
    process.stdout.write([
      `seeded ${DEVICES} devices through the API in ${(seedMs / 1000).toFixed(1)} s; ${connections} connections x ${seconds} s each (two halves, A-B-B-A), SQLite; autocannon in a child process`,
      row(api),
      row(hello),
      `  halves in run order: devices ${a1!.rps.toFixed(0)} req/s p99 ${a1!.p99Ms} ms, hello ${h1!.rps.toFixed(0)} / ${h1!.p99Ms} ms, hello ${h2!.rps.toFixed(0)} / ${h2!.p99Ms} ms, devices ${a2!.rps.toFixed(0)} / ${a2!.p99Ms} ms`,
      row(apiWrites),
      row(api1),
      row(hello1),
      `rate: ${(ratio * 100).toFixed(1)} % of hello-world's (target >= 70 %): ${ratio >= 0.7 ? 'OK' : 'MISSED'}; server CPU per request: hello ${hello.cpuUs.toFixed(1)} us = ${(hello.cpuUs / api.cpuUs * 100).toFixed(1)} % of the devices route's ${api.cpuUs.toFixed(1)} us (the rate ratio a CPU-bound server would reach)`,
      `p99: ${api.p99Ms.toFixed(2)} ms at ${connections} connections = ${p99Ratio.toFixed(2)}x hello-world's ${hello.p99Ms.toFixed(2)} ms (target <= 1.5x): ${p99Ratio <= 1.5 ? 'OK' : 'MISSED'}; ${api1.p99Ms.toFixed(2)} ms at 1 connection (autocannon rounds latency to whole ms)`,
      `peak RSS (server process): ${maxRssMb.toFixed(0)} MiB; load average ${loadBefore.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after, ${availableParallelism()} CPUs`,
      '',
    ].join('\n'));
    return { api, hello, ratio, p99Ratio, maxRssMb };
  } finally {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
