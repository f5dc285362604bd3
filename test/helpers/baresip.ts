/**
 * Debian's baresip (v1.0.0, `/usr/bin/baresip`, modules in `/usr/lib/baresip/modules`) as a
 * real SIP phone in tests: sipp forgives what phones do not.
 *
 * Each phone gets a private config dir (`config`, `accounts`, `contacts`, `uuid`) with only the
 * modules it needs: the chosen codecs (`g711`, `g722`, `opus`), `aufile` (audio source = a
 * 16-bit mono WAV file), `sndfile` (writes what the phone sends and receives, decoded, to WAV
 * files; baresip 1.0.0's `aufile` has no player), `account`, `menu` (the commands) and
 * `ctrl_tcp` (commands and events as JSON in netstrings over TCP). UDP, TCP and TLS are built
 * into libre, there are no transport modules. The network "interface" is pinned to the loopback address, so
 * SIP and SDP carry loopback addresses only.
 *
 * ctrl_tcp (baresip `modules/ctrl_tcp`): a command is `{"command":"dial","params":"sip:…",
 * "token":"n"}`, its answer `{"response":true,"ok":true,"data":"…","token":"n"}`; events
 * come as `{"event":true,"class":"call","type":"CALL_ESTABLISHED","peeruri":…,"param":…}`.
 * Events are sent only to connected clients, so the account is created with `uanew` after
 * the control connection is up: no REGISTER_OK can slip by unseen.
 *
 * Every wait is bounded; the process is killed on `close()` and by a process `exit` hook, and
 * its output is kept for failure messages.
 *
 * @example
 *   const b = await startBaresip({ user: 'bob', password, port: t.sipPort, audioIn: tone700, autoAnswer: true });
 *   const a = await startBaresip({ user: 'alice', password, port: t.sipPort, audioIn: tone1000 });
 *   await Promise.all([a.registered, b.registered]);
 *   await a.dial(`sip:bob@127.0.0.1:${t.sipPort}`);
 *   await a.waitForEvent('CALL_ESTABLISHED', 5000);
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { readWavPcm, writeWavPcm } from './audio-analysis.ts';
import { getFreePort } from './sipp.ts';

export const BARESIP_BIN = process.env.BARESIP_BIN ?? 'baresip';
export const BARESIP_MODULE_DIR = process.env.BARESIP_MODULE_DIR ?? '/usr/lib/baresip/modules';

/** Codec names accepted in {@link BaresipOptions.codecs}, and baresip's `audio_codecs` spelling of each. */
export const BARESIP_CODECS = {
  PCMU: { name: 'PCMU/8000/1', module: 'g711' },
  PCMA: { name: 'PCMA/8000/1', module: 'g711' },
  G722: { name: 'G722/8000/1', module: 'g722' },
  opus: { name: 'opus/48000/2', module: 'opus' },
} as const;
export type BaresipCodec = keyof typeof BARESIP_CODECS;

export interface BaresipOptions {
  user: string;
  password: string;
  /** Registrar host (an IP literal; an IPv6 one without brackets). Default `127.0.0.1`, or `::1` with `ipv6`. */
  domain?: string;
  /** Registrar port. */
  port: number;
  /** Default `udp`. */
  transport?: 'udp' | 'tcp' | 'tls';
  /** Listen and send media on `::1` instead of 127.0.0.1. */
  ipv6?: boolean;
  /** Offered/accepted codecs in preference order. Default: every one whose module exists. */
  codecs?: BaresipCodec[];
  /** Audio source: a 16-bit PCM mono WAV file (sent once, make it longer than the call). Default: 60 s of silence. */
  audioIn?: string;
  /** Where {@link BaresipPhone.close} leaves the received (decoded) audio as a WAV file. */
  audioOut?: string;
  /**
   * Where {@link BaresipPhone.close} copies every received-audio file, in order (`000.wav`, …):
   * baresip starts a new one each time a re-INVITE restarts the stream (hold, resume).
   */
  audioOutDir?: string;
  /** `answermode=auto`: answer incoming calls at once. */
  autoAnswer?: boolean;
  /** Registration interval in seconds. Default 600. */
  regint?: number;
  /** Bound for `registered`, commands and start-up. Default 8000 ms. */
  timeoutMs?: number;
  /** `-s`: SIP trace in the output (shown in failure messages). Default true. */
  sipTrace?: boolean;
  /** Load the `mwi` module and set `mwi=yes`: the phone SUBSCRIBEs to message-summary after registering. Default false. */
  mwi?: boolean;
  /**
   * Load the `srtp` module and set the account's `mediaenc`: `srtp-mand` offers RTP/SAVP with
   * SDES keys and refuses plain media; `srtp` offers RTP/AVP with keys (best effort).
   */
  mediaenc?: 'srtp' | 'srtp-mand';
}

/** One ctrl_tcp event. */
export interface BaresipEvent {
  type: string;
  class?: string;
  accountaor?: string;
  direction?: string;
  peeruri?: string;
  param?: string;
  /** ms since the phone started. */
  at: number;
  [key: string]: unknown;
}

export interface BaresipPhone {
  /** AOR of the account, e.g. `sip:alice@127.0.0.1:5060;transport=tcp`. */
  readonly aor: string;
  /** Resolves on REGISTER_OK; rejects on REGISTER_FAIL, exit or timeout (with the output). */
  readonly registered: Promise<void>;
  /** Every event so far, in order. */
  readonly events: BaresipEvent[];
  /** Places a call (`dial`); resolves when baresip accepted the command. */
  dial(uri: string): Promise<string>;
  /** Answers the ringing call (`accept`). */
  answer(): Promise<string>;
  /** Ends the current call (`hangup`). */
  hangup(): Promise<string>;
  /** Sends DTMF digits (`sndcode`; RFC 4733 when telephone-event was negotiated). */
  sendDtmf(digits: string): Promise<string>;
  /** Runs any menu command. */
  command(cmd: string, params?: string): Promise<string>;
  /** The first event of `type` (already seen or coming) after index `fromIndex` (default 0). */
  waitForEvent(type: string, timeoutMs?: number, fromIndex?: number): Promise<BaresipEvent>;
  /** stdout + stderr so far (colour codes stripped). */
  output(): string;
  /** Kills baresip, waits for it, moves the received audio to `audioOut`, removes the config dir. Idempotent. */
  close(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => { for (const p of running) p.kill('SIGKILL'); });

/**
 * The keys `phone` reported (`CALL_DTMF_START`) after event index `from`, once `n` came or
 * `timeoutMs` passed: the caller asserts on what it got.
 */
export async function dtmfReceived(phone: BaresipPhone, from: number, n: number, timeoutMs: number): Promise<string> {
  const keys = (): string => phone.events.slice(from).filter((e) => e.type === 'CALL_DTMF_START').map((e) => e.param).join('');
  for (const end = Date.now() + timeoutMs; keys().length < n && Date.now() < end;) await new Promise((r) => setTimeout(r, 100));
  return keys();
}

/** Whether a baresip module is installed (e.g. `opus`). */
export function hasBaresipModule(name: string): boolean {
  return existsSync(path.join(BARESIP_MODULE_DIR, `${name}.so`));
}

/** Bracketed for URIs and `host:port` when IPv6. */
function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Starts a baresip phone and creates its account; see {@link BaresipOptions}. */
export async function startBaresip(opts: BaresipOptions, attempt = 1): Promise<BaresipPhone> {
  const timeoutMs = opts.timeoutMs ?? 8000;
  const transport = opts.transport ?? 'udp';
  const loopback = opts.ipv6 ? '::1' : '127.0.0.1';
  const domain = opts.domain ?? loopback;
  const codecs = opts.codecs ?? (Object.keys(BARESIP_CODECS) as BaresipCodec[]).filter((c) => hasBaresipModule(BARESIP_CODECS[c].module));
  for (const c of codecs) if (!hasBaresipModule(BARESIP_CODECS[c].module)) throw new Error(`baresip: no ${BARESIP_CODECS[c].module}.so for ${c} in ${BARESIP_MODULE_DIR}`);

  const dir = mkdtempSync(path.join(tmpdir(), `baresip-${opts.user}-`));
  const soundDir = path.join(dir, 'sound');
  const ctrlPort = await getFreePort('tcp');
  // Without a source the call cannot start (audio: start_source failed): default to silence.
  const audioIn = opts.audioIn ?? path.join(dir, 'silence.wav');
  if (!opts.audioIn) writeWavPcm(audioIn, new Int16Array(8000 * 60), 8000);
  const srcRate = readWavPcm(audioIn).sampleRate;
  const modules = [...new Set(codecs.map((c) => BARESIP_CODECS[c].module))];
  // One line per setting; baresip's parser takes "key<whitespace>value" and '#' comments.
  const config = [
    'poll_method epoll',
    `sip_listen ${hostPort(loopback, 0)}`,
    `net_interface ${loopback}`,
    'call_local_timeout 120',
    'call_max_calls 4',
    // No audio player module is loaded: the received audio only goes to sndfile's dump.
    `audio_source aufile,${audioIn}`,
    'audio_alert none',
    // aufile insists that the file's rate is the source rate; baresip resamples to the codec's.
    `ausrc_srate ${srcRate}`,
    'ausrc_channels 1',
    'audio_buffer 20-160',
    'rtp_ports 40000-49999',
    'rtcp_mux no',
    'jitter_buffer_delay 5-10',
    `module_path ${BARESIP_MODULE_DIR}`,
    ...modules.map((m) => `module ${m}.so`),
    'module sndfile.so',
    'module aufile.so',
    ...(opts.mwi ? ['module_app mwi.so'] : []),
    ...(opts.mediaenc ? ['module srtp.so'] : []),
    'module_tmp account.so',
    'module_app menu.so',
    'module_app ctrl_tcp.so',
    `ctrl_tcp_listen 127.0.0.1:${ctrlPort}`,
    `snd_path ${soundDir}`,
    '',
  ].join('\n');
  writeFileSync(path.join(dir, 'config'), config);
  writeFileSync(path.join(dir, 'accounts'), '');
  writeFileSync(path.join(dir, 'contacts'), '');
  writeFileSync(path.join(dir, 'uuid'), randomUUID());
  mkdirSync(soundDir);

  const aor = `sip:${opts.user}@${hostPort(domain, opts.port)}${transport === 'udp' ? '' : `;transport=${transport}`}`;
  const params = [
    `auth_pass=${opts.password}`,
    `regint=${opts.regint ?? 600}`,
    `audio_codecs=${codecs.map((c) => BARESIP_CODECS[c].name).join(',')}`,
    `answermode=${opts.autoAnswer ? 'auto' : 'manual'}`,
    `mwi=${opts.mwi ? 'yes' : 'no'}`,
    'call_transfer=no',
    ...(opts.mediaenc ? [`mediaenc=${opts.mediaenc}`] : []),
  ];
  const accountLine = `<${aor}>;${params.join(';')}`;

  const started = Date.now();
  const args = ['-f', dir, ...(opts.sipTrace === false ? [] : ['-s'])];
  const child = spawn(BARESIP_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  child.stdout!.on('data', (b: Buffer) => { out += b.toString('utf8'); });
  child.stderr!.on('data', (b: Buffer) => { out += b.toString('utf8'); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { running.delete(child); resolve(code); }));
  let hasExited = false;
  void exited.then(() => { hasExited = true; wake(); });
  const output = () => out.replace(/\x1b\[[0-9;]*m/g, '');
  const fail = (why: string) => new Error(`baresip ${opts.user}: ${why}\n--- baresip output (last 6000 chars) ---\n${output().slice(-6000)}`);

  const events: BaresipEvent[] = [];
  const responses = new Map<string, { resolve: (d: string) => void; reject: (e: Error) => void }>();
  let waiters: Array<() => void> = [];
  const wake = () => { const w = waiters; waiters = []; for (const f of w) f(); };

  // Connect to ctrl_tcp once it listens (bounded retries).
  const sock = await (async () => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (hasExited) throw fail('exited during start-up');
      const s = await new Promise<net.Socket | null>((resolve) => {
        const c = net.connect({ host: '127.0.0.1', port: ctrlPort });
        c.once('connect', () => resolve(c));
        c.once('error', () => { c.destroy(); resolve(null); });
      });
      if (s) return s;
      if (Date.now() > deadline) { child.kill('SIGKILL'); throw fail(`ctrl_tcp not listening on ${ctrlPort} after ${timeoutMs} ms`); }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  // The control port is picked free, then bound by baresip: another process can take it in
  // between (and answer the connect above). baresip then runs without ctrl_tcp; start again.
  const loaded = Date.now() + timeoutMs;
  while (!/baresip is ready|ctrl_tcp: failed/.test(output()) && !hasExited && Date.now() < loaded) await new Promise((r) => setTimeout(r, 20));
  if (output().includes('ctrl_tcp: failed to listen')) {
    sock.destroy();
    child.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
    if (attempt < 3) return startBaresip(opts, attempt + 1);
    throw fail(`ctrl_tcp could not listen (attempt ${attempt})`);
  }

  // Netstrings: "<len>:<payload>," (djb's netstring spec).
  let inbuf = Buffer.alloc(0);
  sock.on('data', (chunk: Buffer) => {
    inbuf = Buffer.concat([inbuf, chunk]);
    for (;;) {
      const colon = inbuf.indexOf(0x3a);
      if (colon < 0) return;
      const len = Number(inbuf.toString('latin1', 0, colon));
      if (!Number.isInteger(len)) { out += `\n[driver] bad netstring prefix ${inbuf.toString('latin1', 0, colon)}\n`; inbuf = Buffer.alloc(0); return; }
      if (inbuf.length < colon + 1 + len + 1) return;
      const json = inbuf.toString('utf8', colon + 1, colon + 1 + len);
      inbuf = inbuf.subarray(colon + 1 + len + 1);
      let msg: any;
      try { msg = JSON.parse(json); } catch { out += `\n[driver] bad JSON ${json}\n`; continue; }
      if (msg.event) {
        events.push({ ...msg, at: Date.now() - started });
        wake();
      } else if (msg.response && typeof msg.token === 'string') {
        const r = responses.get(msg.token);
        responses.delete(msg.token);
        if (r) msg.ok === false ? r.reject(fail(`command failed: ${msg.data ?? ''}`)) : r.resolve(String(msg.data ?? ''));
      }
    }
  });
  sock.on('error', () => { /* the process exit path reports */ });

  let nextToken = 1;
  const command = (cmd: string, param?: string): Promise<string> => {
    const token = String(nextToken++);
    const json = JSON.stringify(param === undefined ? { command: cmd, token } : { command: cmd, params: param, token });
    const body = Buffer.from(json, 'utf8');
    sock.write(`${body.length}:`);
    sock.write(body);
    sock.write(',');
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => { responses.delete(token); reject(fail(`no answer to "${cmd}" in ${timeoutMs} ms`)); }, timeoutMs);
      responses.set(token, {
        resolve: (d) => { clearTimeout(timer); resolve(d); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
    });
  };

  const waitForEvent = (type: string, ms = timeoutMs, fromIndex = 0): Promise<BaresipEvent> => new Promise((resolve, reject) => {
    const deadline = Date.now() + ms;
    let timer: NodeJS.Timeout | undefined;
    const check = () => {
      const e = events.slice(fromIndex).find((x) => x.type === type);
      if (e) { clearTimeout(timer); return resolve(e); }
      if (hasExited) { clearTimeout(timer); return reject(fail(`exited while waiting for ${type}; events: ${events.map((x) => x.type).join(', ')}`)); }
      if (Date.now() >= deadline) return reject(fail(`no ${type} within ${ms} ms; events: ${events.map((x) => `${x.type}${x.param ? `(${x.param})` : ''}`).join(', ')}`));
      waiters.push(check);
    };
    timer = setTimeout(() => wake(), ms + 5);
    check();
  });

  // The account is created after the control connection is up, so its REGISTER_OK is seen.
  try {
    await command('uanew', accountLine);
  } catch (err) {
    // The caller gets no handle to close: a live child (its pipes) would keep the test process from exiting.
    sock.destroy();
    child.kill('SIGKILL');
    throw err;
  }
  const registered = (async () => {
    const ok = waitForEvent('REGISTER_OK', timeoutMs);
    const bad = waitForEvent('REGISTER_FAIL', timeoutMs).then((e) => { throw fail(`REGISTER_FAIL ${e.param ?? ''}`); }, () => new Promise<never>(() => {}));
    await Promise.race([ok, bad]);
  })();
  registered.catch(() => { /* observed by the caller */ });

  let closed: Promise<void> | undefined;
  const close = () => closed ??= (async () => {
    sock.destroy();
    if (!hasExited) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(t);
    }
    if (opts.audioOut) {
      // sndfile writes dump-<time>-enc.wav (sent) and dump-<time>-dec.wav (received) per call.
      const dec = readdirSync(soundDir).filter((f) => f.endsWith('-dec.wav')).sort();
      if (dec.length > 0) {
        copyFileSync(path.join(soundDir, dec[dec.length - 1]!), opts.audioOut);
      }
    }
    if (opts.audioOutDir) {
      const dec = readdirSync(soundDir).filter((f) => f.endsWith('-dec.wav')).sort();
      dec.forEach((f, i) => copyFileSync(path.join(soundDir, f), path.join(opts.audioOutDir!, `${String(i).padStart(3, '0')}.wav`)));
    }
    rmSync(dir, { recursive: true, force: true });
  })();

  return {
    aor, registered, events, command, waitForEvent, output, close,
    dial: (uri) => command('dial', uri),
    answer: () => command('accept'),
    hangup: () => command('hangup'),
    sendDtmf: (digits) => command('sndcode', digits),
  };
}
