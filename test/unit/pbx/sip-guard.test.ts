/**
 * The SIP guard (issue 12): failures lock a username at an address; many usernames failing
 * from one address ban the address; trusted networks are never locked or banned.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SipGuard, trustedList } from '../../../src/pbx/sip-guard.ts';

test('maxFailures for one username lock that username at that address, for userBanMs; the address and other users stay open', () => {
  let now = 0;
  const g = new SipGuard({ maxFailures: 3, windowMs: 1000, banMs: 9000, userBanMs: 5000, now: () => now });
  assert.equal(g.recordFailure('1.2.3.4', 'alice'), null);
  assert.equal(g.recordFailure('1.2.3.4', 'alice'), null);
  assert.equal(g.isLocked('1.2.3.4', 'alice'), false);
  const ban = g.recordFailure('1.2.3.4', 'alice');
  assert.deepEqual(ban, { id: 1, address: '1.2.3.4', username: 'alice', reason: 'repeated_failures', count: 3, createdAt: 0, expiresAt: 5000 });
  assert.equal(g.isLocked('1.2.3.4', 'alice'), true);
  assert.equal(g.isLocked('1.2.3.4', 'bob'), false);
  assert.equal(g.isLocked('5.6.7.8', 'alice'), false);
  assert.equal(g.isBanned('1.2.3.4'), false);
  assert.deepEqual(g.list().map((b) => b.id), [1]);
  now = 5001;
  assert.equal(g.isLocked('1.2.3.4', 'alice'), false);
  assert.deepEqual(g.list(), []);
});

test('failures for maxUsernames different usernames from one address ban the address (enumeration)', () => {
  let now = 0;
  const g = new SipGuard({ maxFailures: 3, maxUsernames: 4, windowMs: 1000, banMs: 9000, now: () => now });
  for (const u of ['100', '101', '102']) assert.equal(g.recordFailure('9.9.9.9', u), null);
  const ban = g.recordFailure('9.9.9.9', '103');
  assert.deepEqual(ban, { id: 1, address: '9.9.9.9', username: null, reason: 'username_enumeration', count: 4, createdAt: 0, expiresAt: 9000 });
  assert.equal(g.isBanned('9.9.9.9'), true);
  assert.equal(g.isBanned('9.9.9.8'), false);
  assert.deepEqual(g.bannedIps(), ['9.9.9.9']);
  now = 9001;
  assert.equal(g.isBanned('9.9.9.9'), false);
});

test('failures spread beyond the window neither lock nor ban', () => {
  let now = 0;
  const g = new SipGuard({ maxFailures: 3, maxUsernames: 3, windowMs: 1000, now: () => now });
  g.recordFailure('1.1.1.1', 'a'); now += 600;
  g.recordFailure('1.1.1.1', 'a'); now += 600;
  assert.equal(g.recordFailure('1.1.1.1', 'a'), null);
  now += 1100;
  g.recordFailure('1.1.1.1', 'x'); now += 1100;
  g.recordFailure('1.1.1.1', 'y'); now += 1100;
  assert.equal(g.recordFailure('1.1.1.1', 'z'), null);
  assert.equal(g.isBanned('1.1.1.1'), false);
  assert.equal(g.isLocked('1.1.1.1', 'a'), false);
});

test('a success forgives earlier failures of that username at that address', () => {
  const g = new SipGuard({ maxFailures: 3, now: () => 0 });
  g.recordFailure('1.1.1.1', 'a');
  g.recordFailure('1.1.1.1', 'a');
  g.recordSuccess('1.1.1.1', 'a');
  assert.equal(g.recordFailure('1.1.1.1', 'a'), null);
  assert.equal(g.recordFailure('1.1.1.1', 'a'), null);
  assert.notEqual(g.recordFailure('1.1.1.1', 'a'), null);
});

test('trusted networks (IPv4 and IPv6 CIDRs, single addresses) are never locked or banned', () => {
  const g = new SipGuard({ maxFailures: 1, maxUsernames: 2, trustedNetworks: ['10.0.0.0/8', '2001:db8::/32', '192.0.2.7'] });
  for (const ip of ['10.1.2.3', '2001:db8::5', '192.0.2.7']) {
    for (const u of ['a', 'b', 'c']) assert.equal(g.recordFailure(ip, u), null, ip);
    assert.equal(g.isBanned(ip), false);
    assert.equal(g.isTrusted(ip), true);
  }
  assert.equal(g.isTrusted('192.0.2.8'), false);
  assert.notEqual(g.recordFailure('11.0.0.1', 'a'), null);
});

test('trustedList refuses what is not an address or CIDR', () => {
  for (const bad of ['10.0.0.0/33', 'example.com', '300.1.1.1', '2001:db8::/129', '10.0.0.0/']) {
    assert.throws(() => trustedList([bad]), RangeError, bad);
  }
});

test('lift ends a ban or lock by id and forgets the failures behind it', () => {
  const g = new SipGuard({ maxFailures: 2, maxUsernames: 2, now: () => 0 });
  g.recordFailure('1.1.1.1', 'a');
  const lock = g.recordFailure('1.1.1.1', 'a')!;
  g.recordFailure('2.2.2.2', 'x');
  const ban = g.recordFailure('2.2.2.2', 'y')!;
  assert.deepEqual(g.list().map((b) => [b.id, b.reason]), [[lock.id, 'repeated_failures'], [ban.id, 'username_enumeration']]);
  assert.equal(g.lift(ban.id), true);
  assert.equal(g.isBanned('2.2.2.2'), false);
  assert.equal(g.recordFailure('2.2.2.2', 'z'), null, 'the enumeration count starts again');
  assert.equal(g.lift(lock.id), true);
  assert.equal(g.isLocked('1.1.1.1', 'a'), false);
  assert.equal(g.lift(lock.id), false);
  assert.equal(g.lift(999), false);
  assert.deepEqual(g.list(), []);
});

test('the default scanner list: classic attack tools, case-insensitively, counted; not sipsak (an admin tool)', () => {
  const g = new SipGuard();
  for (const ua of ['friendly-scanner', 'SIPVicious 0.3', 'sipcli/v1.8', 'VaxSIPUserAgent/3.1', 'sip-scan', 'iWar', 'SIPScan', 'smap 0.6']) {
    assert.equal(g.isScanner(ua), true, ua);
  }
  assert.equal(g.scannerDrops, 8);
  for (const ua of ['sipsak 0.9.8.1', 'Linphone/5.0', 'baresip v1.0.0 (x86_64/linux)', 'JsSIP 3.10.0']) assert.equal(g.isScanner(ua), false, ua);
  assert.equal(g.isScanner(null), false);
  assert.equal(g.scannerDrops, 8);
});

test('a configured scanner list replaces the default; an empty one turns the filter off', () => {
  const custom = new SipGuard({ scannerAgents: ['EvilBot'] });
  assert.equal(custom.isScanner('evilbot/2'), true);
  assert.equal(custom.isScanner('friendly-scanner'), false);
  const none = new SipGuard({ scannerAgents: [] });
  assert.equal(none.isScanner('friendly-scanner'), false);
});
