import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES } from '../helpers/databases.ts';
import { createUserSession, startTestServer, type TestServer } from '../helpers/server.ts';
import { blocklistCandidates } from '../../src/store/blocklist.ts';
import { matchesAnyPattern } from '../../src/pbx/phone-number.ts';

for (const engine of ENGINES) {
  describe(`/api/blocklist (${engine})`, () => {
    let t: TestServer;
    let userCookie: string;

    before(async () => {
      t = await startTestServer(engine);
      userCookie = await createUserSession(t);
    });
    after(async () => { await t?.close(); });

    const add = (body: unknown, cookie = t.adminCookie) => t.request('POST', '/api/blocklist', { cookie, body });
    const isBlocked = async (caller: string) => matchesAnyPattern(await blocklistCandidates(t.server.ctx.store.db, caller), caller);

    test('anonymous requests get 401; users may read but not write (403)', async () => {
      const routes: Array<[string, string, unknown?]> = [['GET', '/api/blocklist'], ['POST', '/api/blocklist', { phone_number: '+15550000000' }], ['DELETE', '/api/blocklist/1']];
      for (const [method, path, body] of routes) {
        const r = await t.request(method, path, { body });
        assert.equal(r.status, 401, `${method} ${path}`);
        assert.deepEqual(r.body, { error: { code: 'authentication_error', message: 'Not authenticated', details: null } });
      }
      for (const [method, path, body] of routes.slice(1)) {
        const r = await t.request(method, path, { body, cookie: userCookie });
        assert.equal(r.status, 403, `${method} ${path}`);
        assert.deepEqual(r.body, { error: { code: 'authorization_error', message: 'Admin role required', details: null } });
      }
    });

    test('add numbers and patterns; list them', async () => {
      const a = await add({ phone_number: '+15551234567', reason: 'spam' });
      assert.equal(a.status, 201);
      const { id, created_at, ...rest } = a.body;
      assert.equal(typeof id, 'number');
      assert.match(created_at, /Z$/);
      assert.deepEqual(rest, { phone_number: '+15551234567', reason: 'spam' });
      const b = await add({ phone_number: '+1900*' });
      assert.equal(b.status, 201);
      assert.equal(b.body.reason, null);
      const c = await add({ phone_number: '*0000', reason: null });
      assert.equal(c.status, 201);
      const list = await t.request('GET', '/api/blocklist?limit=2', { cookie: userCookie });
      assert.deepEqual(list.body, { data: [a.body, b.body], pagination: { total: 3, limit: 2, offset: 0 } });
    });

    test('the loader and matcher decide who is blocked', async () => {
      assert.equal(await isBlocked('+15551234567'), true);
      assert.equal(await isBlocked('+19005550100'), true);
      assert.equal(await isBlocked('+442079460000'), true);
      assert.equal(await isBlocked('+15551234568'), false);
      assert.equal(await isBlocked('anonymous'), false);
    });

    test('entries must be E.164 or a pattern with a wildcard', async () => {
      for (const bad of ['15551234567', '+0123', '+1-555', 'abc', '', '+1234567890123456', '+1 900*']) {
        const r = await add({ phone_number: bad });
        assert.equal(r.status, 400, bad);
        assert.equal(r.body.error.code, 'validation_error');
        assert.deepEqual(r.body.error.details.map((d: any) => d.field), ['phone_number'], bad);
      }
      const missing = await add({ reason: 'x' });
      assert.deepEqual(missing.body.error.details, [{ field: 'phone_number', message: 'is required' }]);
      const long = await add({ phone_number: '+15550000000', reason: 'x'.repeat(201) });
      assert.deepEqual(long.body.error.details.map((d: any) => d.field), ['reason']);
      assert.equal((await add({ phone_number: '1001X' })).status, 201);
    });

    test('a duplicate is 409', async () => {
      const r = await add({ phone_number: '+1900*', reason: 'again' });
      assert.equal(r.status, 409);
      assert.deepEqual(r.body, { error: { code: 'conflict', message: 'This number is already blocked', details: [{ field: 'phone_number', message: 'already exists' }] } });
    });

    test('delete unblocks; unknown ids are 404', async () => {
      const e = (await add({ phone_number: '+15557770001' })).body;
      assert.equal(await isBlocked('+15557770001'), true);
      const r = await t.request('DELETE', `/api/blocklist/${e.id}`, { cookie: t.adminCookie });
      assert.deepEqual([r.status, r.body], [200, { success: true }]);
      assert.equal(await isBlocked('+15557770001'), false);
      const again = await t.request('DELETE', `/api/blocklist/${e.id}`, { cookie: t.adminCookie });
      assert.equal(again.status, 404);
      assert.deepEqual(again.body, { error: { code: 'not_found', message: 'Blocklist entry not found', details: null } });
      const bad = await t.request('DELETE', '/api/blocklist/x', { cookie: t.adminCookie });
      assert.equal(bad.status, 400);
      assert.deepEqual(bad.body.error.details.map((d: any) => d.field), ['id']);
    });
  });
}
