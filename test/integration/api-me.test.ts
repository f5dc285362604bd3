import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES } from '../helpers/databases.ts';
import { ADMIN_EMAIL, createUserSession, startTestServer, type TestServer } from '../helpers/server.ts';

for (const engine of ENGINES) {
  describe(`me (${engine})`, () => {
    let t: TestServer;
    before(async () => { t = await startTestServer(engine); });
    after(() => t.close());

    test('GET /api/me: the profile by session or API key; 401 anonymous', async () => {
      const r = await t.request('GET', '/api/me', { cookie: t.adminCookie });
      assert.equal(r.status, 200);
      assert.deepEqual(Object.keys(r.body), ['id', 'email', 'role', 'dnd_enabled', 'created_at', 'updated_at']);
      assert.equal(r.body.email, ADMIN_EMAIL);
      assert.equal(r.body.role, 'admin');
      assert.equal(r.body.dnd_enabled, false);
      const key = await t.request('POST', '/api/keys', { cookie: t.adminCookie, body: { name: 'me', scopes: ['pbx'] } });
      const byKey = await t.request('GET', '/api/me', { token: key.body.key });
      assert.deepEqual(byKey.body, r.body);
      const anon = await t.request('GET', '/api/me');
      assert.equal(anon.status, 401);
      assert.deepEqual(anon.body, { error: { code: 'authentication_error', message: 'Not authenticated', details: null } });
    });

    test('PUT /api/me/password: validation, wrong current password, 401 anonymous', async () => {
      const wrong = await t.request('PUT', '/api/me/password', { cookie: t.adminCookie, body: { current_password: 'nope-nope', new_password: 'brand-new-password' } });
      assert.equal(wrong.status, 400);
      assert.deepEqual(wrong.body, { error: { code: 'validation_error', message: 'Validation failed', details: [{ field: 'current_password', message: 'is incorrect' }] } });
      const short = await t.request('PUT', '/api/me/password', { cookie: t.adminCookie, body: { current_password: 'x', new_password: 'short' } });
      assert.equal(short.status, 400);
      assert.deepEqual(short.body.error.details, [{ field: 'new_password', message: 'must NOT have fewer than 8 characters' }]);
      const missing = await t.request('PUT', '/api/me/password', { cookie: t.adminCookie, body: {} });
      assert.deepEqual(missing.body.error.details, [{ field: 'current_password', message: 'is required' }, { field: 'new_password', message: 'is required' }]);
      const anon = await t.request('PUT', '/api/me/password', { body: { current_password: 'a', new_password: 'brand-new-password' } });
      assert.equal(anon.status, 401);
    });

    test('a password change ends the other sessions and keeps the current one', async () => {
      const a = await createUserSession(t, 'pat@example.com', 'pat-password-1');
      const b = await t.login('pat@example.com', 'pat-password-1');
      const r = await t.request('PUT', '/api/me/password', { cookie: a, body: { current_password: 'pat-password-1', new_password: 'pat-password-2' } });
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, { success: true });
      assert.equal((await t.request('GET', '/api/me', { cookie: a })).status, 200);
      assert.equal((await t.request('GET', '/api/me', { cookie: b })).status, 401);
      assert.equal((await t.request('POST', '/api/auth/login', { body: { email: 'pat@example.com', password: 'pat-password-1' } })).status, 401);
      await t.login('pat@example.com', 'pat-password-2');
      // Other users' sessions are untouched.
      assert.equal((await t.request('GET', '/api/me', { cookie: t.adminCookie })).status, 200);
    });
  });
}
