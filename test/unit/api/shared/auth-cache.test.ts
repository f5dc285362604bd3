import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CredentialCache } from '../../../../src/api/shared/auth-cache.ts';

describe('CredentialCache', () => {
  const session = { userId: 7, via: 'session' as const, apiKeyId: null, scopes: null };
  const key = { userId: 7, via: 'api_key' as const, apiKeyId: 3, scopes: ['pbx' as const] };

  test('entries live ttlMs, then miss', () => {
    let now = 1000;
    const c = new CredentialCache({ ttlMs: 2000, now: () => now });
    assert.deepEqual(c.set('s:a', session), { ...session, expiresAt: 3000 });
    now = 2999;
    assert.equal(c.get('s:a')?.userId, 7);
    now = 3000;
    assert.equal(c.get('s:a'), undefined);
  });

  test('delete, deleteUser and clear drop entries at once', () => {
    const c = new CredentialCache();
    c.set('s:a', session);
    c.set('k:b', key);
    c.set('s:other', { ...session, userId: 8 });
    c.delete('s:a');
    assert.equal(c.get('s:a'), undefined);
    c.deleteUser(7);
    assert.equal(c.get('k:b'), undefined);
    assert.equal(c.get('s:other')?.userId, 8);
    c.clear();
    assert.equal(c.get('s:other'), undefined);
  });

  test('bounded: the oldest entry goes first', () => {
    const c = new CredentialCache({ maxEntries: 2 });
    c.set('1', session);
    c.set('2', session);
    c.set('3', session);
    assert.equal(c.get('1'), undefined);
    assert.ok(c.get('2') && c.get('3'));
  });

  test('shouldTouch: once per interval per key', () => {
    let now = 0;
    const c = new CredentialCache({ now: () => now });
    assert.equal(c.shouldTouch(3, 60_000), true);
    assert.equal(c.shouldTouch(3, 60_000), false);
    assert.equal(c.shouldTouch(4, 60_000), true);
    now = 60_000;
    assert.equal(c.shouldTouch(3, 60_000), true);
  });
});
