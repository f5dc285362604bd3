/**
 * A real DNS server for RFC 3263 tests: Debian's `dnsmasq` on a free loopback port, serving
 * only the records given (no upstream, no /etc/hosts), in the foreground (`-d`) so it dies
 * with the test. Names under `localDomain` that are not configured get NXDOMAIN.
 *
 * @example
 * ```ts
 * const dns = await startDnsmasq({
 *   hosts: [['a.trunk.test', '127.0.0.1']],
 *   srv: [{ name: '_sip._tcp.trunk.test', target: 'a.trunk.test', port: 5070, priority: 10, weight: 50 }],
 * });
 * // STROWGER_DNS_SERVERS: dns.server ('127.0.0.1:<port>')
 * await dns.stop();
 * ```
 */
import { spawn } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { getFreePort } from './sipp.ts';

export interface SrvSpec { name: string; target: string; port: number; priority: number; weight: number }
export interface NaptrSpec { name: string; order: number; preference: number; service: string; replacement: string }

export interface DnsmasqOptions {
  /** [name, address] A/AAAA records (`--host-record`). */
  hosts?: Array<[string, string]>;
  srv?: SrvSpec[];
  naptr?: NaptrSpec[];
  /** Authoritative-style local domain (`--local`): unknown names answer NXDOMAIN. Default `test`. */
  localDomain?: string;
}

export interface Dnsmasq {
  /** `127.0.0.1:<port>`, for STROWGER_DNS_SERVERS or `Resolver.setServers`. */
  readonly server: string;
  stop(): Promise<void>;
}

export const DNSMASQ_BIN = process.env.DNSMASQ_BIN ?? '/usr/sbin/dnsmasq';

export async function startDnsmasq(o: DnsmasqOptions): Promise<Dnsmasq> {
  const port = await getFreePort('udp+tcp');
  const args = [
    '-d', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--no-poll', '--bind-interfaces',
    '--listen-address=127.0.0.1', `--port=${port}`, `--local=/${o.localDomain ?? 'test'}/`, '--user=root', '--pid-file=',
    ...(o.hosts ?? []).map(([name, address]) => `--host-record=${name},${address}`),
    ...(o.srv ?? []).map((s) => `--srv-host=${s.name},${s.target},${s.port},${s.priority},${s.weight}`),
    ...(o.naptr ?? []).map((n) => `--naptr-record=${n.name},${n.order},${n.preference},S,${n.service},,${n.replacement}`),
  ];
  const child = spawn(DNSMASQ_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  const server = `127.0.0.1:${port}`;
  // Ready when it answers: a query for a name it must not know comes back NXDOMAIN.
  const probe = new Resolver({ timeout: 200, tries: 1 });
  probe.setServers([server]);
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`dnsmasq exited: ${stderr}`);
    try {
      await probe.resolve4(`ready.${o.localDomain ?? 'test'}`);
      break;
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOTFOUND') break;
      if (i > 50) { kill(); throw new Error(`dnsmasq did not answer: ${stderr}`); }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    server,
    stop: async () => {
      process.off('exit', kill);
      child.kill('SIGTERM');
      await exited;
    },
  };
}
