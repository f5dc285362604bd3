/**
 * `npm run bench -- callapi`: the seed 002 call gateway's `POST /call/outgoing` → `accepted`
 * (on call_ws) latency at 50 new calls/s against a sipp UAS that answers at once
 * (`uas-200-only.xml`), next to sipp's own call setup time (INVITE → 200, builtin `uac`)
 * against the same UAS in the same run. Each call is ended with `DELETE /call/{id}` once
 * accepted. Knobs: BENCH_CALLAPI_RATE (50), BENCH_CALLAPI_CALLS (250).
 */
import WebSocket from 'ws';
import { runSipp, startSippServer } from '../test/helpers/sipp.ts';
import { sleep, startBench } from './call-bench-server.ts';

const percentile = (sorted: number[], p: number): number => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!);

/** sipp's `HH:MM:SS:uuuuuu` as ms. */
function sippMs(raw: string | undefined): number {
  const p = (raw ?? '').split(':').map(Number);
  return ((p[0] ?? 0) * 3600 + (p[1] ?? 0) * 60 + (p[2] ?? 0)) * 1000 + (p[3] ?? 0) / 1000;
}

export async function run(): Promise<{ p50: number; p99: number; sippMeanMs: number; failed: number }> {
  const rate = Number(process.env.BENCH_CALLAPI_RATE ?? 50);
  const calls = Number(process.env.BENCH_CALLAPI_CALLS ?? 250);
  const b = await startBench();
  const uas = await startSippServer({ scenario: 'uas-200-only.xml', traceMessages: false, timeoutMs: 600_000 });
  try {
    const app = await (await fetch(`${b.base}/api/apps`, { method: 'POST', headers: { cookie: b.cookie, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bench' }) })).json() as { app_secret: string };
    const auth = { authorization: `Bearer ${app.app_secret}` };
    // Reference: sipp's own INVITE -> 200 against the same UAS, same rate.
    const ref = await runSipp({ scenario: 'uac', target: uas.address, calls: Math.min(calls, 100), rate, limit: 200, pauseMs: 0, traceMessages: false, timeoutMs: 60_000 });
    const sippMeanMs = sippMs(ref.stats.raw['ResponseTime1(C)']);
    const latencies: number[] = [];
    let failed = 0;
    const one = async (i: number): Promise<void> => {
      const t0 = performance.now();
      const res = await fetch(`${b.base}/call/outgoing`, {
        method: 'POST', headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ sip_server: uas.address, from_number: '+15550001111', to_number: String(1000 + i) }),
      });
      const body = await res.json() as { status: boolean; data: { call_id: string; call_ws: string } };
      if (!body.status) { failed++; return; }
      const ws = new WebSocket(body.data.call_ws);
      const ok = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 10_000);
        ws.on('message', (d: Buffer) => {
          const e = JSON.parse(d.toString()) as { event: string };
          if (e.event === 'accepted') { clearTimeout(timer); resolve(true); } else if (e.event === 'ended') { clearTimeout(timer); resolve(false); }
        });
        ws.on('error', () => { clearTimeout(timer); resolve(false); });
      });
      if (ok) latencies.push(performance.now() - t0); else failed++;
      await fetch(`${b.base}/call/${body.data.call_id}`, { method: 'DELETE', headers: auth });
      ws.close();
    };
    const started: Promise<void>[] = [];
    const t = performance.now();
    for (let i = 0; i < calls; i++) {
      const due = t + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      started.push(one(i));
    }
    await Promise.all(started);
    latencies.sort((x, y) => x - y);
    const r = { p50: percentile(latencies, 50), p99: percentile(latencies, 99), sippMeanMs, failed };
    console.log(`POST /call/outgoing -> accepted on call_ws, ${calls} calls at ${rate}/s: p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, failed ${failed}`);
    console.log(`reference, sipp UAC -> same UAS at ${rate}/s (${ref.stats.successful} calls): mean INVITE -> 200 ${sippMeanMs < 1 ? '< 1' : sippMeanMs.toFixed(1)} ms`);
    return r;
  } finally {
    await uas.stop();
    await b.close();
  }
}
