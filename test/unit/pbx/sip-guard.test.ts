import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SipGuard } from '../../../src/pbx/sip-guard.ts';

test('bans an IP after maxFailures within the window, for banMs', () => {
  let now = 0;
  const g = new SipGuard({ maxFailures: 3, windowMs: 1000, banMs: 5000, now: () => now });
  assert.equal(g.recordFailure('1.2.3.4'), false);
  assert.equal(g.recordFailure('1.2.3.4'), false);
  assert.equal(g.isBanned('1.2.3.4'), false);
  assert.equal(g.recordFailure('1.2.3.4'), true);
  assert.equal(g.isBanned('1.2.3.4'), true);
  assert.equal(g.isBanned('5.6.7.8'), false);
  now = 5001;
  assert.equal(g.isBanned('1.2.3.4'), false);
});

test('failures spread beyond the window do not ban', () => {
  let now = 0;
  const g = new SipGuard({ maxFailures: 3, windowMs: 1000, now: () => now });
  g.recordFailure('1.1.1.1'); now += 600;
  g.recordFailure('1.1.1.1'); now += 600;
  assert.equal(g.recordFailure('1.1.1.1'), false);
  assert.equal(g.isBanned('1.1.1.1'), false);
});

test('known scanner user agents are recognised case-insensitively', () => {
  const g = new SipGuard();
  assert.equal(g.isScanner('friendly-scanner'), true);
  assert.equal(g.isScanner('SIPVicious 0.3'), true);
  assert.equal(g.isScanner('Linphone/5.0'), false);
  assert.equal(g.isScanner(null), false);
});
