/**
 * `npm run bench -- calls-ab`: CPU per call of two B2BUA servers over the same seconds (the
 * paired comparison of `ab.ts`): each is the `calls` bench's server in its own process, with
 * its own sipp UAS as the far end and its own sipp UAC placing INVITE, 200, ACK, BYE calls.
 *
 *     BENCH_AB_BASE=1b5448f npm run bench -- calls-ab
 *     BENCH_AB_ENV_B='{"NODE_OPTIONS":"--v8-pool-size=2"}' npm run bench -- calls-ab
 *
 * BENCH_AB_RATE per server defaults to 500 calls/s (two servers and four sipps share the
 * machine); the other settings are in `ab.ts`.
 */
import * as callBenchServer from './call-bench-server.ts';
import { sippCps } from './calls.ts';
import { runAb, type AbServer } from './ab.ts';

type Module = typeof callBenchServer;
interface B2bua extends AbServer { target: string }

export function run(): Promise<{ ratios: number[] }> {
  return runAb<B2bua, Module>({
    name: 'calls-ab', module: 'call-bench-server.ts', unit: 'call', defaultRate: 500,
    async start(m, env) {
      const b = await m.startBenchProcess([], env);
      const uas = await m.farEnd(b, 'uas-200-only.xml');
      return {
        target: b.sipTarget, cpuUs: () => b.server.cpuUs(), peakRssMb: () => b.server.rssMb().peak,
        stop: async () => { await uas.stop(); await b.close(); },
      };
    },
    warmUp: async (x) => { await sippCps(x.target, 200, 5); },
    drive: async (x, rate, count) => (await sippCps(x.target, rate, count / rate)).stats,
  }, callBenchServer);
}
