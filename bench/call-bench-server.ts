/**
 * The server the call benchmarks drive (`calls`, `soak`): in this process (so its CPU and RSS
 * are this process's), SQLite, one media worker, an inbound trunk from 127.0.0.1, a DID whose
 * route forwards to a number on the default trunk, which {@link farEnd} points at a sipp UAS.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig } from '../src/config.ts';
import { startServer, type RunningServer } from '../src/server.ts';
import { startSippServer, type SippServer } from '../test/helpers/sipp.ts';

const ADMIN = { email: 'bench@example.com', password: 'bench-password-1' };
/** The DID the benchmarks dial. */
export const DID = '+15550001000';
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Bench {
  server: RunningServer;
  base: string;
  cookie: string;
  sipTarget: string;
  outTrunk: number;
  close(): Promise<void>;
}

async function json(b: { base: string; cookie: string }, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(b.base + path, { method, headers: { cookie: b.cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

export async function startBench(): Promise<Bench> {
  const dataDir = mkdtempSync(join(tmpdir(), 'strowger-bench-calls-'));
  const config = loadConfig({
    STROWGER_DATA_DIR: dataDir, STROWGER_HTTP_PORT: '0', STROWGER_HOST: '127.0.0.1',
    STROWGER_SIP_HOST: '127.0.0.1', STROWGER_SIP_PORT: '0', STROWGER_SIP_TLS_PORT: 'off',
    STROWGER_RTP_PORTS: '30000-39999', STROWGER_MEDIA_WORKERS: '1', STROWGER_RTP_TIMEOUT_SECONDS: '3600',
    STROWGER_ADMIN_EMAIL: ADMIN.email, STROWGER_ADMIN_PASSWORD: ADMIN.password, STROWGER_LOG_LEVEL: 'silent',
    // Overload-control settings pass through, to compare thresholds (or turn it off) per run.
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('STROWGER_SIP_OVERLOAD_'))),
  });
  const server = await startServer(config, { logger: pino({ level: 'silent' }) });
  const base = `http://127.0.0.1:${server.httpPort}`;
  const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
  const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
  const b = { base, cookie };
  await json(b, 'POST', '/api/trunks', { name: 'carrier-in', host: '127.0.0.2', port: 5060, transport: 'udp', inbound_hosts: ['127.0.0.1/32'] });
  const outTrunk = (await json(b, 'POST', '/api/trunks', { name: 'carrier-out', host: '127.0.0.1', port: 9, transport: 'udp', default: true })).id as number;
  const did = await json(b, 'POST', '/api/dids', { phone_number: DID });
  await json(b, 'POST', '/api/routes', { name: 'forward', did_id: did.id, priority: 1, conditions: {}, action: 'forward', action_data: { number: '+15559990000' } });
  return {
    server, base, cookie, outTrunk, sipTarget: `127.0.0.1:${server.ctx.sip!.ports.udp}`,
    close: async () => { await server.close(); rmSync(dataDir, { recursive: true, force: true }); },
  };
}

/** Points the default trunk at a sipp UAS (the route cache drops the trunk on `trunk:changed`). */
/** `lifetimeMs`: the harness kills the UAS after it, so it must outlast the run. */
export async function farEnd(b: Bench, scenario: string, lifetimeMs = 600_000): Promise<SippServer> {
  const uas = await startSippServer({ scenario, traceMessages: false, timeoutMs: lifetimeMs });
  await json(b, 'PUT', `/api/trunks/${b.outTrunk}`, { port: uas.port });
  return uas;
}

