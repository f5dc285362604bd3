/**
 * `npm run bench -- register-ab`: CPU per REGISTER pair of two servers measured over the same
 * seconds — a paired comparison for a shared, noisy machine, where the same build read 150 to
 * 300 µs per pair at 3,000/s from one run of `register` to the next (bench/README.md, session
 * 15) and a change worth 5 % cannot be seen across runs. Both servers run at once, each driven by its
 * own sipp at the same rate; whatever slows the machine slows both, and the ratio B/A of each
 * round is the figure.
 *
 *     BENCH_AB_BASE=19f0409 npm run bench -- register-ab   # A: that commit, B: this checkout
 *     BENCH_AB_ENV_A='{"STROWGER_SIP_REGISTRAR_THREADS":"1"}' npm run bench -- register-ab
 *
 * BENCH_AB_BASE: a git revision built in a temporary worktree as server A (its bench/ must have
 * `server-process.ts`). BENCH_AB_ENV_A / BENCH_AB_ENV_B: JSON objects of settings for server A /
 * B. BENCH_AB_RATE (per server, default 1,500/s), BENCH_AB_SECONDS (default 15), BENCH_AB_ROUNDS
 * (default 4). Swap the roles in a second run: the server started first is A.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServerProcess, type ServerProcess } from './server-process.ts';
import { driveRegister, registerServerEnv, seedDevices } from './sip-register.ts';

const ROOT = new URL('..', import.meta.url).pathname;
type Start = typeof startServerProcess;

/** The server start of revision `rev`, from a worktree made for it; `remove` deletes the worktree. */
async function startOf(rev: string): Promise<{ start: Start; remove(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'strowger-bench-ab-'));
  execFileSync('git', ['worktree', 'add', '--detach', '--force', dir, rev], { cwd: ROOT, stdio: 'ignore' });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const remove = (): void => {
    execFileSync('git', ['worktree', 'remove', '--force', dir], { cwd: ROOT, stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    return { start: ((await import(join(dir, 'bench/server-process.ts'))) as { startServerProcess: Start }).startServerProcess, remove };
  } catch (err) {
    remove();
    throw new Error(`register-ab: ${rev} has no usable bench/server-process.ts (${String(err)})`);
  }
}

const settings = (name: string): Record<string, string> => JSON.parse(process.env[name] ?? '{}') as Record<string, string>;

export async function run(): Promise<{ ratios: number[] }> {
  const base = process.env.BENCH_AB_BASE;
  if (base === undefined && process.env.BENCH_AB_ENV_A === undefined && process.env.BENCH_AB_ENV_B === undefined) {
    process.stdout.write('register-ab: nothing to compare (set BENCH_AB_BASE, BENCH_AB_ENV_A or BENCH_AB_ENV_B; see bench/register-ab.ts)\n');
    return { ratios: [] };
  }
  const rate = Number(process.env.BENCH_AB_RATE ?? 1500);
  const seconds = Number(process.env.BENCH_AB_SECONDS ?? 15);
  const rounds = Number(process.env.BENCH_AB_ROUNDS ?? 4);
  const other = base === undefined ? undefined : await startOf(base);
  const servers: ServerProcess[] = [];
  const ratios: number[] = [];
  try {
    const start = async (s: Start, env: Record<string, string>) => {
      const server = await s({ ...registerServerEnv(mkdtempSync(join(tmpdir(), 'strowger-bench-ab-data-'))), ...env });
      servers.push(server);
      return { server, target: `127.0.0.1:${server.sipPort}`, rows: await seedDevices(server.base) };
    };
    const a = await start(other?.start ?? startServerProcess, settings('BENCH_AB_ENV_A'));
    const b = await start(startServerProcess, settings('BENCH_AB_ENV_B'));
    process.stdout.write(`register-ab: A = ${base ?? 'this checkout'} ${process.env.BENCH_AB_ENV_A ?? ''}, B = this checkout ${process.env.BENCH_AB_ENV_B ?? ''}; ${rate}/s each, ${seconds} s rounds\n`);
    // Warm-up: bindings exist and the JIT has seen the path, on both.
    await Promise.all([a, b].map((x) => driveRegister(x.target, x.rows, 500, x.rows.length)));
    for (let round = 0; round < rounds; round++) {
      const cpu0 = [a.server.cpuUs(), b.server.cpuUs()];
      const results = await Promise.all([a, b].map((x) => driveRegister(x.target, x.rows, rate, rate * seconds)));
      const us = [a, b].map((x, i) => (x.server.cpuUs() - cpu0[i]!) / Math.max(1, results[i]!.stats.successful));
      ratios.push(us[1]! / us[0]!);
      process.stdout.write(`round ${round + 1}: A ${us[0]!.toFixed(0)} µs per pair (${results[0]!.stats.failed} failed), B ${us[1]!.toFixed(0)} µs (${results[1]!.stats.failed} failed), B/A ${ratios.at(-1)!.toFixed(3)}\n`);
    }
    const sorted = [...ratios].sort((x, y) => x - y);
    process.stdout.write(`B/A median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(3)} (range ${sorted[0]!.toFixed(3)}–${sorted.at(-1)!.toFixed(3)}); peak RSS A ${a.server.rssMb().peak.toFixed(0)} MiB, B ${b.server.rssMb().peak.toFixed(0)} MiB\n`);
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    other?.remove();
  }
  return { ratios };
}
