/**
 * Issue 17: which registrar shard a message goes to (by the To user, from the bytes), and a
 * shard's copy of the guard's locks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRegister, NOT_REGISTER, registerShard, shardOfAor, UNREAD } from '../../../src/pbx/registrar-shard-route.ts';
import { ShardGuard } from '../../../src/pbx/registrar-shard-guard.ts';
import type { SipBan } from '../../../src/pbx/sip-guard.ts';

function register(user: string, extra: string[] = []): Buffer {
  return Buffer.from([
    'REGISTER sip:pbx.test SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds',
    'Max-Forwards: 70',
    `From: <sip:${user}@pbx.test>;tag=1928301774`,
    `To: "Desk" <sip:${user}@pbx.test>`,
    'Call-ID: a84b4c76e66710@192.0.2.1',
    'CSeq: 1 REGISTER',
    ...extra,
    'Content-Length: 0',
    '', '',
  ].join('\r\n'));
}

test('a REGISTER goes to the shard of its To user, whatever its Call-ID; other requests stay on the main thread', () => {
  for (const user of ['1001', '1002', 'alice', '+15551234']) {
    assert.equal(registerShard(register(user), 4), shardOfAor(user, 4));
  }
  const owners = new Set(Array.from({ length: 64 }, (_, i) => shardOfAor(String(1000 + i), 4)));
  assert.equal(owners.size, 4, 'AORs spread over every shard');
  assert.equal(registerShard(Buffer.from('INVITE sip:1001@pbx.test SIP/2.0\r\n\r\n'), 4), NOT_REGISTER);
  assert.equal(registerShard(Buffer.from('SIP/2.0 200 OK\r\nCSeq: 1 REGISTER\r\n\r\n'), 4), NOT_REGISTER);
  // Methods are case-sensitive (RFC 3261 §7.1), and the token must end at the space.
  assert.equal(isRegister(Buffer.from('register sip:x SIP/2.0')), false);
  assert.equal(isRegister(Buffer.from('REGISTERX sip:x SIP/2.0')), false);
  assert.equal(registerShard(register('1001'), 1), 0);
});

test('a REGISTER the line scanner cannot read is UNREAD (shard 0 parses it and hands it on)', () => {
  assert.equal(registerShard(register('1001', ['Subject: folded', ' line']), 4), UNREAD);
  assert.equal(registerShard(Buffer.from('REGISTER sip:pbx.test SIP/2.0\r\nTo: <sip:pbx.test>\r\n\r\n'), 4), UNREAD);
  assert.equal(registerShard(Buffer.from('REGISTER garbage'), 4), UNREAD);
});

test('a shard reports digest outcomes and answers from the locks the main guard announced', () => {
  const reports: Array<[boolean, string, string | null]> = [];
  let now = 1_000;
  const lock: SipBan = { id: 7, address: '192.0.2.9', username: '1001', reason: 'repeated_failures', count: 10, createdAt: 0, expiresAt: 5_000 };
  const g = new ShardGuard((ok, ip, user) => reports.push([ok, ip, user]), [lock], () => now);
  assert.equal(g.isLocked('192.0.2.9', '1001'), true);
  assert.equal(g.isLocked('192.0.2.9', '1002'), false);
  assert.equal(g.isLocked('192.0.2.10', '1001'), false);
  assert.equal(g.recordFailure('192.0.2.9', '1003'), null);
  g.recordSuccess('192.0.2.9', '1004');
  assert.deepEqual(reports, [[false, '192.0.2.9', '1003'], [true, '192.0.2.9', '1004']]);
  g.apply({ kind: 'lift', ban: lock });
  assert.equal(g.isLocked('192.0.2.9', '1001'), false);
  g.apply({ kind: 'ban', ban: lock });
  now = 5_001;
  assert.equal(g.isLocked('192.0.2.9', '1001'), false, 'a lock ends on its own');
  // Address bans are the main thread's (enforced before routing).
  g.apply({ kind: 'ban', ban: { ...lock, id: 8, username: null, expiresAt: 99_999 } });
  assert.equal(g.isLocked('192.0.2.9', null), false);
});
