/**
 * The paired comparison behind `register-ab` and `calls-ab`: two servers measured over the same
 * seconds, for a shared, noisy machine where the same build reads 150 to 300 µs per REGISTER
 * pair from one run to the next (bench/README.md, session 15) and a change worth 5 % cannot be
 * seen across runs. Both servers run at once, each driven by its own sipp at the same rate;
 * whatever slows the machine slows both, and the ratio B/A of each round's CPU per unit of work
 * is the figure.
 *
 * BENCH_AB_BASE: a git revision built in a temporary worktree as server A (its bench/ must have
 * the workload's module). BENCH_AB_ENV_A / BENCH_AB_ENV_B: JSON objects of environment for
 * server A / B (STROWGER_* settings, or NODE_OPTIONS for node flags). BENCH_AB_RATE (per
 * server), BENCH_AB_SECONDS (default 15), BENCH_AB_ROUNDS (default 4). Swap the roles in a
 * second run: the server started first is A.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('..', import.meta.url).pathname;

/** One server under comparison, as a workload drives and measures it. */
export interface AbServer {
  /** CPU of the server process so far, µs. */
  cpuUs(): number;
  peakRssMb(): number;
  stop(): Promise<void>;
}

/** What is compared: how a server starts (from a module of this checkout or of the base revision) and one round's work. */
export interface AbWorkload<S extends AbServer, M> {
  /** `register-ab`, `calls-ab`: names the output. */
  name: string;
  /** The bench/ module (relative) that `start` receives, loaded from the revision's worktree for A. */
  module: string;
  unit: string;
  defaultRate: number;
  start(module: M, env: Record<string, string>): Promise<S>;
  /** Untimed load before the rounds (JIT, caches, bindings). */
  warmUp(server: S): Promise<void>;
  /** Drives `count` units of work at `rate`; resolves with the units completed and failed. */
  drive(server: S, rate: number, count: number): Promise<{ successful: number; failed: number }>;
}

/** `module` of revision `rev`, from a worktree made for it; `remove` deletes the worktree. */
async function moduleOf<M>(rev: string, module: string, name: string): Promise<{ module: M; remove(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'strowger-bench-ab-'));
  execFileSync('git', ['worktree', 'add', '--detach', '--force', dir, rev], { cwd: ROOT, stdio: 'ignore' });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const remove = (): void => {
    execFileSync('git', ['worktree', 'remove', '--force', dir], { cwd: ROOT, stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    return { module: (await import(join(dir, 'bench', module))) as M, remove };
  } catch (err) {
    remove();
    throw new Error(`${name}: ${rev} has no usable bench/${module} (${String(err)})`);
  }
}

const settings = (name: string): Record<string, string> => JSON.parse(process.env[name] ?? '{}') as Record<string, string>;

export async function runAb<S extends AbServer, M>(w: AbWorkload<S, M>, own: M): Promise<{ ratios: number[] }> {
  const base = process.env.BENCH_AB_BASE;
  if (base === undefined && process.env.BENCH_AB_ENV_A === undefined && process.env.BENCH_AB_ENV_B === undefined) {
    process.stdout.write(`${w.name}: nothing to compare (set BENCH_AB_BASE, BENCH_AB_ENV_A or BENCH_AB_ENV_B; see bench/ab.ts)\n`);
    return { ratios: [] };
  }
  const rate = Number(process.env.BENCH_AB_RATE ?? w.defaultRate);
  const seconds = Number(process.env.BENCH_AB_SECONDS ?? 15);
  const rounds = Number(process.env.BENCH_AB_ROUNDS ?? 4);
  const other = base === undefined ? undefined : await moduleOf<M>(base, w.module, w.name);
  const servers: S[] = [];
  const ratios: number[] = [];
  try {
    const start = async (m: M, env: Record<string, string>) => {
      const s = await w.start(m, env);
      servers.push(s);
      return s;
    };
    const a = await start(other?.module ?? own, settings('BENCH_AB_ENV_A'));
    const b = await start(own, settings('BENCH_AB_ENV_B'));
    process.stdout.write(`${w.name}: A = ${base ?? 'this checkout'} ${process.env.BENCH_AB_ENV_A ?? ''}, B = this checkout ${process.env.BENCH_AB_ENV_B ?? ''}; ${rate}/s each, ${seconds} s rounds\n`);
    await Promise.all([a, b].map((x) => w.warmUp(x)));
    for (let round = 0; round < rounds; round++) {
      const cpu0 = [a.cpuUs(), b.cpuUs()];
      const results = await Promise.all([a, b].map((x) => w.drive(x, rate, rate * seconds)));
      const us = [a, b].map((x, i) => (x.cpuUs() - cpu0[i]!) / Math.max(1, results[i]!.successful));
      ratios.push(us[1]! / us[0]!);
      process.stdout.write(`round ${round + 1}: A ${us[0]!.toFixed(0)} µs per ${w.unit} (${results[0]!.failed} failed), B ${us[1]!.toFixed(0)} µs (${results[1]!.failed} failed), B/A ${ratios.at(-1)!.toFixed(3)}\n`);
    }
    const sorted = [...ratios].sort((x, y) => x - y);
    process.stdout.write(`B/A median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(3)} (range ${sorted[0]!.toFixed(3)}–${sorted.at(-1)!.toFixed(3)}); peak RSS A ${a.peakRssMb().toFixed(0)} MiB, B ${b.peakRssMb().toFixed(0)} MiB\n`);
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    other?.remove();
  }
  return { ratios };
}
