/**
 * Memory per registration: a server with N devices (default 10,000, `BENCH_BINDINGS`), then
 * every device REGISTERs once with digest (sipp, `test/sipp/register-digest.xml`, 2,000/s).
 * Measured once the REGISTER transactions have ended (Timer J, 32 s on UDP), so only the
 * bindings remain: the location index, its SQLite rows, the credential cache.
 *
 * Reference in the same run: the same server and devices before any REGISTER, both measured
 * after the same quiet time (V8 returns freed pages late). Printed: RSS and V8 heap after a
 * full GC, before and after, and the difference per 10,000 registrations.
 * Budget: < 50 MB RSS per 10,000 registrations.
 *
 *     npm run bench -- bindings            BENCH_BINDINGS=20000 npm run bench -- bindings
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig } from '../src/config.ts';
import { startServer } from '../src/server.ts';
import { insertDevice } from '../src/store/devices.ts';
import { getFreePort, runSipp, sippUserRow } from '../test/helpers/sipp.ts';
import { footprint } from './memory.ts';
import { SIPP_BUFFER_ARGS } from './sipp-buffers.ts';

const DOMAIN = 'bench.test';
const SIP_PASSWORD = 'bench-sip-password';

export async function run(): Promise<{ perTenThousandMb: number }> {
  const n = Number(process.env.BENCH_BINDINGS ?? 10_000);
  const dataDir = mkdtempSync(join(tmpdir(), 'strowger-bench-bindings-'));
  const sipPort = await getFreePort('udp+tcp');
  const config = loadConfig({
    STROWGER_DATA_DIR: dataDir, STROWGER_HTTP_PORT: '0', STROWGER_HOST: '127.0.0.1',
    STROWGER_SIP_HOST: '127.0.0.1', STROWGER_SIP_PORT: String(sipPort), STROWGER_SIP_TLS_PORT: 'off',
    STROWGER_DOMAIN: DOMAIN, STROWGER_LOG_LEVEL: 'silent', STROWGER_SIP_DIGEST_ALGORITHMS: 'MD5,SHA-256',
  });
  const server = await startServer(config, { logger: pino({ level: 'silent' }) });
  try {
    const users = Array.from({ length: n }, (_, i) => String(100000 + i));
    // Straight through the repository: n API round trips would only slow the set-up.
    for (const u of users) {
      await insertDevice(server.ctx.store.db, server.ctx.box, { name: `Bench ${u}`, username: u, password: SIP_PASSWORD, type: 'sip', userId: null, callerId: null, dndEnabled: false });
    }
    // Inserting the devices churned the heap; V8's memory reducer returns those pages after
    // ~20 s of low allocation, as it will have done by the second measurement: wait alike.
    await new Promise((res) => setTimeout(res, 35_000));
    const before = await footprint();
    const r = await runSipp({
      scenario: 'register-digest.xml', target: `127.0.0.1:${sipPort}`, rate: 2000, calls: n,
      injection: { rows: users.map((u) => sippUserRow(u, SIP_PASSWORD, DOMAIN)) }, traceMessages: false,
      timeoutMs: (n / 2000) * 1000 + 30_000, extraArgs: ['-max_recv_loops', '10000', '-max_sched_loops', '10000', ...SIPP_BUFFER_ARGS],
    });
    const bound = server.ctx.sip!.location.size;
    // Timer J keeps each completed REGISTER transaction 32 s (64*T1): wait them out.
    const layer = server.ctx.sip!.endpoint.transactions;
    const deadline = Date.now() + 60_000;
    while (layer.size > 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 1000));
    const after = await footprint();
    const per = (mb: number) => (mb * 10_000) / n;
    const perTenThousandMb = per(after.rss - before.rss);
    process.stdout.write([
      `sip-bindings: ${n} devices, each REGISTERs once with digest (sipp at 2000/s): ${r.stats.successful} ok, ${r.stats.failed} failed, ${bound} bindings; transactions left ${layer.size}`,
      `before: RSS ${before.rss.toFixed(1)} MB, heap ${before.heap.toFixed(1)} MB | after: RSS ${after.rss.toFixed(1)} MB, heap ${after.heap.toFixed(1)} MB (after a full GC)`,
      `per 10,000 registrations: RSS +${perTenThousandMb.toFixed(1)} MB, heap +${per(after.heap - before.heap).toFixed(1)} MB (budget < 50 MB RSS): ${perTenThousandMb < 50 ? 'met' : 'MISSED'}`,
      `peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
      '',
    ].join('\n'));
    return { perTenThousandMb };
  } finally {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
