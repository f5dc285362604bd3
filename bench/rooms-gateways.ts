/**
 * `npm run bench -- rooms`: CPU per gateway. 20 rooms with two participants each (looping
 * tone players standing in for callers/browsers); then one Record gateway per room (recorder
 * on the mix, WAV to disk), then one SIP gateway per room (a PBX-originated call to sipp
 * `uas-wait-bye.xml`, PCMU, the mix sent to it). CPU is the whole process (main thread and
 * media workers: process.cpuUsage) over a window, minus the rooms-only reference measured
 * in the same run, divided by the gateway count. Target ≤ 0.05 core per gateway (issue 13).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig } from '../src/config.ts';
import { startServer } from '../src/server.ts';
import { getFreePort, startSippServer } from '../test/helpers/sipp.ts';

const ROOMS = 20;
const WINDOW_MS = 6000;
const TARGET = 0.05;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function cores(ms: number): Promise<number> {
  const u0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await sleep(ms);
  const u = process.cpuUsage(u0);
  return (u.user + u.system) / (Number(process.hrtime.bigint() - t0) / 1000);
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-rooms-'));
  const sipPort = await getFreePort('udp+tcp');
  const config = loadConfig({
    STROWGER_DATA_DIR: dir, DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`, STROWGER_HTTP_PORT: '0', STROWGER_HOST: '127.0.0.1',
    STROWGER_SIP_HOST: '127.0.0.1', STROWGER_SIP_PORT: String(sipPort), STROWGER_SIP_TLS_PORT: 'off', STROWGER_DOMAIN: 'bench.test',
    STROWGER_RTP_PORTS: '30000-30999', STROWGER_GATEWAYS_MAX: String(2 * ROOMS), STROWGER_ROOMS_MAX: String(ROOMS + 5),
  });
  process.env.STROWGER_OPUS_WARMUP ??= '0';
  const server = await startServer(config, { logger: pino({ level: 'silent' }) });
  const { media, rooms, gateways } = server.ctx;
  const sipp = await startSippServer({ scenario: 'uas-wait-bye.xml', calls: ROOMS, timeoutMs: 180_000 });
  try {
    for (let i = 0; i < ROOMS; i++) {
      const room = rooms!.open(`bench-${i}`);
      for (const f of [440, 660]) {
        const p = await media!.createPlayer({ group: room.group, source: { tone: { frequencies: [f + i], levelDb: -20 } }, loop: true });
        await room.join({ kind: 'player', displayName: `p${f}`, endpoint: p.id, hears: false });
      }
    }
    await sleep(1000);
    const base = await cores(WINDOW_MS);
    const line = (what: string, c: number, n: number) => {
      const per = (c - base) / n;
      process.stdout.write(`${what.padEnd(34)} ${c.toFixed(3)} cores total, ${per.toFixed(4)} core per gateway (target <= ${TARGET}) ${per <= TARGET ? 'OK' : 'OVER'}\n`);
    };
    process.stdout.write(`reference: ${ROOMS} rooms x 2 players, no gateway: ${base.toFixed(3)} cores\n`);

    for (let i = 0; i < ROOMS; i++) await gateways!.start({ type: 'Record', room: `bench-${i}`, gwId: `rec-${i}` });
    await sleep(1000);
    line(`${ROOMS} Record gateways`, await cores(WINDOW_MS), ROOMS);
    for (let i = 0; i < ROOMS; i++) await gateways!.stop(`rec-${i}`);

    for (let i = 0; i < ROOMS; i++) await gateways!.start({ type: 'SIP', room: `bench-${i}`, gwId: `sip-${i}`, dial: `sip:bench${i}@${sipp.address}` });
    const deadline = Date.now() + 15_000;
    while (server.ctx.rooms!.list().reduce((n, r) => n + r.participants.filter((p) => p.kind === 'sip').length, 0) < ROOMS && Date.now() < deadline) await sleep(200);
    const joined = server.ctx.rooms!.list().reduce((n, r) => n + r.participants.filter((p) => p.kind === 'sip').length, 0);
    await sleep(1000);
    line(`${joined} SIP gateways (calls to sipp)`, await cores(WINDOW_MS), joined);
    for (let i = 0; i < ROOMS; i++) await gateways!.stop(`sip-${i}`);
    process.stdout.write(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB\n`);
  } finally {
    await sipp.stop().catch(() => {});
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
