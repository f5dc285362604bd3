/**
 * A real Strowger server on loopback for integration tests (free ports, fresh database),
 * plus small HTTP helpers: a logged-in admin cookie and JSON requests.
 */
import pino from 'pino';
import { loadConfig, type Config } from '../../src/config.ts';
import { startServer, type RunningServer, type StartOptions } from '../../src/server.ts';
import { createTestDatabase, type TestDatabase } from './databases.ts';
import { getFreePort } from './sipp.ts';

export const ADMIN_EMAIL = 'admin@example.com';
export const ADMIN_PASSWORD = 'admin-password-1';

export interface TestServer {
  server: RunningServer;
  db: TestDatabase;
  config: Config;
  baseUrl: string;
  /** Cookie header value of a logged-in admin session ('' when started without an admin). */
  adminCookie: string;
  /** SIP port (UDP and TCP) on 127.0.0.1 (and ::1 when STROWGER_SIP_HOST lists it). */
  sipPort: number;
  /** Stops and starts the server on the same database and ports (persistence tests). */
  restart(): Promise<void>;
  request(method: string, path: string, opts?: { body?: unknown; cookie?: string; token?: string; headers?: Record<string, string> }): Promise<{ status: number; body: any; headers: Headers }>;
  login(email: string, password: string): Promise<string>;
  close(): Promise<void>;
}

// Test servers start often and most never transcode Opus: skip the media workers' Opus warm-up
// (README, STROWGER_OPUS_WARMUP) unless a run asks for it; workers read it from the environment.
process.env.STROWGER_OPUS_WARMUP ??= '0';

export async function startTestServer(engine: 'sqlite' | 'postgres' = 'sqlite', env: Record<string, string> = {}, opts: Pick<StartOptions, 'traceCallShards'> = {}): Promise<TestServer> {
  const db = await createTestDatabase(engine);
  const sipPort = env.STROWGER_SIP_PORT ? Number(env.STROWGER_SIP_PORT) : await getFreePort('udp+tcp');
  const config = loadConfig({
    STROWGER_DATA_DIR: db.dataDir,
    DATABASE_URL: db.url,
    STROWGER_HTTP_PORT: '0',
    STROWGER_HOST: '127.0.0.1',
    STROWGER_SIP_HOST: '127.0.0.1',
    STROWGER_SIP_PORT: String(sipPort),
    STROWGER_SIP_TLS_PORT: 'off',
    STROWGER_DOMAIN: 'strowger.test',
    STROWGER_ADMIN_EMAIL: ADMIN_EMAIL,
    STROWGER_ADMIN_PASSWORD: ADMIN_PASSWORD,
    STROWGER_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    // The server shares its event loop with the test: a test's own synchronous work (decoding a
    // capture, SRTP, Goertzel) reads as lag and load to the overload controller, which then
    // sheds the test's next REGISTER/INVITE (seen: baresip's REGISTER answered 503 right after
    // the previous call's analysis). Load-based shedding is off here; sip-overload.test.ts
    // turns it on with its own values.
    STROWGER_SIP_OVERLOAD_UTILIZATION: '100',
    STROWGER_SIP_OVERLOAD_LAG_MS: '0',
    STROWGER_SIP_OVERLOAD_DROP_LAG_MS: '0',
    STROWGER_SIP_OVERLOAD_RETRANSMITTED: '0',
    // TEST_REGISTRAR_THREADS=n runs any test file with REGISTERs answered by n worker threads.
    ...(process.env.TEST_REGISTRAR_THREADS ? { STROWGER_SIP_REGISTRAR_THREADS: process.env.TEST_REGISTRAR_THREADS } : {}),
    // TEST_CALL_THREADS=n: the same with calls carried by n call shards beside the main thread.
    ...(process.env.TEST_CALL_THREADS ? { STROWGER_SIP_CALL_THREADS: process.env.TEST_CALL_THREADS } : {}),
    ...env,
  });
  const start = () => startServer(config, { ...opts, dbSchema: db.schema, logger: pino({ level: config.logLevel }) });
  let server = await start();
  let baseUrl = `http://127.0.0.1:${server.httpPort}`;
  const request: TestServer['request'] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    if (opts.cookie) headers.cookie = opts.cookie;
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    const res = await fetch(baseUrl + path, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
    const text = await res.text();
    let body: any = text;
    try { body = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
    return { status: res.status, body, headers: res.headers };
  };
  const login = async (email: string, password: string) => {
    const res = await fetch(baseUrl + '/api/auth/login', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }),
    });
    if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('strowger_session='));
    if (!cookie) throw new Error('no session cookie');
    return cookie.split(';')[0]!;
  };
  // A server started without STROWGER_ADMIN_* (setup wizard tests) has no admin yet.
  const adminCookie = config.adminEmail ? await login(config.adminEmail, config.adminPassword!) : '';
  const t: TestServer = {
    server, db, config, baseUrl, adminCookie, request, login, sipPort,
    restart: async () => {
      await server.close();
      server = await start();
      baseUrl = `http://127.0.0.1:${server.httpPort}`;
      t.server = server;
      t.baseUrl = baseUrl;
      t.adminCookie = config.adminEmail ? await login(config.adminEmail, config.adminPassword!) : "";
    },
    close: async () => { await server.close(); await db.cleanup(); },
  };
  return t;
}

/** Creates a non-admin user and returns its session cookie. */
export async function createUserSession(t: TestServer, email = 'user@example.com', password = 'user-password-1'): Promise<string> {
  const r = await t.request('POST', '/api/users', { cookie: t.adminCookie, body: { email, password, role: 'user' } });
  if (r.status !== 201) throw new Error(`create user failed: ${r.status} ${JSON.stringify(r.body)}`);
  return t.login(email, password);
}
