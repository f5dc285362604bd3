import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cidrContains, formatCidr, formatIp, matchInboundTrunk, parseCidr, parseIp } from '../../../src/store/trunk-match.ts';

describe('parseCidr / formatCidr', () => {
  // [input, canonical text or undefined when invalid, note]
  const cases: Array<[string, string | undefined, string]> = [
    ['192.0.2.1', '192.0.2.1', 'bare IPv4 host'],
    ['192.0.2.1/32', '192.0.2.1', 'a /32 is a host'],
    ['192.0.2.7/24', '192.0.2.0/24', 'host bits cleared (RFC 4632 §3.1)'],
    ['10.1.2.3/9', '10.0.0.0/9', 'prefix inside an octet'],
    ['0.0.0.0/0', '0.0.0.0/0', 'everything'],
    ['2001:DB8::1', '2001:db8::1', 'RFC 5952 §4.3 lowercase'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1', 'RFC 5952 §4.1 no leading zeros, §4.2.1 longest run'],
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1', 'RFC 5952 §4.2.3 longest run compressed'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1', 'RFC 5952 §4.2.3 first of equal runs'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1', 'RFC 5952 §4.2.2 single zero group not compressed'],
    ['2001:db8::abcd/32', '2001:db8::/32', 'IPv6 block'],
    ['2001:db8:1234::/47', '2001:db8:1234::/47', 'odd IPv6 prefix'],
    ['::/0', '::/0', 'all IPv6'],
    ['::1', '::1', 'loopback'],
    ['[2001:db8::5]', '2001:db8::5', 'brackets dropped'],
    ['fe80::1%eth0', 'fe80::1', 'zone dropped'],
    ['::ffff:192.0.2.9', '192.0.2.9', 'IPv4-mapped becomes IPv4 (RFC 4291 §2.5.5.2)'],
    ['::ffff:192.0.2.0/120', '192.0.2.0/24', 'mapped block: prefix counted from bit 96'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221', 'embedded dotted quad (RFC 6052)'],
    ['192.0.2.1/33', undefined, 'prefix too long'],
    ['2001:db8::/129', undefined, 'IPv6 prefix too long'],
    ['192.0.2.1/', undefined, 'empty prefix'],
    ['192.0.2.1/08', undefined, 'leading zero in prefix'],
    ['192.0.2.1/-1', undefined, 'negative prefix'],
    ['192.0.2.256', undefined, 'octet out of range'],
    ['192.0.2', undefined, 'three octets'],
    ['010.0.0.1', undefined, 'leading zero (octal ambiguity, RFC 6943 §3.1.1)'],
    ['2001:db8:::1', undefined, 'triple colon'],
    ['1:2:3:4:5:6:7:8:9', undefined, 'nine groups'],
    ['example.com', undefined, 'hostname'],
    ['', undefined, 'empty'],
  ];
  for (const [input, want, note] of cases) {
    test(`${JSON.stringify(input)}: ${note}`, () => {
      const c = parseCidr(input);
      assert.equal(c === undefined ? undefined : formatCidr(c), want);
    });
  }

  test('parseIp gives network-order bytes', () => {
    assert.deepEqual(parseIp('192.0.2.1'), { family: 4, bytes: Uint8Array.from([192, 0, 2, 1]) });
    assert.deepEqual(parseIp('2001:db8::ff01'), { family: 6, bytes: Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0x01]) });
    assert.equal(formatIp(parseIp('::')!), '::');
    assert.equal(formatIp(parseIp('1::')!), '1::');
    assert.equal(parseIp('not an ip'), undefined);
  });
});

describe('cidrContains', () => {
  const cases: Array<[string, string, boolean]> = [
    ['192.0.2.0/24', '192.0.2.255', true],
    ['192.0.2.0/24', '192.0.3.0', false],
    ['10.0.0.0/9', '10.127.255.255', true],
    ['10.0.0.0/9', '10.128.0.0', false],
    ['0.0.0.0/0', '203.0.113.5', true],
    ['203.0.113.5', '203.0.113.5', true],
    ['203.0.113.5', '203.0.113.6', false],
    ['2001:db8::/32', '2001:db8:ffff::1', true],
    ['2001:db8::/32', '2001:db9::1', false],
    ['2001:db8:1234::/47', '2001:db8:1235:ffff::1', true],
    ['2001:db8:1234::/47', '2001:db8:1236::1', false],
    ['::/0', '192.0.2.1', false],
    ['0.0.0.0/0', '2001:db8::1', false],
    ['192.0.2.0/24', '::ffff:192.0.2.44', true],
  ];
  for (const [block, ip, want] of cases) {
    test(`${ip} in ${block}: ${want}`, () => assert.equal(cidrContains(parseCidr(block)!, parseIp(ip)!), want));
  }
});

describe('matchInboundTrunk', () => {
  const trunks = [
    { id: 1, enabled: true, inbound_hosts: ['203.0.113.0/24', '2001:db8:10::/48'] },
    { id: 2, enabled: true, inbound_hosts: ['203.0.113.77'] },
    { id: 3, enabled: false, inbound_hosts: ['198.51.100.0/24'] },
    { id: 4, enabled: true, inbound_hosts: ['198.51.100.0/25', '2001:db8:10:1::/64'] },
    { id: 5, enabled: true, inbound_hosts: [] },
    { id: 6, enabled: true, inbound_hosts: ['203.0.113.0/24'] },
  ];
  const cases: Array<[string, number | undefined, string]> = [
    ['203.0.113.9', 1, 'inside a /24; the equal /24 of trunk 6 comes later in the list'],
    ['203.0.113.77', 2, 'a host entry is more specific than the /24 (longest prefix)'],
    ['::ffff:203.0.113.77', 2, 'IPv4-mapped source from a dual-stack socket'],
    ['198.51.100.5', 4, 'trunk 3 is disabled, trunk 4 covers the lower half'],
    ['198.51.100.200', undefined, 'only the disabled trunk covers it'],
    ['2001:db8:10:2::1', 1, 'IPv6 /48'],
    ['2001:db8:10:1::1', 4, 'IPv6 /64 beats the /48'],
    ['[2001:db8:10:1::1]', 4, 'bracketed source'],
    ['192.0.2.1', undefined, 'unknown source'],
    ['garbage', undefined, 'not an address'],
  ];
  for (const [ip, want, note] of cases) {
    test(`${ip} → ${want}: ${note}`, () => assert.equal(matchInboundTrunk(trunks, ip)?.id, want));
  }

  test('entries that do not parse are ignored, not fatal', () => {
    assert.equal(matchInboundTrunk([{ enabled: true, inbound_hosts: ['bogus', '192.0.2.0/24'] }], '192.0.2.3')?.inbound_hosts[1], '192.0.2.0/24');
  });

  test('a changed inbound_hosts array is parsed afresh', () => {
    const t = { enabled: true, inbound_hosts: ['192.0.2.1'] };
    assert.equal(matchInboundTrunk([t], '192.0.2.1'), t);
    t.inbound_hosts = ['192.0.2.2'];
    assert.equal(matchInboundTrunk([t], '192.0.2.1'), undefined);
    assert.equal(matchInboundTrunk([t], '192.0.2.2'), t);
  });
});
