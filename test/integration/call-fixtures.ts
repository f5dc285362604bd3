/**
 * Shared set-up of the `call-*` integration tests: a server for calls (own RTP range, MD5
 * first for sipp), trunks/DIDs/routes/devices through the API, sipp devices that REGISTER
 * from the port their UAS will listen on, CDR reads and the "nothing leaked" check.
 */
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { getFreePort, runSipp, sippUserRow, startSippServer, type SippOptions, type SippResult, type SippServer } from '../helpers/sipp.ts';
import type { Cdr } from '../../src/store/cdrs.ts';

export const DOMAIN = 'strowger.test';
export const DEVICE_PASSWORD = 'device-pass-1234';

/**
 * A server for call tests. `rtpBase` gives the suite its own 200-port RTP range, so suites
 * running in parallel never race for ports. sipp 3.6 answers only MD5 and reads the first
 * challenge, hence MD5 first.
 */
export async function startCallServer(rtpBase: number, env: Record<string, string> = {}): Promise<TestServer> {
  return startTestServer('sqlite', {
    STROWGER_RTP_PORTS: `${rtpBase}-${rtpBase + 199}`,
    STROWGER_SIP_DIGEST_ALGORITHMS: 'MD5,SHA-256',
    STROWGER_MEDIA_WORKERS: '1',
    ...env,
  });
}

export async function api(t: TestServer, method: string, path: string, body?: unknown): Promise<any> {
  const r = await t.request(method, path, { cookie: t.adminCookie, body });
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${path} -> ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** The trunk that 127.0.0.1 calls in from (inbound_hosts), so sipp UACs need no digest. */
export async function inboundTrunk(t: TestServer): Promise<number> {
  return (await api(t, 'POST', '/api/trunks', { name: 'carrier-in', host: '127.0.0.2', port: 5060, transport: 'udp', inbound_hosts: ['127.0.0.1/32'] })).id;
}

/** The default (outbound) trunk: a sipp UAS at `port`. */
export async function defaultTrunk(t: TestServer, port: number): Promise<number> {
  return (await api(t, 'POST', '/api/trunks', { name: 'carrier-out', host: '127.0.0.1', port, transport: 'udp', default: true })).id;
}

export async function did(t: TestServer, number: string): Promise<number> {
  return (await api(t, 'POST', '/api/dids', { phone_number: number })).id;
}

export async function route(t: TestServer, didId: number, r: { priority?: number; conditions?: object; action: string; action_data: object; name?: string }): Promise<number> {
  return (await api(t, 'POST', '/api/routes', { name: r.name ?? `route-${r.action}`, did_id: didId, priority: r.priority ?? 1, conditions: r.conditions ?? {}, action: r.action, action_data: r.action_data })).id;
}

export async function device(t: TestServer, username: string): Promise<number> {
  return (await api(t, 'POST', '/api/devices', { name: username, username, password: DEVICE_PASSWORD })).id;
}

export function target(t: TestServer): string {
  return `127.0.0.1:${t.sipPort}`;
}

/** sipp options of an authenticated device call (407 then digest with the INVITE's Request-URI). */
export function deviceCall(t: TestServer, user: string, dialed: string, extra: Partial<SippOptions> = {}): SippOptions {
  return {
    target: target(t), service: dialed, authUri: `sip:${dialed}@${target(t)}`, calls: 1,
    injection: { rows: [sippUserRow(user, DEVICE_PASSWORD, DOMAIN)] }, timeoutMs: 20000, ...extra,
    scenario: extra.scenario ?? 'uac-invite-auth.xml',
  };
}

/** sipp options of a call from the inbound trunk's host (no digest), From user `caller`. */
export function trunkCall(t: TestServer, dialed: string, caller = '+15550100100', extra: Partial<SippOptions> = {}): SippOptions {
  return {
    target: target(t), service: dialed, calls: 1,
    injection: { rows: [[caller, '-', DOMAIN, '']] }, timeoutMs: 20000, ...extra,
    scenario: extra.scenario ?? 'uac-pcap-g711a.xml',
  };
}

/**
 * A UAS scenario registered as `username`: REGISTER (digest) from a free port, then the UAS
 * listens on that same port, so the binding's contact and source are the UAS.
 */
export async function registeredUas(t: TestServer, username: string, scenario: string, extra: Partial<SippOptions> = {}): Promise<SippServer> {
  const port = await getFreePort('udp');
  const reg = await runSipp({
    scenario: 'register-digest.xml', target: target(t), localPort: port, calls: 1,
    injection: { rows: [sippUserRow(username, DEVICE_PASSWORD, DOMAIN)] }, timeoutMs: 10000, traceMessages: false,
  });
  assert.equal(reg.stats.successful, 1, `REGISTER ${username} from ${port}: ${reg.errors}${reg.stdout.slice(-500)}`);
  return startSippServer({ scenario, localPort: port, ...extra });
}

/**
 * What a one-call UAS (`registeredUas(…, { calls: 1 })`) reports once its call has ended and it
 * exited, or after `ms` (then it is stopped). Waiting for the exit, not stopping it when the API
 * has answered: the API answers before the UAS has seen the last BYE, 487 or ACK of its call.
 */
export async function uasResult(uas: SippServer, ms = 10_000): Promise<SippResult> {
  const timer = setTimeout(() => uas.process.kill(), ms);
  try {
    return await uas.process.done;
  } finally {
    clearTimeout(timer);
  }
}

export async function cdrList(t: TestServer, limit = 100): Promise<Cdr[]> {
  return (await api(t, 'GET', `/api/cdrs?limit=${limit}`)).data as Cdr[];
}

/** Polls until `fn` returns a value (not undefined/false) or `timeoutMs` passes. */
export async function eventually<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Number of CDRs so far; pass it to {@link nextCdr} to get the CDR a test's call writes. */
export async function cdrCount(t: TestServer): Promise<number> {
  return (await api(t, 'GET', '/api/cdrs?limit=1')).pagination.total as number;
}

/** Waits for exactly one CDR more than `before` and returns it (newest first). */
export async function nextCdr(t: TestServer, before: number): Promise<Cdr> {
  const list = await eventually('a new CDR', async () => { const b = await api(t, 'GET', '/api/cdrs?limit=5'); return b.pagination.total > before ? b : undefined; });
  assert.equal(list.pagination.total, before + 1, JSON.stringify(list.data));
  return list.data[0] as Cdr;
}

/** No call left in the engine and no media leg left in the relay (checked after every test). */
export async function assertIdle(t: TestServer): Promise<void> {
  const sip = t.server.ctx.sip!;
  await eventually('calls and legs released', () => sip.b2bua.calls.size === 0 && sip.media.totals().legs === 0, 3000)
    .catch(() => assert.fail(`calls ${sip.b2bua.calls.size}, legs ${sip.media.totals().legs}`));
}

/** Final status codes (>= 300, digest challenges left out) that sipp received, from its message trace. */
export function finalStatuses(messages: string): number[] {
  const out: number[] = [];
  for (const m of messages.matchAll(/message received \[\d+\] bytes :\s+SIP\/2\.0 (\d{3}) /g)) {
    const s = Number(m[1]);
    if (s >= 300 && s !== 401 && s !== 407) out.push(s);
  }
  return out;
}
