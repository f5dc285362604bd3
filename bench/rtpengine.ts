/**
 * rtpengine (Debian `rtpengine-daemon`) as the relay benchmark's reference: started by the bench
 * in userspace (`--table=-1`: no kernel forwarding), one worker thread, pinned like our worker,
 * driven over its ng control protocol (bencoded dictionaries over UDP, RFC-less but documented
 * by the project: `cookie d7:command5:offer...e`). Each call is an `offer` (caller SDP) and an
 * `answer` (callee SDP); rtpengine's ports come back in the rewritten SDP.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { pinnedCommand } from './relay-loadgen.ts';

type Bencoded = string | number | Bencoded[] | { [key: string]: Bencoded };

export function bencode(v: Bencoded): string {
  if (typeof v === 'number') return `i${Math.trunc(v)}e`;
  if (typeof v === 'string') return `${Buffer.byteLength(v)}:${v}`;
  if (Array.isArray(v)) return `l${v.map(bencode).join('')}e`;
  return `d${Object.keys(v).sort().map((k) => bencode(k) + bencode(v[k])).join('')}e`;
}

/** Decodes one bencoded value from `s` at `at` (strings as latin1: SDP is ASCII). */
export function bdecode(s: string, at = 0): { value: Bencoded; end: number } {
  const c = s[at];
  if (c === 'i') {
    const end = s.indexOf('e', at);
    return { value: Number(s.slice(at + 1, end)), end: end + 1 };
  }
  if (c === 'l' || c === 'd') {
    const list: Bencoded[] = [];
    let i = at + 1;
    while (s[i] !== 'e') {
      const item = bdecode(s, i);
      list.push(item.value);
      i = item.end;
    }
    if (c === 'l') return { value: list, end: i + 1 };
    const dict: Record<string, Bencoded> = {};
    for (let k = 0; k < list.length; k += 2) dict[list[k] as string] = list[k + 1];
    return { value: dict, end: i + 1 };
  }
  const colon = s.indexOf(':', at);
  if (colon < 0) throw new Error(`bencode: bad input at ${at}`);
  const len = Number(s.slice(at, colon));
  return { value: s.slice(colon + 1, colon + 1 + len), end: colon + 1 + len };
}

function sdp(port: number, session: number): string {
  return [
    'v=0', `o=- ${session} 1 IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
    `m=audio ${port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', '',
  ].join('\r\n');
}

function mediaPort(body: string): number {
  const m = /^m=audio (\d+) /m.exec(body);
  if (!m) throw new Error(`rtpengine: no m=audio in its SDP: ${body.slice(0, 200)}`);
  return Number(m[1]);
}

/** Why rtpengine cannot be used here, or null. */
export function rtpengineMissing(): string | null {
  if (process.env.MEDIA_BENCH_RTPENGINE === '0') return 'MEDIA_BENCH_RTPENGINE=0';
  const r = spawnSync('rtpengine', ['--version'], { encoding: 'utf8' });
  if (r.error !== undefined) return 'rtpengine not installed (apt-get install -y rtpengine-daemon)';
  return null;
}

export class Rtpengine {
  private readonly pending = new Map<string, (reply: Record<string, Bencoded>) => void>();
  private cookie = 0;
  private closed = false;
  private calls = 0;
  private readonly clkTck: number;

  private constructor(
    private readonly child: ChildProcess,
    private readonly control: dgram.Socket,
    private readonly ngPort: number,
    readonly version: string,
  ) {
    control.on('message', (msg) => {
      const text = msg.toString('latin1');
      const space = text.indexOf(' ');
      const done = this.pending.get(text.slice(0, space));
      if (done === undefined) return;
      this.pending.delete(text.slice(0, space));
      done(bdecode(text, space + 1).value as Record<string, Bencoded>);
    });
    this.clkTck = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  }

  /** Starts rtpengine on 127.0.0.1 with media ports in [portMin, portMax], pinned to `cpu`. */
  static async start(o: { ngPort: number; portMin: number; portMax: number; cpu: number | null }): Promise<Rtpengine> {
    const version = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'rtpengine-daemon'], { encoding: 'utf8' }).stdout?.trim() || '?';
    const [cmd, args] = pinnedCommand(o.cpu, 'rtpengine', [
      '--config-file=none', '--foreground', '--log-stderr', '--log-level=3', '--table=-1',
      '--interface=127.0.0.1', `--listen-ng=127.0.0.1:${o.ngPort}`, '--num-threads=1',
      `--port-min=${o.portMin}`, `--port-max=${o.portMax}`, '--timeout=3600', '--silent-timeout=3600',
      '--delete-delay=0',
    ]);
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    const control = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => control.bind(0, '127.0.0.1', resolve));
    const r = new Rtpengine(child, control, o.ngPort, version);
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`rtpengine exited (${child.exitCode}): ${stderr}`);
      const pong = await Promise.race([r.command({ command: 'ping' }).catch(() => null), sleep(200).then(() => null)]);
      if (pong !== null && pong.result === 'pong') return r;
      if (i === 50) {
        await r.stop();
        throw new Error(`rtpengine did not answer ping on 127.0.0.1:${o.ngPort}: ${stderr}`);
      }
    }
  }

  /**
   * One ng command. A lost datagram is sent again with the same cookie every 500 ms (rtpengine
   * answers a repeated cookie from its cache, so an offer is never applied twice); after 10
   * tries the command fails.
   */
  command(dict: Record<string, Bencoded>): Promise<Record<string, Bencoded>> {
    const cookie = `c${++this.cookie}`;
    const datagram = `${cookie} ${bencode(dict)}`;
    return new Promise((resolve, reject) => {
      let tries = 0;
      const attempt = (): void => {
        if (this.closed) return;
        if (++tries > 10) {
          this.pending.delete(cookie);
          reject(new Error(`rtpengine: no answer to ${String(dict.command)}`));
          return;
        }
        this.control.send(datagram, this.ngPort, '127.0.0.1');
        timer = setTimeout(attempt, 500);
      };
      let timer = setTimeout(attempt, 0);
      this.pending.set(cookie, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
    });
  }

  /**
   * One relayed call between the caller at `callerPort` and the callee at `calleePort` (both on
   * 127.0.0.1): returns where the caller sends (rtpengine's port towards the callee) and where
   * the callee sends.
   */
  async call(callerPort: number, calleePort: number): Promise<{ callerTarget: number; calleeTarget: number }> {
    const n = ++this.calls;
    const base = { 'call-id': `bench-${n}`, 'from-tag': `a${n}`, replace: ['origin', 'session-connection'] };
    const offer = await this.command({ command: 'offer', ...base, sdp: sdp(callerPort, n) });
    if (offer.result !== 'ok') throw new Error(`rtpengine offer: ${JSON.stringify(offer)}`);
    const answer = await this.command({ command: 'answer', ...base, 'to-tag': `b${n}`, sdp: sdp(calleePort, n) });
    if (answer.result !== 'ok') throw new Error(`rtpengine answer: ${JSON.stringify(answer)}`);
    return { callerTarget: mediaPort(answer.sdp as string), calleeTarget: mediaPort(offer.sdp as string) };
  }

  /** CPU (ms) used by every thread of the daemon so far. */
  cpuMs(): number {
    const stat = readFileSync(`/proc/${this.child.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / this.clkTck; // utime, stime (fields 14, 15)
  }

  /** Peak resident set of the daemon (VmHWM), MB. */
  peakRssMb(): number {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.child.pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  }

  async stop(): Promise<void> {
    this.closed = true;
    this.control.close();
    if (this.child.exitCode === null) {
      const exited = once(this.child, 'exit');
      this.child.kill('SIGTERM');
      await Promise.race([exited, sleep(3000).then(() => this.child.kill('SIGKILL'))]);
    }
  }
}
