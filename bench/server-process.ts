/**
 * The server as users run it, in its own process: the compiled build with `npm start`'s flags
 * (issue 17: "the compiled server in its own process ... CPU read from that process"). A server
 * inside the bench process shares its heap, its event loop and its RSS with the bench and sipp's
 * result handling, and its figures were not those of `npm start`.
 *
 * Read from the outside: CPU (user + system of every thread, /proc/<pid>/stat), RSS and its
 * peak (/proc/<pid>/status VmRSS/VmHWM; the peak can be reset, `clear_refs` 5, so a run's peak
 * leaves out its set-up), and the server's own Prometheus metrics (`/metrics`, allowed from
 * 127.0.0.1 without credentials here).
 */
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { getFreePort } from '../test/helpers/sipp.ts';
import { cpuTicks, statusMb, TICKS_PER_SECOND } from './proc.ts';

const ROOT = new URL('..', import.meta.url).pathname;
/** V8 flags of `npm start` (package.json). */
export const START_FLAGS = ['--max-semi-space-size=32'];

export interface ServerProcess {
  readonly pid: number;
  /** `http://127.0.0.1:<port>` */
  readonly base: string;
  readonly sipPort: number;
  /** User + system CPU of the process (all threads) so far, microseconds (10 ms resolution). */
  cpuUs(): number;
  /** Current and peak resident set, MiB. */
  rssMb(): { rss: number; peak: number };
  /** Starts a new peak: VmHWM drops to the current RSS. */
  resetPeak(): void;
  /** The server's `/metrics`, summed per metric name (labels dropped). */
  metrics(): Promise<Map<string, number>>;
  stop(): Promise<void>;
}

/** Requests the server's overload control has shed so far (`strowger_sip_shed_total`; no line until one was). */
export async function shedSoFar(server: Pick<ServerProcess, 'metrics'>): Promise<number> {
  return (await server.metrics()).get('strowger_sip_shed_total') ?? 0;
}

/** Prometheus text format, one sum per metric name. */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m === null) continue;
    out.set(m[1]!, (out.get(m[1]!) ?? 0) + Number(m[3]));
  }
  return out;
}

/**
 * Builds (scripts/build.mjs) and starts `dist/main.js` with `env` (STROWGER_* settings; HTTP
 * and SIP ports are chosen here), and waits until `/api/health` answers.
 * `nodeFlags` go before the script (e.g. `--cpu-prof`), then those of BENCH_SERVER_FLAGS
 * (space-separated, e.g. `--trace-gc`: the server's stdout then goes to this process's).
 */
export async function startServerProcess(env: Record<string, string>, nodeFlags: string[] = []): Promise<ServerProcess> {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const httpPort = await getFreePort('tcp');
  const sipPort = await getFreePort('udp+tcp');
  const extra = (process.env.BENCH_SERVER_FLAGS ?? '').split(' ').filter((f) => f !== '');
  const child = spawn(process.execPath, [...START_FLAGS, ...nodeFlags, ...extra, 'dist/main.js'], {
    cwd: ROOT,
    env: { ...process.env, STROWGER_LOG_LEVEL: 'warn', ...env, STROWGER_HTTP_PORT: String(httpPort), STROWGER_SIP_PORT: String(sipPort), STROWGER_METRICS_ALLOW: '127.0.0.1' },
    stdio: ['ignore', extra.length > 0 ? 'inherit' : 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const base = `http://127.0.0.1:${httpPort}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${stderr}`);
    try {
      if ((await fetch(`${base}/api/health`)).ok) break;
    } catch { /* not listening yet */ }
    if (i > 300) throw new Error(`server did not answer /api/health within 30 s: ${stderr}`);
    await sleep(100);
  }
  const pid = child.pid!;
  return {
    pid, base, sipPort,
    cpuUs: () => (cpuTicks(pid) * 1e6) / TICKS_PER_SECOND,
    rssMb: () => ({ rss: statusMb(pid, 'VmRSS'), peak: statusMb(pid, 'VmHWM') }),
    resetPeak: () => writeFileSync(`/proc/${pid}/clear_refs`, '5'),
    metrics: async () => parseMetrics(await (await fetch(`${base}/metrics`)).text()),
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
