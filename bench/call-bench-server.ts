/**
 * The server the call benchmarks drive (`calls`, `soak`): SQLite, one media worker, an inbound
 * trunk from 127.0.0.1, a DID whose route forwards to a number on the default trunk, which
 * {@link farEnd} points at a sipp UAS. {@link startBench}: in this process (the media steps read
 * the engine's counters); {@link startBenchProcess}: the compiled server in its own process, as
 * `npm start` runs it (the calls-per-second steps, issue 17).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import Database from 'better-sqlite3';
import { loadConfig } from '../src/config.ts';
import { startServer, type RunningServer } from '../src/server.ts';
import { startSippServer, type SippServer } from '../test/helpers/sipp.ts';
import { startServerProcess, type ServerProcess } from './server-process.ts';
import { SIPP_BUFFER_ARGS } from './sipp-buffers.ts';

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

/** The server's settings for the call benchmarks (HTTP and SIP ports aside). */
function benchEnv(dataDir: string): Record<string, string> {
  return {
    STROWGER_DATA_DIR: dataDir, STROWGER_HOST: '127.0.0.1',
    STROWGER_SIP_HOST: '127.0.0.1', STROWGER_SIP_TLS_PORT: 'off',
    STROWGER_RTP_PORTS: '30000-39999', STROWGER_MEDIA_WORKERS: '1', STROWGER_RTP_TIMEOUT_SECONDS: '3600',
    STROWGER_ADMIN_EMAIL: ADMIN.email, STROWGER_ADMIN_PASSWORD: ADMIN.password, STROWGER_LOG_LEVEL: 'silent',
    // Overload-control settings pass through, to compare thresholds (or turn it off) per run.
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('STROWGER_SIP_OVERLOAD_'))) as Record<string, string>,
  };
}

/** Logs in and creates the trunks, DID and route every call benchmark dials through. */
async function provision(base: string): Promise<{ cookie: string; outTrunk: number }> {
  const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
  const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
  const b = { base, cookie };
  await json(b, 'POST', '/api/trunks', { name: 'carrier-in', host: '127.0.0.2', port: 5060, transport: 'udp', inbound_hosts: ['127.0.0.1/32'] });
  const outTrunk = (await json(b, 'POST', '/api/trunks', { name: 'carrier-out', host: '127.0.0.1', port: 9, transport: 'udp', default: true })).id as number;
  const did = await json(b, 'POST', '/api/dids', { phone_number: DID });
  await json(b, 'POST', '/api/routes', { name: 'forward', did_id: did.id, priority: 1, conditions: {}, action: 'forward', action_data: { number: '+15559990000' } });
  return { cookie, outTrunk };
}

export async function startBench(): Promise<Bench> {
  const dataDir = mkdtempSync(join(tmpdir(), 'strowger-bench-calls-'));
  const config = loadConfig({ ...benchEnv(dataDir), STROWGER_HTTP_PORT: '0', STROWGER_SIP_PORT: '0' });
  const server = await startServer(config, { logger: pino({ level: 'silent' }) });
  const base = `http://127.0.0.1:${server.httpPort}`;
  const { cookie, outTrunk } = await provision(base);
  return {
    server, base, cookie, outTrunk, sipTarget: `127.0.0.1:${server.ctx.sip!.ports.udp}`,
    close: async () => { await server.close(); rmSync(dataDir, { recursive: true, force: true }); },
  };
}

/** The bench server in its own process, seen from outside: /proc, `/metrics`, its SQLite file read-only. */
export interface ProcessBench {
  server: ServerProcess;
  base: string;
  cookie: string;
  sipTarget: string;
  outTrunk: number;
  /** Calls in progress (`strowger_calls_active`). */
  activeCalls(): Promise<number>;
  /** Rows of `cdrs` whose A-leg Call-ID matches the SQL `like` pattern. */
  cdrCount(like: string): number;
  close(): Promise<void>;
}

/** `nodeFlags`: e.g. `--cpu-prof` for the server process; `env`: settings over the bench's. */
export async function startBenchProcess(nodeFlags: string[] = [], env: Record<string, string> = {}): Promise<ProcessBench> {
  const dataDir = mkdtempSync(join(tmpdir(), 'strowger-bench-calls-'));
  const server = await startServerProcess({ ...benchEnv(dataDir), ...env }, nodeFlags);
  const { cookie, outTrunk } = await provision(server.base);
  const db = new Database(join(dataDir, 'strowger.db'), { readonly: true, fileMustExist: true });
  const count = db.prepare('select count(*) as n from cdrs where a_call_id like ?').pluck();
  return {
    server, base: server.base, cookie, outTrunk, sipTarget: `127.0.0.1:${server.sipPort}`,
    activeCalls: async () => (await server.metrics()).get('strowger_calls_active') ?? 0,
    cdrCount: (like) => Number(count.get(like)),
    close: async () => { db.close(); await server.stop(); rmSync(dataDir, { recursive: true, force: true }); },
  };
}

/** Points the default trunk at a sipp UAS (the route cache drops the trunk on `trunk:changed`). */
/** `lifetimeMs`: the harness kills the UAS after it, so it must outlast the run. */
export async function farEnd(b: Pick<Bench, 'base' | 'cookie' | 'outTrunk'>, scenario: string, lifetimeMs = 600_000): Promise<SippServer> {
  const uas = await startSippServer({ scenario, traceMessages: false, timeoutMs: lifetimeMs, extraArgs: SIPP_BUFFER_ARGS });
  await json(b, 'PUT', `/api/trunks/${b.outTrunk}`, { port: uas.port });
  return uas;
}

