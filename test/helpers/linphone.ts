/**
 * linphonec (Debian `linphone-cli`, liblinphone 5.1 with libbzrtp) as a real ZRTP phone.
 * Console only: commands go to its stdin, the call progress comes on stdout, and the ZRTP
 * outcome ("ZRTP secrets on: SAS is xxxx previously verified yes|no") is read from its log file.
 * No sound card: `soundcard use files` plays a WAV instead of the microphone and records what
 * it hears to another WAV.
 *
 * Quirk: in a container without a network monitor liblinphone 5.1 opens no SIP listening point
 * from the config at start; the `ports sip N` command opens it. HOME points into the phone's own
 * directory so its ZRTP cache (linphone.db) persists between calls of one test, like a real phone.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { getFreePort } from './sipp.ts';

export const LINPHONEC_BIN = process.env.LINPHONEC_BIN ?? 'linphonec';

export function hasLinphonec(): boolean {
  return spawnSync(LINPHONEC_BIN, ['-v'], { timeout: 5000 }).status !== null;
}

export interface LinphoneOptions {
  user: string;
  password: string;
  /** Strowger's SIP port on 127.0.0.1 (UDP). */
  sipPort: number;
  domain: string;
  /** WAV played as the microphone. */
  playFile: string;
  /** WAV written with what the phone hears. */
  recordFile: string;
}

export interface LinphonePhone {
  readonly rtpPort: number;
  /** Places a call and resolves when linphonec says the media streams are up. */
  call(uri: string, timeoutMs?: number): Promise<void>;
  /** The SAS and verified flag of the n-th secured ZRTP session (0-based), from the log. */
  sas(n?: number, timeoutMs?: number): Promise<{ sas: string; verified: boolean }>;
  hangup(timeoutMs?: number): Promise<void>;
  output(): string;
  log(): string;
  close(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => { for (const p of running) p.kill('SIGKILL'); });

async function until<T>(what: string, fn: () => T | undefined, timeoutMs: number, context: () => string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`linphonec: ${what} not seen in ${timeoutMs} ms\n${context().slice(-3000)}`);
    await sleep(50);
  }
}

export async function startLinphone(o: LinphoneOptions): Promise<LinphonePhone> {
  const dir = mkdtempSync(path.join(tmpdir(), `linphone-${o.user}-`));
  mkdirSync(path.join(dir, '.local', 'share', 'linphone'), { recursive: true });
  const sipLocal = await getFreePort('udp');
  const rtpPort = await getFreePort('udp');
  const logFile = path.join(dir, 'linphone.log');
  const rc = path.join(dir, 'linphonerc');
  writeFileSync(rc, [
    '[sip]', `sip_port=${sipLocal}`, 'use_ipv6=0', 'sip_tcp_port=0', 'sip_tls_port=0', 'default_proxy=0', 'auto_net_state_mon=0', 'media_encryption=zrtp',
    'register_only_when_network_is_up=0', 'guess_hostname=0', `contact=sip:${o.user}@127.0.0.1:${sipLocal}`,
    '[rtp]', `audio_rtp_port=${rtpPort}`, 'rtcp_mux=0',
    '[misc]', 'media_encryption=zrtp',
    '[sound]', 'echocancellation=0',
    '[proxy_0]', `reg_proxy=sip:127.0.0.1:${o.sipPort}`, `reg_identity=sip:${o.user}@${o.domain}`, 'reg_expires=3600', 'reg_sendregister=0', 'publish=0',
    '[auth_info_0]', `username=${o.user}`, `passwd=${o.password}`, `realm=${o.domain}`, '',
  ].join('\n'));
  const child = spawn(LINPHONEC_BIN, ['-c', rc, '-d', '6', '-l', logFile], { cwd: dir, env: { ...process.env, HOME: dir }, stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  child.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
  child.stderr!.on('data', (b: Buffer) => { out += b.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => { running.delete(child); resolve(); }));
  const send = (cmd: string): void => { child.stdin!.write(`${cmd}\n`); };
  const log = (): string => (existsSync(logFile) ? readFileSync(logFile, 'latin1') : '');
  await until('its prompt', () => (out.includes('linphonec>') ? true : undefined), 8000, () => out);
  // IPv4 media, so tcpdump captures read by rtp-capture.ts (Ethernet/IPv4) see it; use_ipv6=0 alone is not taken.
  send('ipv6 disable');
  send(`ports sip ${sipLocal}`);
  send('soundcard use files');
  send(`play ${o.playFile}`);
  send(`record ${o.recordFile}`);
  await until('the SIP port', () => (out.includes(`Setting sip port to ${sipLocal}`) ? true : undefined), 5000, () => out);
  let calls = 0;
  return {
    rtpPort,
    async call(uri, timeoutMs = 8000) {
      const n = ++calls;
      send(`call ${uri}`);
      await until(`call ${n} media`, () => (new RegExp(`Media streams established with .* for call ${n}`).test(out) ? true : undefined), timeoutMs, () => out);
    },
    async sas(n = 0, timeoutMs = 5000) {
      return until(`ZRTP SAS #${n}`, () => {
        const m = [...log().matchAll(/ZRTP secrets on: SAS is (\S+) previously verified (yes|no)/g)][n];
        return m ? { sas: m[1]!, verified: m[2] === 'yes' } : undefined;
      }, timeoutMs, log);
    },
    async hangup(timeoutMs = 5000) {
      const ended = (out.match(/ended \(/g) ?? []).length;
      send('terminate');
      await until('the call end', () => ((out.match(/ended \(/g) ?? []).length > ended ? true : undefined), timeoutMs, () => out);
    },
    output: () => out,
    log,
    async close() {
      if (child.exitCode === null) {
        send('quit');
        const t = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * What linphonec recorded: 16-bit PCM after the 44-octet header. Its header's data size counts
 * the header too (44 octets past the end), so the strict WAV reader of the other tests refuses it.
 */
export function readLinphoneWav(file: string): { samples: Int16Array; sampleRate: number } {
  const b = readFileSync(file);
  const sampleRate = b.readUInt32LE(24);
  const bytes = (b.length - 44) & ~1;
  const samples = new Int16Array(bytes / 2);
  for (let i = 0; i < samples.length; i++) samples[i] = b.readInt16LE(44 + i * 2);
  return { samples, sampleRate };
}
