/**
 * A DNS client for the RFC 3263 resolver (`dns-resolve.ts`) over Node's `dns.promises.Resolver`,
 * with a small answer cache. A and AAAA answers live for their TTL (Node gives it with
 * `{ ttl: true }`); Node does not report the TTL of NAPTR and SRV answers, so those live for
 * `recordTtlMs` (default 60 s). "No such name / no data" is cached too (RFC 2308), for
 * `negativeTtlMs`; server failures and timeouts are not cached. Every entry is capped at
 * `maxTtlMs`, so a long TTL cannot pin a trunk's old address for a day.
 */
import { lookup, Resolver } from 'node:dns/promises';
import type { NaptrRecord, SrvRecord } from 'node:dns';

/** The four queries RFC 3263 needs; answers already stripped of the cache's bookkeeping. */
export interface DnsClient {
  naptr(name: string): Promise<NaptrRecord[]>;
  srv(name: string): Promise<SrvRecord[]>;
  /** A records (IPv4 addresses). */
  a(name: string): Promise<string[]>;
  /** AAAA records (IPv6 addresses). */
  aaaa(name: string): Promise<string[]>;
}

export interface CachingDnsOptions {
  /** Name servers (`1.2.3.4`, `1.2.3.4:5353`, `[2001:db8::1]:53`); default: the system's. */
  servers?: readonly string[];
  /** Lifetime of NAPTR/SRV answers, whose TTL Node does not expose. Default 60,000 ms. */
  recordTtlMs?: number;
  /** Lifetime of NXDOMAIN/NODATA answers. Default 30,000 ms. */
  negativeTtlMs?: number;
  /** Upper bound for every entry. Default 300,000 ms. */
  maxTtlMs?: number;
  /** Per-query timeout of the stub resolver. Default 2,000 ms (2 tries). */
  timeoutMs?: number;
  /** Monotonic clock in ms (tests inject one). */
  now?: () => number;
  /**
   * When DNS has no A/AAAA for a name, ask the system's `getaddrinfo` (which reads /etc/hosts,
   * as the trunk lookup did before RFC 3263). Default: on when `servers` is empty.
   */
  hostsFallback?: boolean;
  /** The underlying resolver; default a `node:dns` Resolver on `servers`. */
  resolver?: Pick<Resolver, 'resolveNaptr' | 'resolveSrv' | 'resolve4' | 'resolve6'>;
}

/** Codes of `node:dns` that mean "the name or the record type does not exist". */
const NEGATIVE = new Set(['ENODATA', 'ENOTFOUND', 'NXDOMAIN']);

/**
 * @example
 * ```ts
 * const dns = new CachingDnsClient({ servers: ['127.0.0.1:5353'] });
 * await dns.srv('_sip._udp.example.com');
 * ```
 */
export class CachingDnsClient implements DnsClient {
  private readonly entries = new Map<string, { expires: number; value: unknown }>();
  private readonly resolver: NonNullable<CachingDnsOptions['resolver']>;
  private readonly recordTtlMs: number;
  private readonly negativeTtlMs: number;
  private readonly maxTtlMs: number;
  private readonly now: () => number;
  private readonly hostsFallback: boolean;

  constructor(o: CachingDnsOptions = {}) {
    this.recordTtlMs = o.recordTtlMs ?? 60_000;
    this.negativeTtlMs = o.negativeTtlMs ?? 30_000;
    this.maxTtlMs = o.maxTtlMs ?? 300_000;
    this.now = o.now ?? (() => performance.now());
    this.hostsFallback = o.hostsFallback ?? !(o.servers && o.servers.length > 0);
    if (o.resolver) {
      this.resolver = o.resolver;
    } else {
      const resolver = new Resolver({ timeout: o.timeoutMs ?? 2_000, tries: 2 });
      if (o.servers && o.servers.length > 0) resolver.setServers([...o.servers]);
      this.resolver = resolver;
    }
  }

  naptr(name: string): Promise<NaptrRecord[]> {
    return this.cached(`NAPTR ${name}`, async () => ({ value: await this.resolver.resolveNaptr(name), ttlMs: this.recordTtlMs }));
  }

  srv(name: string): Promise<SrvRecord[]> {
    return this.cached(`SRV ${name}`, async () => ({ value: await this.resolver.resolveSrv(name), ttlMs: this.recordTtlMs }));
  }

  a(name: string): Promise<string[]> {
    return this.cached(`A ${name}`, () => this.withHosts(name, 4, () => this.resolver.resolve4(name, { ttl: true })));
  }

  aaaa(name: string): Promise<string[]> {
    return this.cached(`AAAA ${name}`, () => this.withHosts(name, 6, () => this.resolver.resolve6(name, { ttl: true })));
  }

  /** The DNS answer, else (no records) the hosts-file/getaddrinfo answer, cached like a negative one. */
  private async withHosts(name: string, family: 4 | 6, query: () => Promise<Array<{ address: string; ttl: number }>>): Promise<{ value: string[]; ttlMs: number }> {
    let records: Array<{ address: string; ttl: number }> = [];
    try {
      records = await query();
    } catch (err) {
      if (!this.hostsFallback || !NEGATIVE.has((err as { code?: string }).code ?? '')) throw err;
    }
    if (records.length > 0 || !this.hostsFallback) return withTtl(records);
    const found = await lookup(name, { family, all: true }).catch(() => []);
    return { value: found.map((f) => f.address), ttlMs: this.negativeTtlMs };
  }

  /** Drops every cached answer (e.g. after a trunk's DNS changed and an admin asks to retry). */
  clear(): void {
    this.entries.clear();
  }

  private async cached<T>(key: string, query: () => Promise<{ value: T[]; ttlMs: number }>): Promise<T[]> {
    const now = this.now();
    const hit = this.entries.get(key);
    if (hit !== undefined && hit.expires > now) return hit.value as T[];
    let value: T[];
    let ttlMs: number;
    try {
      ({ value, ttlMs } = await query());
    } catch (err) {
      if (!NEGATIVE.has((err as { code?: string }).code ?? '')) throw err;
      value = [];
      ttlMs = this.negativeTtlMs;
    }
    this.entries.set(key, { expires: now + Math.min(ttlMs, this.maxTtlMs), value });
    return value;
  }
}

function withTtl(records: Array<{ address: string; ttl: number }>): { value: string[]; ttlMs: number } {
  const ttl = records.length === 0 ? 0 : Math.min(...records.map((r) => r.ttl));
  return { value: records.map((r) => r.address), ttlMs: ttl * 1000 };
}
