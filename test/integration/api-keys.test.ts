import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES } from '../helpers/databases.ts';
import { createUserSession, startTestServer, type TestServer } from '../helpers/server.ts';

const KEY_FIELDS = ['id', 'user_id', 'name', 'prefix', 'scopes', 'created_at', 'last_used_at'];

for (const engine of ENGINES) {
  describe(`api keys (${engine})`, () => {
    let t: TestServer;
    let userCookie: string;
    before(async () => {
      t = await startTestServer(engine);
      userCookie = await createUserSession(t, 'keyuser@example.com', 'keyuser-password');
    });
    after(() => t.close());

    test('create shows the secret once; Bearer works; the list never shows it', async () => {
      const r = await t.request('POST', '/api/keys', { cookie: t.adminCookie, body: { name: 'ci', scopes: ['pbx', 'call'] } });
      assert.equal(r.status, 201);
      assert.deepEqual(Object.keys(r.body).sort(), [...KEY_FIELDS, 'key'].sort());
      assert.match(r.body.key, /^stw_[A-Za-z0-9_-]{43}$/);
      assert.equal(r.body.prefix, r.body.key.slice(0, 10));
      assert.deepEqual(r.body.scopes, ['pbx', 'call']);
      assert.equal(r.body.last_used_at, null);
      const me = await t.request('GET', '/api/me', { token: r.body.key });
      assert.equal(me.status, 200);
      assert.equal(me.body.role, 'admin');
      const list = await t.request('GET', '/api/keys', { cookie: t.adminCookie });
      assert.equal(list.status, 200);
      assert.equal(list.body.pagination.total, 1);
      assert.deepEqual(Object.keys(list.body.data[0]), KEY_FIELDS);
      assert.ok(!JSON.stringify(list.body).includes(r.body.key));
      assert.ok(!JSON.stringify(list.body).includes(r.body.key.slice(10)));
    });

    test('a key without the pbx scope is 403 on /api', async () => {
      const r = await t.request('POST', '/api/keys', { cookie: t.adminCookie, body: { name: 'gw only', scopes: ['gateway'] } });
      const me = await t.request('GET', '/api/me', { token: r.body.key });
      assert.equal(me.status, 403);
      assert.deepEqual(me.body, { error: { code: 'authorization_error', message: 'API key lacks the "pbx" scope', details: null } });
    });

    test("a user's key carries the user's role: 403 on admin routes", async () => {
      const r = await t.request('POST', '/api/keys', { cookie: userCookie, body: { name: 'mine', scopes: ['pbx'] } });
      assert.equal(r.status, 201);
      assert.equal((await t.request('GET', '/api/me', { token: r.body.key })).body.email, 'keyuser@example.com');
      assert.equal((await t.request('GET', '/api/users', { token: r.body.key })).status, 403);
    });

    test('users see only their keys and cannot delete another user\'s key (404); admins see all', async () => {
      const mine = await t.request('GET', '/api/keys', { cookie: userCookie });
      assert.equal(mine.body.pagination.total, 1);
      assert.equal(mine.body.data[0].name, 'mine');
      const all = await t.request('GET', '/api/keys', { cookie: t.adminCookie });
      assert.equal(all.body.pagination.total, 3);
      const adminKey = all.body.data.find((k: { name: string }) => k.name === 'ci');
      const del = await t.request('DELETE', `/api/keys/${adminKey.id}`, { cookie: userCookie });
      assert.equal(del.status, 404);
      assert.deepEqual(del.body, { error: { code: 'not_found', message: 'API key not found', details: null } });
      assert.equal((await t.request('GET', '/api/keys', { cookie: t.adminCookie })).body.pagination.total, 3);
    });

    test('a revoked key is 401; revoking twice is 404', async () => {
      const r = await t.request('POST', '/api/keys', { cookie: userCookie, body: { name: 'temp', scopes: ['pbx'] } });
      assert.equal((await t.request('GET', '/api/me', { token: r.body.key })).status, 200);
      const del = await t.request('DELETE', `/api/keys/${r.body.id}`, { cookie: userCookie });
      assert.equal(del.status, 200);
      assert.deepEqual(del.body, { success: true });
      const after = await t.request('GET', '/api/me', { token: r.body.key });
      assert.equal(after.status, 401);
      assert.equal(after.body.error.code, 'authentication_error');
      assert.equal((await t.request('DELETE', `/api/keys/${r.body.id}`, { cookie: userCookie })).status, 404);
    });

    test('a key answered from the caches (same-tick auth) stops at once: role change, revoke, user deleted', async () => {
      const created = await t.request('POST', '/api/users', { cookie: t.adminCookie, body: { email: 'cached@example.com', password: 'cached-password-1', role: 'admin' } });
      assert.equal(created.status, 201);
      const login = await t.request('POST', '/api/auth/login', { body: { email: 'cached@example.com', password: 'cached-password-1' } });
      const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
      const key = (await t.request('POST', '/api/keys', { cookie, body: { name: 'hot', scopes: ['pbx'] } })).body;
      // Warm: the credential and the user are cached, so these take the path without awaits.
      for (let i = 0; i < 3; i++) assert.equal((await t.request('GET', '/api/users', { token: key.key })).status, 200);
      assert.equal((await t.request('PUT', `/api/users/${created.body.id}`, { cookie: t.adminCookie, body: { role: 'user' } })).status, 200);
      assert.equal((await t.request('GET', '/api/users', { token: key.key })).status, 403, 'demoted: no admin route on the next request');
      assert.equal((await t.request('GET', '/api/me', { token: key.key })).body.role, 'user');
      assert.equal((await t.request('DELETE', `/api/keys/${key.id}`, { cookie })).status, 200);
      assert.equal((await t.request('GET', '/api/me', { token: key.key })).status, 401, 'revoked: refused on the next request');
      const second = (await t.request('POST', '/api/keys', { cookie, body: { name: 'hot2', scopes: ['pbx'] } })).body;
      for (let i = 0; i < 3; i++) assert.equal((await t.request('GET', '/api/me', { token: second.key })).status, 200);
      assert.equal((await t.request('DELETE', `/api/users/${created.body.id}`, { cookie: t.adminCookie })).status, 200);
      assert.equal((await t.request('GET', '/api/me', { token: second.key })).status, 401, 'user deleted: refused on the next request');
      assert.equal((await t.request('GET', '/api/me', { cookie })).status, 401, 'and so is their session');
    });

    test('last_used_at is recorded when a key is used', async () => {
      const r = await t.request('POST', '/api/keys', { cookie: userCookie, body: { name: 'used', scopes: ['pbx'] } });
      await t.request('GET', '/api/me', { token: r.body.key });
      let used: string | null = null;
      for (let i = 0; i < 20 && !used; i++) {
        const list = await t.request('GET', '/api/keys?limit=500', { cookie: userCookie });
        used = list.body.data.find((k: { id: number }) => k.id === r.body.id).last_used_at;
        if (!used) await new Promise((res) => setTimeout(res, 25));
      }
      assert.ok(used && Date.parse(used) > 0);
    });

    test('validation and 401 anonymous', async () => {
      const empty = await t.request('POST', '/api/keys', { cookie: userCookie, body: { name: '', scopes: [] } });
      assert.equal(empty.status, 400);
      assert.deepEqual(empty.body.error.details, [
        { field: 'name', message: 'must NOT have fewer than 1 characters' },
        { field: 'scopes', message: 'must NOT have fewer than 1 items' },
      ]);
      const scope = await t.request('POST', '/api/keys', { cookie: userCookie, body: { name: 'x', scopes: ['root'] } });
      assert.equal(scope.status, 400);
      assert.equal(scope.body.error.details[0].field, 'scopes.0');
      const badId = await t.request('DELETE', '/api/keys/0', { cookie: userCookie });
      assert.equal(badId.status, 400);
      for (const [method, path] of [['GET', '/api/keys'], ['POST', '/api/keys'], ['DELETE', '/api/keys/1']] as const) {
        const anon = await t.request(method, path, { body: method === 'POST' ? { name: 'x', scopes: ['pbx'] } : undefined });
        assert.equal(anon.status, 401, `${method} ${path}`);
      }
    });
  });
}
