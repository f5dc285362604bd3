/**
 * The relay benchmark's load generator: `relay-loadgen.c`, compiled with gcc into a temp dir at
 * run time (sendmmsg/recvmmsg, kernel receive timestamps; see the C file), driven over its
 * stdin/stdout. Where gcc is missing or the build fails, {@link buildLoadGen} says why and the
 * bench falls back to its Node sender process.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

/** One run of the generator: packets per direction (stream parity), CPU, lateness, latency. */
export interface LoadResult {
  sent: [number, number];
  received: [number, number];
  corrupt: number;
  /** Generator CPU during the run (ms). */
  cpuMs: number;
  /** Worst lag of the generator behind its 20 ms schedule; large = the generator was the bottleneck. */
  lateMs: number;
  elapsedMs: number;
  /** Send -> arrival back at the generator, through the relay (C generator only). */
  latencyMs?: { p50: number; p99: number; p999: number; max: number };
}

/** Sends stream s from `ports[s % K]` to `targets[s]`, one 172-octet packet per 20 ms. */
export interface LoadGenerator {
  /** What generates the load, for the printout. */
  readonly kind: string;
  readonly ports: number[];
  run(targets: number[], durationMs: number): Promise<LoadResult>;
  stop(): Promise<void>;
}

const SOURCE = fileURLToPath(new URL('relay-loadgen.c', import.meta.url));

/** Compiles the generator; the binary's path, or why there is none. */
export function buildLoadGen(): { path: string; dir: string } | { reason: string } {
  if (process.env.MEDIA_BENCH_LOADGEN === 'node') return { reason: 'MEDIA_BENCH_LOADGEN=node' };
  const dir = mkdtempSync(join(tmpdir(), 'strowger-loadgen-'));
  const path = join(dir, 'relay-loadgen');
  const r = spawnSync('gcc', ['-O2', '-o', path, SOURCE], { encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    const why = r.error !== undefined ? (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'gcc not installed' : r.error.message : r.stderr.trim().split('\n').slice(0, 3).join(' / ');
    return { reason: why };
  }
  return { path, dir };
}

/** `taskset -c CPU` prefix when taskset exists and `cpu` is given. */
export function pinnedCommand(cpu: number | null, command: string, args: string[]): [string, string[]] {
  if (cpu === null || !hasTaskset()) return [command, args];
  return ['taskset', ['-c', String(cpu), command, ...args]];
}

let tasksetFound: boolean | undefined;
export function hasTaskset(): boolean {
  tasksetFound ??= spawnSync('taskset', ['-V']).status === 0;
  return tasksetFound;
}

/**
 * Pins every thread of this process (and the threads it starts later) to `cpu`; returns a
 * function that restores the previous affinity. No-op without taskset.
 */
export function pinSelf(cpu: number): () => void {
  if (!hasTaskset()) return () => {};
  const m = /:\s*([0-9a-f]+)\s*$/i.exec(execFileSync('taskset', ['-p', String(process.pid)], { encoding: 'utf8' }));
  execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(process.pid)], { stdio: 'ignore' });
  return () => {
    if (m) execFileSync('taskset', ['-a', '-p', m[1], String(process.pid)], { stdio: 'ignore' });
  };
}

export class CLoadGen implements LoadGenerator {
  readonly kind: string;
  private run_ = 0;

  private constructor(
    private readonly child: ChildProcessByStdio<Writable, Readable, null>,
    private readonly lines: Interface,
    private readonly dir: string,
    readonly ports: number[],
    cpu: number | null,
  ) {
    this.kind = `C generator (gcc -O2, sendmmsg/recvmmsg, ${ports.length} sockets${cpu !== null && hasTaskset() ? `, pinned to CPU ${cpu}` : ''})`;
  }

  static async start(build: { path: string; dir: string }, sockets: number, cpu: number | null): Promise<CLoadGen> {
    const [cmd, args] = pinnedCommand(cpu, build.path, [String(sockets)]);
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout });
    const [first] = (await once(lines, 'line')) as [string];
    if (!first.startsWith('ports ')) throw new Error(`load generator: unexpected "${first}"`);
    return new CLoadGen(child, lines, build.dir, first.slice(6).trim().split(' ').map(Number), cpu);
  }

  async run(targets: number[], durationMs: number): Promise<LoadResult> {
    this.run_ = (this.run_ + 1) & 0xffff;
    const reply = once(this.lines, 'line') as Promise<[string]>;
    this.child.stdin.write(`run ${this.run_} ${durationMs} 400 ${targets.length} ${targets.join(' ')}\n`);
    const [line] = await reply;
    const r = JSON.parse(line) as LoadResult & { error?: string };
    if (r.error !== undefined) throw new Error(`load generator: ${r.error}`);
    return r;
  }

  async stop(): Promise<void> {
    const exited = once(this.child, 'exit');
    this.child.stdin.end('quit\n');
    await exited;
    rmSync(this.dir, { recursive: true, force: true });
  }
}
