/**
 * `npm run bench -- register-ab`: CPU per REGISTER pair of two servers over the same seconds
 * (the paired comparison of `ab.ts`), each driven by its own sipp with digest REGISTERs.
 *
 *     BENCH_AB_BASE=19f0409 npm run bench -- register-ab   # A: that commit, B: this checkout
 *     BENCH_AB_ENV_A='{"STROWGER_SIP_REGISTRAR_THREADS":"1"}' npm run bench -- register-ab
 *
 * BENCH_AB_RATE per server defaults to 1,500/s; the other settings are in `ab.ts`.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as serverProcess from './server-process.ts';
import { driveRegister, fleet, registerServerEnv, seedDevices, type Fleet } from './sip-register.ts';
import { runAb, type AbServer } from './ab.ts';

type Module = typeof serverProcess;
interface Registrar extends AbServer { target: string; phones: Fleet }

export function run(): Promise<{ ratios: number[] }> {
  return runAb<Registrar, Module>({
    name: 'register-ab', module: 'server-process.ts', unit: 'pair', defaultRate: 1500,
    async start(m, env) {
      const server = await m.startServerProcess({ ...registerServerEnv(mkdtempSync(join(tmpdir(), 'strowger-bench-ab-data-'))), ...env });
      return {
        target: `127.0.0.1:${server.sipPort}`, phones: await fleet(await seedDevices(server.base)),
        cpuUs: () => server.cpuUs(), peakRssMb: () => server.rssMb().peak, stop: () => server.stop(),
      };
    },
    // Bindings exist and the JIT has seen the path.
    warmUp: async (x) => { await driveRegister(x.target, x.phones, 500, x.phones.rows.length); },
    drive: async (x, rate, count) => (await driveRegister(x.target, x.phones, rate, count)).stats,
  }, serverProcess);
}
