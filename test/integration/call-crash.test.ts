/**
 * Issue 5, acceptance 4: crash safety. The server runs as a real child process
 * (`node --import tsx src/main.ts`); finished calls have their CDR, 20 answered calls are up
 * when it gets SIGKILL, and the next start on the same data dir closes those 20 with
 * hangup_cause server_restart before it takes new calls (DESIGN: "a crash loses no finished call").
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getFreePort, runSipp, spawnSipp, startSippServer, type SippServer } from '../helpers/sipp.ts';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from '../helpers/server.ts';
import type { Cdr } from '../../src/store/cdrs.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DID = '+15553330000';
const UP_CALLS = 20;
const DONE_CALLS = 5;

interface Child {
  proc: ChildProcess;
  base: string;
  cookie: string;
  output: () => string;
}

async function startChild(env: Record<string, string>): Promise<Child> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  const base = `http://127.0.0.1:${env.STROWGER_HTTP_PORT}`;
  const deadline = Date.now() + 30000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`server exited ${proc.exitCode}: ${out}`);
    const ok = await fetch(`${base}/api/ready`).then((r) => r.status === 200, () => false);
    if (ok) break;
    if (Date.now() > deadline) { proc.kill('SIGKILL'); throw new Error(`server not ready: ${out}`); }
    await new Promise((r) => setTimeout(r, 100));
  }
  const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD }) });
  assert.equal(login.status, 200);
  const cookie = login.headers.getSetCookie().find((c) => c.startsWith('strowger_session='))!.split(';')[0]!;
  return { proc, base, cookie, output: () => out };
}

async function call(c: Child, method: string, p: string, body?: unknown): Promise<any> {
  const r = await fetch(c.base + p, { method, headers: { cookie: c.cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await r.json();
  assert.ok(r.status < 300, `${method} ${p} -> ${r.status} ${JSON.stringify(json)}`);
  return json;
}

async function stopChild(c: Child | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!c || c.proc.exitCode !== null || c.proc.signalCode !== null) return;
  c.proc.kill(signal);
  await once(c.proc, 'exit');
}

let server: Child | undefined;
let uas: SippServer | undefined;
let dataDir = '';
after(async () => {
  await stopChild(server, 'SIGKILL');
  await uas?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

test('SIGKILL with 20 calls up: finished calls keep their CDR, the 20 are closed as server_restart at the next start', async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'strowger-crash-'));
  const sipPort = await getFreePort('udp+tcp');
  const env = {
    STROWGER_DATA_DIR: dataDir,
    STROWGER_HTTP_PORT: String(await getFreePort('tcp')),
    STROWGER_HOST: '127.0.0.1',
    STROWGER_SIP_HOST: '127.0.0.1',
    STROWGER_SIP_PORT: String(sipPort),
    STROWGER_SIP_TLS_PORT: 'off',
    STROWGER_RTP_PORTS: '21600-21799',
    STROWGER_MEDIA_WORKERS: '1',
    STROWGER_DOMAIN: 'strowger.test',
    STROWGER_ADMIN_EMAIL: ADMIN_EMAIL,
    STROWGER_ADMIN_PASSWORD: ADMIN_PASSWORD,
    STROWGER_LOG_LEVEL: 'warn',
  };
  server = await startChild(env);
  uas = await startSippServer({ scenario: 'uas' });
  await call(server, 'POST', '/api/trunks', { name: 'in', host: '127.0.0.2', port: 5060, transport: 'udp', inbound_hosts: ['127.0.0.1/32'] });
  await call(server, 'POST', '/api/trunks', { name: 'out', host: '127.0.0.1', port: uas.port, transport: 'udp', default: true });
  const did = await call(server, 'POST', '/api/dids', { phone_number: DID });
  await call(server, 'POST', '/api/routes', { name: 'fwd', did_id: did.id, priority: 1, conditions: {}, action: 'forward', action_data: { number: '+15559990002' } });

  const target = `127.0.0.1:${sipPort}`;
  const done = await runSipp({ scenario: 'uac', target, service: DID, calls: DONE_CALLS, rate: 10, pauseMs: 100, timeoutMs: 15000, traceMessages: false });
  assert.equal(done.stats.successful, DONE_CALLS, done.errors);
  const long = await spawnSipp({ scenario: 'uac', target, service: DID, calls: UP_CALLS, rate: 20, limit: UP_CALLS, pauseMs: 120000, timeoutMs: 60000, traceMessages: false });
  const deadline = Date.now() + 15000;
  for (;;) {
    const list = await call(server, 'GET', '/api/calls?limit=100');
    if (list.data.filter((c: { state: string }) => c.state === 'answered').length === UP_CALLS) break;
    assert.ok(Date.now() < deadline, `calls up: ${JSON.stringify(list.pagination)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  // No wait: a call shows as answered only once its journal row is committed (the 200 waits for it).
  await stopChild(server, 'SIGKILL');
  long.kill();
  await long.done;

  server = await startChild(env);
  const cdrs = (await call(server, 'GET', '/api/cdrs?limit=100')).data as Cdr[];
  assert.equal(cdrs.length, DONE_CALLS + UP_CALLS, server.output());
  const finished = cdrs.filter((c) => c.hangup_cause === 'caller_bye');
  const restarted = cdrs.filter((c) => c.hangup_cause === 'server_restart');
  assert.equal(finished.length, DONE_CALLS);
  assert.equal(restarted.length, UP_CALLS);
  for (const c of restarted) {
    assert.deepEqual([c.disposition, c.hangup_by, c.sip_code, c.direction], ['answered', 'system', 200, 'inbound']);
    assert.ok(c.answer_time !== null && c.end_time >= c.answer_time);
  }
  assert.equal(new Set(cdrs.map((c) => c.call_id)).size, cdrs.length, 'one CDR per call');
  // The new process has nothing open and carries calls again.
  assert.equal((await call(server, 'GET', '/api/calls')).pagination.total, 0);
  const again = await runSipp({ scenario: 'uac', target, service: DID, calls: 1, pauseMs: 100, timeoutMs: 10000, traceMessages: false });
  assert.equal(again.stats.successful, 1, again.errors);
  await stopChild(server, 'SIGTERM');
  server = undefined;
});
