/**
 * Locating SIP servers (RFC 3263 §4): from a URI's host, optional port and transport to the
 * ordered list of (transport, address, port) a client tries, moving to the next on a transport
 * error, a timeout or a 503 (§4.3; the transaction user does that, see `SipUacLeg`).
 *
 *   host is an IP address     → that address; transport from the URI, else UDP (TLS for sips);
 *                               port from the URI, else 5060/5061              (§4.1, §4.2)
 *   port given                → no NAPTR, no SRV: A/AAAA of the host            (§4.2)
 *   transport given, no port  → no NAPTR: SRV `_sip._udp|_sip._tcp|_sips._tcp.<host>`;
 *                               none → A/AAAA, default port                    (§4.1, §4.2)
 *   neither                   → NAPTR (SIP+D2U, SIP+D2T, SIPS+D2T; order, then preference)
 *                               → SRV of each replacement; no NAPTR → SRV of each transport
 *                               we support; none → A/AAAA, UDP (TLS for sips), default port
 *
 * SRV targets are ordered by RFC 2782 (`dns-srv-order.ts`); each target's A addresses come
 * before its AAAA ones. Every target carries the URI's host as `serverName`: a TLS server is
 * checked against the domain the user asked for, not the SRV target (RFC 5922 §4).
 */
import { isIP } from 'node:net';
import { SipError } from './errors.ts';
import type { DnsClient } from './dns-cache.ts';
import { orderSrv } from './dns-srv-order.ts';

/** Transports a client can choose here (WS peers cannot be dialed, RFC 7118 §5). */
export type DialProtocol = 'udp' | 'tcp' | 'tls';

export interface LocateRequest {
  /** Host name or IP literal (brackets optional for IPv6). */
  readonly host: string;
  /** Explicit port of the URI; undefined = none given. */
  readonly port?: number;
  /** Explicit `transport=` of the URI (tls for a sips URI); undefined = none given. */
  readonly transport?: DialProtocol;
  /** A sips URI: TLS only (RFC 3263 §4.1). */
  readonly secure?: boolean;
}

/** One place to send the request to. */
export interface LocatedTarget {
  readonly protocol: DialProtocol;
  readonly address: string;
  readonly port: number;
  /** Host of the URI: TLS SNI and certificate name (RFC 5922). */
  readonly serverName: string;
}

export const DnsErrorCode = {
  /** The name has no usable NAPTR, SRV, A or AAAA records. */
  NOT_FOUND: 'SIP_ERR_DNS_NOT_FOUND',
  /** The DNS servers failed or did not answer. */
  FAILED: 'SIP_ERR_DNS_FAILED',
} as const;

/** Resolution gave no target: the request cannot be sent (answer upstream with 503). */
export class SipDnsError extends SipError {
  constructor(code: (typeof DnsErrorCode)[keyof typeof DnsErrorCode], message: string, options?: { cause?: unknown }) {
    super(code, message, 503, options);
    this.name = 'SipDnsError';
  }
}

/** NAPTR services of RFC 3263 §4.1 and the transport each names. */
const NAPTR_SERVICES: Record<string, DialProtocol> = { 'SIP+D2U': 'udp', 'SIP+D2T': 'tcp', 'SIPS+D2T': 'tls' };

const SRV_PREFIX: Record<DialProtocol, string> = { udp: '_sip._udp.', tcp: '_sip._tcp.', tls: '_sips._tcp.' };

export function defaultSipPort(protocol: DialProtocol): number {
  return protocol === 'tls' ? 5061 : 5060;
}

export interface SipLocatorOptions {
  dns: DnsClient;
  /** Transports we can send on, in our order of preference. Default udp, tcp, tls. */
  transports?: readonly DialProtocol[];
  /** Address families tried, in order. Default IPv4 then IPv6. */
  families?: ReadonlyArray<4 | 6>;
  /** [0, 1) for the SRV weight draw. */
  random?: () => number;
}

/**
 * @example
 * ```ts
 * const locator = new SipLocator({ dns: new CachingDnsClient() });
 * const targets = await locator.locate({ host: 'carrier.example' }); // NAPTR → SRV → A/AAAA
 * ```
 */
export class SipLocator {
  private readonly dns: DnsClient;
  private readonly transports: readonly DialProtocol[];
  private readonly families: ReadonlyArray<4 | 6>;
  private readonly random: () => number;

  constructor(o: SipLocatorOptions) {
    this.dns = o.dns;
    this.transports = o.transports ?? ['udp', 'tcp', 'tls'];
    this.families = o.families ?? [4, 6];
    this.random = o.random ?? Math.random;
  }

  /** The targets in the order to try them; throws {@link SipDnsError} when there is none. */
  async locate(req: LocateRequest): Promise<LocatedTarget[]> {
    const host = req.host.startsWith('[') && req.host.endsWith(']') ? req.host.slice(1, -1) : req.host;
    const fallback: DialProtocol = req.transport ?? (req.secure ? 'tls' : 'udp');
    if (isIP(host) !== 0) {
      return [{ protocol: fallback, address: host, port: req.port ?? defaultSipPort(fallback), serverName: host }];
    }
    try {
      const targets = await this.byName(host, req, fallback);
      if (targets.length === 0) throw new SipDnsError(DnsErrorCode.NOT_FOUND, `${host}: no NAPTR, SRV, A or AAAA records usable for SIP`);
      return dedupe(targets);
    } catch (err) {
      if (err instanceof SipDnsError) throw err;
      throw new SipDnsError(DnsErrorCode.FAILED, `${host}: DNS lookup failed (${(err as { code?: string }).code ?? String(err)})`, { cause: err });
    }
  }

  private async byName(host: string, req: LocateRequest, fallback: DialProtocol): Promise<LocatedTarget[]> {
    if (req.port !== undefined) return this.addresses(host, fallback, req.port, host);
    if (req.transport !== undefined) {
      const viaSrv = await this.srv(SRV_PREFIX[req.transport] + host, req.transport, host);
      return viaSrv.length > 0 ? viaSrv : this.addresses(host, req.transport, defaultSipPort(req.transport), host);
    }
    const viaNaptr = await this.naptr(host, req.secure === true);
    if (viaNaptr.length > 0) return viaNaptr;
    const out: LocatedTarget[] = [];
    for (const protocol of this.transports) {
      if (req.secure && protocol !== 'tls') continue;
      out.push(...(await this.srv(SRV_PREFIX[protocol] + host, protocol, host)));
    }
    return out.length > 0 ? out : this.addresses(host, fallback, defaultSipPort(fallback), host);
  }

  /** §4.1: NAPTR records we can use, by order then preference, each followed through its SRV. */
  private async naptr(host: string, secure: boolean): Promise<LocatedTarget[]> {
    const records = (await this.dns.naptr(host))
      .filter((r) => r.flags.toLowerCase() === 's' && r.replacement !== '' && r.replacement !== '.')
      .map((r) => ({ r, protocol: NAPTR_SERVICES[r.service.toUpperCase()] }))
      .filter((x): x is { r: typeof x.r; protocol: DialProtocol } => x.protocol !== undefined && this.transports.includes(x.protocol) && (!secure || x.protocol === 'tls'))
      .sort((x, y) => x.r.order - y.r.order || x.r.preference - y.r.preference);
    const out: LocatedTarget[] = [];
    for (const { r, protocol } of records) out.push(...(await this.srv(r.replacement, protocol, host)));
    return out;
  }

  private async srv(name: string, protocol: DialProtocol, serverName: string): Promise<LocatedTarget[]> {
    const out: LocatedTarget[] = [];
    for (const record of orderSrv(await this.dns.srv(name), this.random)) {
      out.push(...(await this.addresses(record.name, protocol, record.port, serverName)));
    }
    return out;
  }

  private async addresses(name: string, protocol: DialProtocol, port: number, serverName: string): Promise<LocatedTarget[]> {
    const out: LocatedTarget[] = [];
    for (const family of this.families) {
      for (const address of await (family === 4 ? this.dns.a(name) : this.dns.aaaa(name))) {
        out.push({ protocol, address, port, serverName });
      }
    }
    return out;
  }
}

function dedupe(targets: LocatedTarget[]): LocatedTarget[] {
  const seen = new Set<string>();
  return targets.filter((t) => {
    const key = `${t.protocol} ${t.address} ${t.port}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
