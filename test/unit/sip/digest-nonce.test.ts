import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { checkNonce, createNonce } from '../../../src/sip/digest-nonce.ts';
import { NonceCountTracker } from '../../../src/sip/digest-nonce-count.ts';

const secret = Buffer.alloc(32, 7);
const T0 = 1_700_000_000_000;

describe('digest-nonce: stateless timestamp + HMAC', () => {
  test('the MAC is HMAC-SHA256(secret, realm 0 body) truncated to 16 bytes: nonces of earlier builds still verify', () => {
    const body = Buffer.alloc(14);
    body.writeUIntBE(T0, 0, 6);
    Buffer.alloc(8, 1).copy(body, 6);
    const tag = createHmac('sha256', secret).update('r\u00e9alm').update('\0').update(body).digest().subarray(0, 16);
    const expected = Buffer.concat([body, tag]).toString('base64url');
    assert.equal(createNonce(secret, 'r\u00e9alm', T0, Buffer.alloc(8, 1)), expected);
    assert.deepEqual(checkNonce(secret, 'r\u00e9alm', expected, T0 + 1, 60_000), { kind: 'valid', issuedAt: T0 });
  });

  test('layout: 40 base64url chars, timestamp in the first 6 bytes', () => {
    const n = createNonce(secret, 'r', T0, Buffer.alloc(8, 1));
    assert.equal(n.length, 40);
    assert.match(n, /^[A-Za-z0-9_-]{40}$/);
    assert.equal(Buffer.from(n, 'base64url').readUIntBE(0, 6), T0);
    // Deterministic for fixed inputs: survives restarts and other nodes with the same secret.
    assert.equal(n, createNonce(secret, 'r', T0, Buffer.alloc(8, 1)));
  });

  test('valid within ttl, expired after, invalid if from the future', () => {
    const n = createNonce(secret, 'r', T0);
    assert.deepEqual(checkNonce(secret, 'r', n, T0 + 300_000, 300_000), { kind: 'valid', issuedAt: T0 });
    assert.deepEqual(checkNonce(secret, 'r', n, T0 + 300_001, 300_000), { kind: 'expired', issuedAt: T0 });
    assert.deepEqual(checkNonce(secret, 'r', n, T0 - 60_000, 300_000), { kind: 'invalid' });
  });

  test('tampered, other realm, other secret, truncated -> invalid', () => {
    const n = createNonce(secret, 'r', T0);
    const raw = Buffer.from(n, 'base64url');
    raw[2] ^= 1; // move the timestamp
    assert.deepEqual(checkNonce(secret, 'r', raw.toString('base64url'), T0, 300_000), { kind: 'invalid' });
    assert.deepEqual(checkNonce(secret, 'other', n, T0, 300_000), { kind: 'invalid' });
    assert.deepEqual(checkNonce(Buffer.alloc(32, 8), 'r', n, T0, 300_000), { kind: 'invalid' });
    assert.deepEqual(checkNonce(secret, 'r', n.slice(0, 39), T0, 300_000), { kind: 'invalid' });
    assert.deepEqual(checkNonce(secret, 'r', n.slice(0, 39) + '!', T0, 300_000), { kind: 'invalid' });
  });
});

describe('digest-nonce-count: bounded replay table', () => {
  test('nc must increase per nonce', () => {
    const t = new NonceCountTracker(10);
    assert.equal(t.check('a', 1, 1), 'ok');
    t.record('a', 1, 1);
    assert.equal(t.check('a', 1, 1), 'replay');
    assert.equal(t.check('a', 1, 2), 'ok');
    t.record('a', 1, 3);
    assert.equal(t.check('a', 1, 2), 'replay');
    assert.equal(t.check('b', 1, 1), 'ok');
  });

  test('capacity bounds memory; evicted nonces are "forgotten", never reopened', () => {
    const t = new NonceCountTracker(3);
    for (let i = 0; i < 1000; i++) t.record(`n${i}`, 1000 + i, 1);
    assert.equal(t.size, 3);
    assert.equal(t.check('n0', 1000, 1), 'forgotten');
    assert.equal(t.check('n0', 1000, 2), 'forgotten');
    assert.equal(t.check('n996', 1996, 1), 'forgotten'); // evicted last: at the watermark
    assert.equal(t.check('n999', 1999, 1), 'replay'); // still tracked
    assert.equal(t.check('fresh', 2000, 1), 'ok'); // issued after every eviction
  });

  test('recently used entries survive eviction (LRU)', () => {
    const t = new NonceCountTracker(2);
    t.record('a', 1, 1);
    t.record('b', 2, 1);
    t.record('a', 1, 2); // touch a
    t.record('c', 3, 1); // evicts b
    assert.equal(t.check('a', 1, 2), 'replay');
    assert.equal(t.check('b', 2, 5), 'forgotten');
  });
});
