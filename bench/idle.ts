/**
 * Idle footprint of the server as `npm start` runs it (compiled, two media workers), against
 * the budget (< 150 MB RSS) and a bare `node` process measured in the same run as the floor.
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('..', import.meta.url).pathname;

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function idleRss(args: string[], env: Record<string, string>, settleMs: number): Promise<number> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, settleMs));
  const rss = rssMb(child.pid!);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return rss;
}

export async function run(): Promise<void> {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'inherit' });
  const dir = mkdtempSync(join(tmpdir(), 'strowger-idle-'));
  try {
    const floor = await idleRss(['-e', 'setInterval(() => {}, 1000)'], {}, 1000);
    const server = await idleRss(['--max-semi-space-size=4', 'dist/main.js'], {
      STROWGER_DATA_DIR: dir, STROWGER_HTTP_PORT: '0', STROWGER_SIP_PORT: '0', STROWGER_SIP_TLS_PORT: 'off',
      STROWGER_HOST: '127.0.0.1', STROWGER_LOG_LEVEL: 'warn', STROWGER_RTP_PORTS: '40000-40999', STROWGER_MEDIA_WORKERS: '2',
    }, 8000);
    process.stdout.write(`idle server RSS ${server.toFixed(1)} MB (budget 150 MB) | bare node ${floor.toFixed(1)} MB | ratio ${(server / floor).toFixed(2)}x | peak RSS (this process) ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MB\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
