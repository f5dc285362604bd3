/**
 * RFC 3263 §4 target selection and RFC 2782 SRV ordering, over an in-memory DNS client
 * (the wire path with a real DNS server is test/integration/call-trunk-dns.test.ts).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { NaptrRecord, SrvRecord } from 'node:dns';
import type { DnsClient } from '../../../src/sip/dns-cache.ts';
import { CachingDnsClient, type CachingDnsOptions } from '../../../src/sip/dns-cache.ts';
import { SipLocator } from '../../../src/sip/dns-resolve.ts';
import { orderSrv } from '../../../src/sip/dns-srv-order.ts';

interface Zone { naptr?: Record<string, NaptrRecord[]>; srv?: Record<string, SrvRecord[]>; a?: Record<string, string[]>; aaaa?: Record<string, string[]> }

/** Answers from `zone` and records every query, so tests see which lookups §4 made. */
function zoneClient(zone: Zone): DnsClient & { queries: string[] } {
  const queries: string[] = [];
  const get = <T>(type: keyof Zone, name: string): Promise<T[]> => {
    queries.push(`${type.toUpperCase()} ${name}`);
    return Promise.resolve(((zone[type] as Record<string, T[]> | undefined)?.[name]) ?? []);
  };
  return { queries, naptr: (n) => get('naptr', n), srv: (n) => get('srv', n), a: (n) => get('a', n), aaaa: (n) => get('aaaa', n) };
}

const srv = (name: string, port: number, priority: number, weight: number): SrvRecord => ({ name, port, priority, weight });
const naptr = (service: string, replacement: string, order: number, preference = 10): NaptrRecord =>
  ({ flags: 'S', service, regexp: '', replacement, order, preference });

const ZONE: Zone = {
  naptr: { 'example.com': [naptr('SIP+D2U', '_sip._udp.example.com', 20), naptr('SIPS+D2T', '_sips._tcp.example.com', 10), naptr('E2U+sip', 'x', 1)] },
  srv: {
    '_sip._udp.example.com': [srv('b.example.com', 5070, 20, 0), srv('a.example.com', 5060, 10, 0)],
    '_sips._tcp.example.com': [srv('a.example.com', 5061, 10, 0)],
    '_sip._tcp.other.com': [srv('a.other.com', 5080, 10, 0)],
  },
  a: { 'a.example.com': ['192.0.2.1'], 'b.example.com': ['192.0.2.2'], 'example.com': ['192.0.2.9'], 'a.other.com': ['192.0.2.20'], 'other.com': ['192.0.2.21'] },
  aaaa: { 'a.example.com': ['2001:db8::1'] },
};

describe('SipLocator (RFC 3263 §4)', () => {
  const locate = async (req: Parameters<SipLocator['locate']>[0]) => {
    const dns = zoneClient(ZONE);
    const targets = (await new SipLocator({ dns }).locate(req)).map((t) => `${t.protocol}:${t.address}:${t.port}`);
    return { targets, queries: dns.queries };
  };

  test('no port, no transport: NAPTR by order (TLS first here), each through SRV, A before AAAA', async () => {
    const r = await locate({ host: 'example.com' });
    assert.deepEqual(r.targets, ['tls:192.0.2.1:5061', 'tls:2001:db8::1:5061', 'udp:192.0.2.1:5060', 'udp:2001:db8::1:5060', 'udp:192.0.2.2:5070']);
    assert.equal(r.queries[0], 'NAPTR example.com');
  });

  test('sips: only SIPS+D2T', async () => {
    assert.deepEqual((await locate({ host: 'example.com', secure: true })).targets, ['tls:192.0.2.1:5061', 'tls:2001:db8::1:5061']);
  });

  test('transport given: no NAPTR, SRV of that transport; no SRV: A/AAAA on the default port', async () => {
    const r = await locate({ host: 'other.com', transport: 'tcp' });
    assert.deepEqual(r.targets, ['tcp:192.0.2.20:5080']);
    assert.ok(!r.queries.some((q) => q.startsWith('NAPTR')));
    assert.deepEqual((await locate({ host: 'other.com', transport: 'tls' })).targets, ['tls:192.0.2.21:5061']);
  });

  test('port given: neither NAPTR nor SRV, A/AAAA of the host with UDP', async () => {
    const r = await locate({ host: 'example.com', port: 5099 });
    assert.deepEqual(r.targets, ['udp:192.0.2.9:5099']);
    assert.deepEqual(r.queries, ['A example.com', 'AAAA example.com']);
  });

  test('no NAPTR: SRV per supported transport; none: A with UDP 5060', async () => {
    assert.deepEqual((await locate({ host: 'other.com' })).targets, ['tcp:192.0.2.20:5080']);
    const dns = zoneClient({ a: { 'plain.com': ['192.0.2.30'] } });
    const plain = await new SipLocator({ dns }).locate({ host: 'plain.com' });
    assert.deepEqual(plain.map((t) => `${t.protocol}:${t.address}:${t.port}`), ['udp:192.0.2.30:5060']);
  });

  test('IP literal: no DNS; serverName is the URI host for every target', async () => {
    const r = await locate({ host: '[2001:db8::7]', transport: 'tls' });
    assert.deepEqual(r.targets, ['tls:2001:db8::7:5061']);
    assert.deepEqual(r.queries, []);
    const dns = zoneClient(ZONE);
    const named = await new SipLocator({ dns }).locate({ host: 'example.com' });
    assert.ok(named.every((t) => t.serverName === 'example.com'));
  });

  test('nothing found: SipDnsError with sipStatus 503', async () => {
    await assert.rejects(locate({ host: 'nowhere.test' }), { code: 'SIP_ERR_DNS_NOT_FOUND', sipStatus: 503 });
  });
});

describe('orderSrv (RFC 2782)', () => {
  test('priority first; "." dropped; weights decide within a priority', () => {
    const recs = [srv('low', 1, 20, 0), srv('.', 1, 1, 0), srv('w10', 1, 10, 10), srv('w90', 1, 10, 90)];
    // draw 0.05 * 101 = 5 -> running sum reaches 5 at w10 (zero weights sort first; none here)
    assert.deepEqual(orderSrv(recs, () => 0.05).map((r) => r.name), ['w10', 'w90', 'low']);
    assert.deepEqual(orderSrv(recs, () => 0.5).map((r) => r.name), ['w90', 'w10', 'low']);
  });

  test('weights 80/20 give the heavier record first about 80 % of the time', () => {
    let first = 0;
    for (let i = 0; i < 2000; i++) if (orderSrv([srv('a', 1, 1, 80), srv('b', 1, 1, 20)])[0]!.name === 'a') first++;
    assert.ok(first > 1450 && first < 1750, `${first}/2000`);
  });
});

describe('CachingDnsClient', () => {
  test('A answers live for their TTL; NXDOMAIN is cached; server failures are not', async () => {
    let now = 0;
    let calls = 0;
    let fail: string | null = null;
    const resolver = {
      resolve4: async () => { calls++; if (fail) throw Object.assign(new Error(fail), { code: fail }); return [{ address: '192.0.2.1', ttl: 10 }]; },
      resolve6: async () => [], resolveSrv: async () => [], resolveNaptr: async () => [],
    } as unknown as NonNullable<CachingDnsOptions['resolver']>;
    const dns = new CachingDnsClient({ resolver, now: () => now });
    assert.deepEqual(await dns.a('x.test'), ['192.0.2.1']);
    now = 9_000;
    await dns.a('x.test');
    assert.equal(calls, 1);
    now = 10_001;
    fail = 'ESERVFAIL';
    await assert.rejects(dns.a('x.test'));
    await assert.rejects(dns.a('x.test'));
    assert.equal(calls, 3, 'failures are asked again');
    fail = 'ENOTFOUND';
    assert.deepEqual(await dns.a('x.test'), []);
    assert.deepEqual(await dns.a('x.test'), []);
    assert.equal(calls, 4, 'NXDOMAIN is cached');
  });
});
