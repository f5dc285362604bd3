/**
 * A real RTMP server for tests: Debian `nginx-light` with `libnginx-mod-rtmp`, started in the
 * foreground with its own prefix and config in a temp dir (no daemon, no system files), on a
 * free loopback port. Streams publish to `rtmp://127.0.0.1:<port>/live/<name>`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getFreePort } from './sipp.ts';

export const RTMP_MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so';

export interface NginxRtmp {
  port: number;
  url(name: string): string;
  /** Stops nginx (SIGQUIT, then SIGKILL) and removes its directory. */
  close(): Promise<void>;
}

async function listening(port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nginx-rtmp did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startNginxRtmp(): Promise<NginxRtmp> {
  const dir = await mkdtemp(join(tmpdir(), 'nginx-rtmp-'));
  const port = await getFreePort('tcp');
  await writeFile(join(dir, 'nginx.conf'), [
    `load_module ${RTMP_MODULE};`,
    'daemon off;', 'master_process off;', 'worker_processes 1;',
    `error_log ${join(dir, 'error.log')} warn;`, `pid ${join(dir, 'nginx.pid')};`,
    'events { worker_connections 64; }',
    `rtmp { server { listen 127.0.0.1:${port}; application live { live on; record off; } } }`, '',
  ].join('\n'));
  const child: ChildProcess = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await Promise.race([listening(port, 5000), exited.then(() => { throw new Error(`nginx exited: ${stderr}`); })]);
  } catch (err) {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  let closed: Promise<void> | undefined;
  return {
    port,
    url: (name) => `rtmp://127.0.0.1:${port}/live/${name}`,
    close: () => (closed ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGQUIT');
        const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(kill);
      }
      await rm(dir, { recursive: true, force: true });
    })()),
  };
}
