/**
 * Kamailio (Debian `kamailio`) as a reference in the SIP benchmarks (issue 17): started from a
 * config kept in `bench/kamailio/` on a free port, its CPU read from /proc for the main process
 * and every child it forked, stopped at the end. Absent binary: the bench says so and runs the rest.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { getFreePort } from '../test/helpers/sipp.ts';
import { cpuTicks, TICKS_PER_SECOND } from './proc.ts';

const BINARY = '/usr/sbin/kamailio';

export interface RunningKamailio {
  readonly address: string;
  /** User + system CPU of Kamailio's processes so far, microseconds. */
  cpuUs(): number;
  stop(): Promise<void>;
}

/** Why Kamailio cannot run here, or null. */
function kamailioMissing(): string | null {
  return existsSync(BINARY) ? null : `${BINARY} not found (apt-get install -y kamailio)`;
}

/** The pids of `root` and its descendants. */
function processTree(root: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch { /* gone */ }
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) for (const [pid, ppid] of parent) if (ppid === tree[i]) tree.push(pid);
  return tree;
}

/**
 * Starts Kamailio with `bench/kamailio/<config>`, `__NAME__` placeholders replaced from `vars`
 * (`__PORT__` is set here), and waits until it answers on the port.
 */
async function startKamailio(config: string, port: number, vars: Record<string, string>): Promise<RunningKamailio> {
  const dir = mkdtempSync(join(tmpdir(), 'strowger-bench-kamailio-'));
  let text = readFileSync(new URL(`kamailio/${config}`, import.meta.url), 'utf8');
  for (const [k, v] of Object.entries({ ...vars, PORT: String(port) })) text = text.replaceAll(`__${k}__`, v);
  const cfg = join(dir, 'kamailio.cfg');
  writeFileSync(cfg, text);
  // -DD: no daemon, children still forked; -E: log to stderr; -m/-M: shared/private memory MiB.
  // Shared memory holds tm's transactions (each kept ~5 s after its final response): with 256 MB
  // the stateful proxy ran out at 2,000 CPS and failed every call after the first ~19,000, so
  // the reference stopped at 1,500 CPS for want of memory, not of CPU (our server is allowed
  // ~700 MB at those rates). 1 GB lets it go to its CPU limit (3,000 CPS clean here).
  const child: ChildProcess = spawn(BINARY, ['-f', cfg, '-DD', '-E', '-m', '1024', '-M', '16', '-Y', dir, '-P', join(dir, 'kamailio.pid')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { if (stderr.length < 20_000) stderr += d.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Ready once the children are forked (the main process alone is still loading modules).
  for (let i = 0; i < 100; i++) {
    await sleep(100);
    if (child.exitCode !== null) break;
    if (processTree(child.pid!).length > 2) break;
  }
  if (child.exitCode !== null) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`kamailio exited (${child.exitCode}):\n${stderr.slice(-3000)}`);
  }
  await sleep(300);
  const cpu0 = processTree(child.pid!).reduce((s, p) => s + cpuTicks(p), 0);
  return {
    address: `127.0.0.1:${port}`,
    cpuUs: () => ((processTree(child.pid!).reduce((s, p) => s + cpuTicks(p), 0) - cpu0) * 1e6) / TICKS_PER_SECOND,
    stop: async () => {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(3000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The Kamailio reference of a benchmark, or null after printing why it is not measured (`skipEnv`
 * set to `0`, no binary, or it would not start): the bench then runs without it.
 */
export async function kamailioReference(config: string, vars: Record<string, string>, skipEnv: string): Promise<RunningKamailio | null> {
  const missing = process.env[skipEnv] === '0' ? `${skipEnv}=0` : kamailioMissing();
  const kamailio = missing !== null ? null : await startKamailio(config, await getFreePort('udp'), vars).catch((err: Error) => {
    process.stdout.write(`kamailio: not measured (${err.message})\n`);
    return null;
  });
  if (missing !== null) process.stdout.write(`kamailio: not measured (${missing})\n`);
  return kamailio;
}
