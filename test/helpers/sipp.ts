/**
 * Test harness around sipp (Debian `sip-tester`, `/usr/bin/sipp`, v3.6).
 *
 * - {@link runSipp} runs one sipp in the foreground (no `-bg`), waits for it to exit and
 *   returns its exit code, the final statistics (parsed from the `-trace_stat` CSV, with the
 *   end-of-run screen as a fallback), stdout/stderr and the `-trace_msg` / `-trace_err` logs.
 * - {@link startSippServer} starts a UAS scenario in the background and resolves once its
 *   SIP socket is bound; `stop()` resolves when sipp has exited.
 * - {@link getFreePort} picks a loopback port that is free for UDP, TCP or both.
 *
 * Every sipp gets its trace files in a private temp dir (removed afterwards) and is killed on
 * timeout (SIGTERM, then SIGKILL); a process `exit` hook kills any sipp still running so a
 * failing test never leaves orphans.
 *
 * sipp exit codes (sipp(1)): 0 all calls succeeded, 1 at least one call failed, 97 exit on
 * internal command, 99 normal exit without calls processed, 255 fatal error, 254 fatal
 * error binding a socket.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Directory of our XML scenarios (`test/sipp/`). */
export const SIPP_SCENARIO_DIR = fileURLToPath(new URL('../sipp/', import.meta.url));

/** Where Debian's sip-tester installs its RTP pcaps (g711a.pcap, dtmf_2833_*.pcap). */
export const SIPP_PCAP_DIR = '/usr/share/sip-tester';

export const SIPP_BIN = process.env.SIPP_BIN ?? 'sipp';

/** Scenarios embedded in the sipp binary (`-sn`). */
export const SIPP_BUILTIN_SCENARIOS = ['uac', 'uas', 'regexp', 'branchc', 'branchs'] as const;
export type SippBuiltinScenario = (typeof SIPP_BUILTIN_SCENARIOS)[number];

/** `-t`: u1/un/ui UDP (one socket / one per call / IP per call), t1/tn TCP, l1/ln TLS. */
export type SippTransport = 'u1' | 'un' | 'ui' | 't1' | 'tn' | 'l1' | 'ln';

/** Rows of an injection file (`-inf`): one row per call, fields are `[field0]`, `[field1]`... */
export interface SippInjection {
  /** First line of the CSV (sipp(1) `-inf`). Default SEQUENTIAL. */
  order?: 'SEQUENTIAL' | 'RANDOM' | 'USER';
  rows: ReadonlyArray<ReadonlyArray<string | number>>;
}

export interface SippOptions {
  /** A built-in name (`uac`, `uas`...), a path to an XML file, or a file name in `test/sipp/`. */
  scenario: SippBuiltinScenario | string;
  /** Remote `host:port` (UAC side). */
  target?: string;
  /** Default `u1`. */
  transport?: SippTransport;
  /** `-i`, default `127.0.0.1`. */
  localIp?: string;
  /** `-p`; default: a free port picked by {@link getFreePort} (sipp's own default is 5060). */
  localPort?: number;
  /** `-mi`; default `localIp`. */
  mediaIp?: string;
  /** `-mp`; sipp's default is 6000 (it moves up by 2 when taken). */
  mediaPort?: number;
  /** `-inf <file>`: a path, or rows that the harness writes to a temp CSV. */
  injection?: string | SippInjection;
  /** `-set name value` for each entry; read in XML as `[$name]` (declare it with `<Global variables=...>`). */
  vars?: Record<string, string | number>;
  /** `-key name value`: generic keywords read as `[name]`. */
  keys?: Record<string, string | number>;
  /** `-s`: user part of the Request-URI (`[service]`). */
  service?: string;
  /** `-m`: stop after this many calls. */
  calls?: number;
  /** `-r`: calls per second (per `ratePeriodMs`). */
  rate?: number;
  /** `-rp` in ms. */
  ratePeriodMs?: number;
  /** `-l`: max simultaneous calls. */
  limit?: number;
  /** `-d`: length of `<pause/>` without `milliseconds`, in ms. */
  pauseMs?: number;
  /** `-rtp_echo`: echo RTP received on the media port. */
  rtpEcho?: boolean;
  /** `-au` / `-ap`: credentials for a bare `[authentication]`. */
  authUser?: string;
  authPass?: string;
  /**
   * `-auth_uri`: digest `uri=` for `[authentication]` (sipp's default is
   * `sip:<remote_ip>:<remote_port>`); give it when the Request-URI differs, e.g. for INVITE
   * `sip:<service>@<target>`. A leading `sip:` is optional.
   */
  authUri?: string;
  /** Kill sipp after this long (ms). Default 30000. */
  timeoutMs?: number;
  /** Appended verbatim. */
  extraArgs?: readonly string[];
  /** Working directory (pcap paths in scenarios are relative to it). Default: repo root. */
  cwd?: string;
  /** `-trace_msg` (default true): the full SIP message log in `messages`. */
  traceMessages?: boolean;
}

/** Cumulative counters of the run (the `(C)` columns of `-trace_stat`, sipp(1) `-h stat`). */
export interface SippStats {
  totalCallCreated: number;
  incomingCalls: number;
  outgoingCalls: number;
  successful: number;
  failed: number;
  failedUnexpectedMessage: number;
  failedTimeoutOnRecv: number;
  failedMaxUdpRetrans: number;
  failedCallRejected: number;
  failedCannotSendMessage: number;
  failedRegexpDoesntMatch: number;
  outOfCallMsgs: number;
  deadCallMsgs: number;
  retransmissions: number;
  autoAnswered: number;
  warnings: number;
  fatalErrors: number;
  /** Every column of the last CSV row by header name (e.g. `ResponseTime1(C)`). */
  raw: Record<string, string>;
}

export interface SippResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** True when the harness killed sipp on `timeoutMs`. */
  timedOut: boolean;
  stats: SippStats;
  stdout: string;
  stderr: string;
  /** `-trace_msg` log ('' when disabled). */
  messages: string;
  /** `-trace_err` log: unexpected messages and aborted calls. */
  errors: string;
  /** The sipp command line, for failure messages. */
  args: string[];
  localPort: number;
  durationMs: number;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

/**
 * A loopback port free for `proto` at the time of the call (bind to port 0, read, close).
 * `udp+tcp` returns a port free for both, as a SIP server on UDP and TCP needs.
 */
export async function getFreePort(proto: 'udp' | 'tcp' | 'udp+tcp' = 'udp', host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = proto === 'tcp' ? await bindTcp(host, 0) : await bindUdp(host, 0);
    if (port === null) continue;
    if (proto !== 'udp+tcp' || (await bindTcp(host, port)) !== null) return port;
  }
  throw new Error(`getFreePort: no free ${proto} port on ${host}`);
}

function bindUdp(host: string, port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    socket.once('error', () => {
      socket.close();
      resolve(null);
    });
    socket.bind(port, host, () => {
      const bound = socket.address().port;
      socket.close(() => resolve(bound));
    });
  });
}

function bindTcp(host: string, port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(null));
    server.listen({ port, host, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : null;
      server.close(() => resolve(bound));
    });
  });
}

function scenarioArgs(scenario: string): string[] {
  if ((SIPP_BUILTIN_SCENARIOS as readonly string[]).includes(scenario)) return ['-sn', scenario];
  if (scenario.includes('/')) return ['-sf', path.resolve(scenario)];
  return ['-sf', path.join(SIPP_SCENARIO_DIR, scenario)];
}

function isTcpLike(transport: SippTransport): boolean {
  return transport[0] === 't' || transport[0] === 'l';
}

/** Builds the sipp command line; files go to `dir`. Exported for tests of the harness. */
export function buildSippArgs(options: SippOptions, localPort: number, dir: string, injectionFile?: string): string[] {
  const localIp = options.localIp ?? '127.0.0.1';
  const args = [...scenarioArgs(options.scenario)];
  if (options.target !== undefined) args.push(options.target);
  args.push('-t', options.transport ?? 'u1', '-i', localIp, '-p', String(localPort));
  args.push('-mi', options.mediaIp ?? localIp);
  if (options.mediaPort !== undefined) args.push('-mp', String(options.mediaPort));
  // -nostdin: no keyboard control; -skip_rlimit: sipp would otherwise raise RLIMIT_NOFILE.
  args.push('-nostdin', '-skip_rlimit');
  args.push('-trace_stat', '-stf', path.join(dir, 'stat.csv'), '-fd', '1');
  args.push('-trace_err', '-error_file', path.join(dir, 'errors.log'));
  args.push('-trace_screen', '-screen_file', path.join(dir, 'screen.log'));
  if (options.traceMessages !== false) args.push('-trace_msg', '-message_file', path.join(dir, 'messages.log'));
  if (injectionFile !== undefined) args.push('-inf', injectionFile);
  for (const [name, value] of Object.entries(options.vars ?? {})) args.push('-set', name, String(value));
  for (const [name, value] of Object.entries(options.keys ?? {})) args.push('-key', name, String(value));
  if (options.service !== undefined) args.push('-s', options.service);
  if (options.calls !== undefined) args.push('-m', String(options.calls));
  if (options.rate !== undefined) args.push('-r', String(options.rate));
  if (options.ratePeriodMs !== undefined) args.push('-rp', String(options.ratePeriodMs));
  if (options.limit !== undefined) args.push('-l', String(options.limit));
  if (options.pauseMs !== undefined) args.push('-d', String(options.pauseMs));
  if (options.rtpEcho === true) args.push('-rtp_echo');
  if (options.authUser !== undefined) args.push('-au', options.authUser);
  if (options.authPass !== undefined) args.push('-ap', options.authPass);
  if (options.authUri !== undefined) args.push('-auth_uri', options.authUri.replace(/^sip:/, ''));
  args.push(...(options.extraArgs ?? []));
  return args;
}

/**
 * Parses the `-trace_stat` CSV: `;`-separated, header first, one row per dump; the last row
 * holds the final cumulative values. Returns null when there is no data row.
 */
export function parseSippStatCsv(csv: string): SippStats | null {
  const lines = csv.split('\n').filter((l) => l.trim() !== '');
  if (lines.length < 2) return null;
  const header = lines[0].split(';');
  const values = lines[lines.length - 1].split(';');
  const raw: Record<string, string> = {};
  header.forEach((name, i) => {
    if (name !== '') raw[name] = values[i] ?? '';
  });
  const n = (name: string): number => {
    const v = Number(raw[name]);
    return Number.isFinite(v) ? v : 0;
  };
  return {
    totalCallCreated: n('TotalCallCreated'),
    incomingCalls: n('IncomingCall(C)'),
    outgoingCalls: n('OutgoingCall(C)'),
    successful: n('SuccessfulCall(C)'),
    failed: n('FailedCall(C)'),
    failedUnexpectedMessage: n('FailedUnexpectedMessage(C)'),
    failedTimeoutOnRecv: n('FailedTimeoutOnRecv(C)'),
    failedMaxUdpRetrans: n('FailedMaxUDPRetrans(C)'),
    failedCallRejected: n('FailedCallRejected(C)'),
    failedCannotSendMessage: n('FailedCannotSendMessage(C)'),
    failedRegexpDoesntMatch: n('FailedRegexpDoesntMatch(C)'),
    outOfCallMsgs: n('OutOfCallMsgs(C)'),
    deadCallMsgs: n('DeadCallMsgs(C)'),
    retransmissions: n('Retransmissions(C)'),
    autoAnswered: n('AutoAnswered(C)'),
    warnings: n('Warnings(C)'),
    fatalErrors: n('FatalErrors(C)'),
    raw,
  };
}

/**
 * Fallback when the CSV is missing (sipp died early): the statistics screen prints
 * `Successful call | <periodic> | <cumulative>` rows.
 */
export function parseSippScreen(screen: string): Pick<SippStats, 'successful' | 'failed' | 'totalCallCreated'> {
  const cumulative = (label: string): number => {
    const matches = [...screen.matchAll(new RegExp(`^\\s*${label}\\s*\\|[^|]*\\|\\s*(\\d+)`, 'gm'))];
    const last = matches[matches.length - 1];
    return last === undefined ? 0 : Number(last[1]);
  };
  return {
    successful: cumulative('Successful call'),
    failed: cumulative('Failed call'),
    totalCallCreated: cumulative('Total Calls created'),
  };
}

function emptyStats(): SippStats {
  return {
    totalCallCreated: 0,
    incomingCalls: 0,
    outgoingCalls: 0,
    successful: 0,
    failed: 0,
    failedUnexpectedMessage: 0,
    failedTimeoutOnRecv: 0,
    failedMaxUdpRetrans: 0,
    failedCallRejected: 0,
    failedCannotSendMessage: 0,
    failedRegexpDoesntMatch: 0,
    outOfCallMsgs: 0,
    deadCallMsgs: 0,
    retransmissions: 0,
    autoAnswered: 0,
    warnings: 0,
    fatalErrors: 0,
    raw: {},
  };
}

async function readOr(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return '';
  }
}

/** Formats injection rows as sipp CSV (sipp(1) `-inf`): order line, then `;`-joined fields. */
export function formatInjection(injection: SippInjection): string {
  const rows = injection.rows.map((r) => r.map(String).join(';'));
  return [injection.order ?? 'SEQUENTIAL', ...rows, ''].join('\n');
}

/**
 * A running sipp; `done` resolves with its result once it has exited and its traces are read.
 * `kill()` ends it early (SIGTERM, SIGKILL after 2 s).
 */
export interface SippProcess {
  readonly child: ChildProcess;
  readonly args: string[];
  readonly localPort: number;
  readonly done: Promise<SippResult>;
  kill(): void;
}

/** Spawns sipp without waiting; the building block of {@link runSipp} and {@link startSippServer}. */
export async function spawnSipp(options: SippOptions): Promise<SippProcess> {
  installExitHook();
  const transport = options.transport ?? 'u1';
  const localPort = options.localPort ?? (await getFreePort(isTcpLike(transport) ? 'tcp' : 'udp', options.localIp));
  const dir = await mkdtemp(path.join(tmpdir(), 'sipp-'));
  let injectionFile: string | undefined;
  if (typeof options.injection === 'string') injectionFile = path.resolve(options.injection);
  else if (options.injection !== undefined) {
    injectionFile = path.join(dir, 'injection.csv');
    await writeFile(injectionFile, formatInjection(options.injection));
  }
  const args = buildSippArgs(options, localPort, dir, injectionFile);
  const started = Date.now();
  const child = spawn(SIPP_BIN, args, {
    cwd: options.cwd ?? fileURLToPath(new URL('../../', import.meta.url)),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));

  let timedOut = false;
  let killTimer: NodeJS.Timeout | undefined;
  const kill = (): void => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    killTimer ??= setTimeout(() => child.kill('SIGKILL'), 2000);
  };
  const timeout = setTimeout(() => {
    timedOut = true;
    kill();
  }, options.timeoutMs ?? 30000);

  const done = new Promise<SippResult>((resolve, reject) => {
    child.once('error', (error) => {
      clearTimeout(timeout);
      running.delete(child);
      void rm(dir, { recursive: true, force: true });
      reject(new Error(`cannot start ${SIPP_BIN}: ${error.message}`, { cause: error }));
    });
    child.once('close', (exitCode, signal) => {
      clearTimeout(timeout);
      if (killTimer !== undefined) clearTimeout(killTimer);
      running.delete(child);
      void (async () => {
        const [csv, screen, messages, errors] = await Promise.all([
          readOr(path.join(dir, 'stat.csv')),
          readOr(path.join(dir, 'screen.log')),
          readOr(path.join(dir, 'messages.log')),
          readOr(path.join(dir, 'errors.log')),
        ]);
        await rm(dir, { recursive: true, force: true });
        const stats = parseSippStatCsv(csv) ?? { ...emptyStats(), ...parseSippScreen(screen + stdout) };
        resolve({
          exitCode,
          signal,
          timedOut,
          stats,
          stdout,
          stderr,
          messages,
          errors,
          args,
          localPort,
          durationMs: Date.now() - started,
        });
      })().catch(reject);
    });
  });
  return { child, args, localPort, done, kill };
}

/**
 * Runs sipp to completion.
 *
 * @example
 * const r = await runSipp({ scenario: 'register-digest.xml', target: `127.0.0.1:${port}`,
 *   injection: { rows: [['alice', 'secret', 'example.com', sippAuth('alice', 'secret')]] }, calls: 1 });
 * assert.equal(r.stats.successful, 1, r.errors);
 */
export async function runSipp(options: SippOptions): Promise<SippResult> {
  const p = await spawnSipp(options);
  return p.done;
}

export interface SippServer {
  /** SIP port sipp listens on. */
  readonly port: number;
  readonly host: string;
  /** `host:port`, ready to pass as a `target`. */
  readonly address: string;
  readonly process: SippProcess;
  /** Ends sipp (SIGTERM; sipp writes its final statistics) and resolves with its result. */
  stop(): Promise<SippResult>;
}

/**
 * Starts a UAS scenario (e.g. `uas`, `uas-answer.xml`) in the background and resolves once
 * its SIP socket is bound (seen in /proc/net). Retries on a port race (exit 254) when
 * `localPort` was not given.
 */
export async function startSippServer(options: SippOptions): Promise<SippServer> {
  const host = options.localIp ?? '127.0.0.1';
  const transport = options.transport ?? 'u1';
  for (let attempt = 0; ; attempt++) {
    const p = await spawnSipp({ timeoutMs: 120000, ...options });
    const ready = await waitBound(p, isTcpLike(transport) ? 'tcp' : 'udp');
    if (ready) {
      return {
        port: p.localPort,
        host,
        address: `${host.includes(':') ? `[${host}]` : host}:${p.localPort}`,
        process: p,
        stop: () => {
          p.kill();
          return p.done;
        },
      };
    }
    const result = await p.done;
    if (options.localPort !== undefined || attempt >= 2 || result.exitCode !== 254) {
      throw new Error(
        `sipp server did not start (exit ${result.exitCode}): ${result.args.join(' ')}\n${result.stderr}${result.stdout.slice(-2000)}`,
      );
    }
  }
}

async function waitBound(p: SippProcess, proto: 'udp' | 'tcp'): Promise<boolean> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return false;
    if (await isPortBound(p.localPort, proto)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  p.kill();
  return false;
}

/**
 * Reads the kernel socket tables instead of probing with a bind of our own, which could
 * steal the port from a sipp that has not bound it yet. UDP sockets are listed once bound;
 * TCP ones must be in state 0A (LISTEN).
 */
async function isPortBound(port: number, proto: 'udp' | 'tcp'): Promise<boolean> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of [`/proc/net/${proto}`, `/proc/net/${proto}6`]) {
    for (const line of (await readOr(table)).split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 4 || !cols[1].endsWith(`:${hexPort}`)) continue;
      if (proto === 'udp' || cols[3] === '0A') return true;
    }
  }
  return false;
}

/**
 * The `[authentication ...]` keyword for an injection row. sipp 3.6 cannot nest `[fieldN]`
 * inside `[authentication]` (SIPp/sipp#640), so our scenarios read the whole keyword from a
 * field instead (`[field3]` in `register-digest.xml`).
 */
export function sippAuth(username: string, password: string): string {
  return `[authentication username=${username} password=${password}]`;
}

/**
 * One injection row in the layout of our scenarios (test/sipp/README.md):
 * `[field0]` user, `[field1]` password, `[field2]` domain, `[field3]` the `[authentication]` keyword.
 */
export function sippUserRow(user: string, password: string, domain: string): string[] {
  return [user, password, domain, sippAuth(user, password)];
}
