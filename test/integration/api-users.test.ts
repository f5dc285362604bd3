import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES } from '../helpers/databases.ts';
import { ADMIN_EMAIL, createUserSession, startTestServer, type TestServer } from '../helpers/server.ts';

const FORBIDDEN = { error: { code: 'authorization_error', message: 'Admin role required', details: null } };

for (const engine of ENGINES) {
  describe(`users (${engine})`, () => {
    let t: TestServer;
    let userCookie: string;
    let adminId: number;
    before(async () => {
      t = await startTestServer(engine);
      userCookie = await createUserSession(t, 'plain@example.com', 'plain-password');
      adminId = (await t.request('GET', '/api/me', { cookie: t.adminCookie })).body.id;
    });
    after(() => t.close());

    test('non-admins get 403 and anonymous callers 401 on every users route', async () => {
      for (const [method, path, body] of [
        ['GET', '/api/users', undefined], ['POST', '/api/users', { email: 'x@example.com', password: 'x-password' }],
        ['GET', `/api/users/${adminId}`, undefined], ['PUT', `/api/users/${adminId}`, { role: 'user' }], ['DELETE', `/api/users/${adminId}`, undefined],
      ] as const) {
        const user = await t.request(method, path, { cookie: userCookie, body });
        assert.equal(user.status, 403, `${method} ${path}`);
        assert.deepEqual(user.body, FORBIDDEN);
        const anon = await t.request(method, path, { body });
        assert.equal(anon.status, 401, `${method} ${path}`);
        assert.equal(anon.body.error.code, 'authentication_error');
      }
    });

    test('create: 201, lower-cased email, no password hash in the answer; 409 duplicate', async () => {
      const r = await t.request('POST', '/api/users', { cookie: t.adminCookie, body: { email: 'New.User@Example.com', password: 'new-user-password' } });
      assert.equal(r.status, 201);
      assert.equal(r.body.email, 'new.user@example.com');
      assert.equal(r.body.role, 'user');
      assert.deepEqual(Object.keys(r.body), ['id', 'email', 'role', 'dnd_enabled', 'created_at', 'updated_at']);
      const dup = await t.request('POST', '/api/users', { cookie: t.adminCookie, body: { email: 'NEW.user@example.com', password: 'other-password' } });
      assert.equal(dup.status, 409);
      assert.deepEqual(dup.body, { error: { code: 'conflict', message: 'A user with this email already exists', details: [{ field: 'email', message: 'already exists' }] } });
    });

    test('create: validation details per field', async () => {
      const r = await t.request('POST', '/api/users', { cookie: t.adminCookie, body: { email: 'not-an-email', password: 'short', role: 'root' } });
      assert.equal(r.status, 400);
      assert.equal(r.body.error.code, 'validation_error');
      const fields = r.body.error.details.map((d: { field: string }) => d.field).sort();
      assert.deepEqual(fields, ['email', 'password', 'role']);
      assert.deepEqual(r.body.error.details.find((d: { field: string }) => d.field === 'password'), { field: 'password', message: 'must NOT have fewer than 8 characters' });
      assert.deepEqual(r.body.error.details.find((d: { field: string }) => d.field === 'email'), { field: 'email', message: 'must match format "email"' });
    });

    test('list with pagination; get one; 404; bad id', async () => {
      const all = await t.request('GET', '/api/users', { cookie: t.adminCookie });
      assert.equal(all.status, 200);
      assert.deepEqual(all.body.pagination, { total: 3, limit: 50, offset: 0 });
      assert.deepEqual(all.body.data.map((u: { email: string }) => u.email), [ADMIN_EMAIL, 'plain@example.com', 'new.user@example.com']);
      const page = await t.request('GET', '/api/users?limit=1&offset=1', { cookie: t.adminCookie });
      assert.deepEqual(page.body.pagination, { total: 3, limit: 1, offset: 1 });
      assert.deepEqual(page.body.data.map((u: { email: string }) => u.email), ['plain@example.com']);
      const badLimit = await t.request('GET', '/api/users?limit=0', { cookie: t.adminCookie });
      assert.equal(badLimit.status, 400);
      assert.deepEqual(badLimit.body.error.details, [{ field: 'limit', message: 'must be >= 1' }]);
      const one = await t.request('GET', `/api/users/${adminId}`, { cookie: t.adminCookie });
      assert.equal(one.status, 200);
      assert.equal(one.body.email, ADMIN_EMAIL);
      const missing = await t.request('GET', '/api/users/99999', { cookie: t.adminCookie });
      assert.equal(missing.status, 404);
      assert.deepEqual(missing.body, { error: { code: 'not_found', message: 'User not found', details: null } });
      const bad = await t.request('GET', '/api/users/abc', { cookie: t.adminCookie });
      assert.equal(bad.status, 400);
      assert.deepEqual(bad.body.error.details, [{ field: 'id', message: 'must be integer' }]);
    });

    test('update: role, email, password; 409 duplicate email; 404; validation', async () => {
      const list = await t.request('GET', '/api/users', { cookie: t.adminCookie });
      const id = list.body.data.find((u: { email: string }) => u.email === 'new.user@example.com').id;
      const r = await t.request('PUT', `/api/users/${id}`, { cookie: t.adminCookie, body: { role: 'admin', email: 'renamed@example.com', password: 'renamed-password' } });
      assert.equal(r.status, 200);
      assert.equal(r.body.role, 'admin');
      assert.equal(r.body.email, 'renamed@example.com');
      await t.login('renamed@example.com', 'renamed-password');
      const dup = await t.request('PUT', `/api/users/${id}`, { cookie: t.adminCookie, body: { email: 'plain@example.com' } });
      assert.equal(dup.status, 409);
      assert.equal(dup.body.error.code, 'conflict');
      const missing = await t.request('PUT', '/api/users/99999', { cookie: t.adminCookie, body: { role: 'user' } });
      assert.equal(missing.status, 404);
      const bad = await t.request('PUT', `/api/users/${id}`, { cookie: t.adminCookie, body: { role: 'owner' } });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.code, 'validation_error');
      assert.equal(bad.body.error.details[0].field, 'role');
      // Back to user: there is still another admin.
      assert.equal((await t.request('PUT', `/api/users/${id}`, { cookie: t.adminCookie, body: { role: 'user' } })).status, 200);
    });

    test('the last admin can be neither demoted nor deleted (409)', async () => {
      const demote = await t.request('PUT', `/api/users/${adminId}`, { cookie: t.adminCookie, body: { role: 'user' } });
      assert.equal(demote.status, 409);
      assert.deepEqual(demote.body, { error: { code: 'conflict', message: 'Cannot demote the last admin', details: null } });
      const del = await t.request('DELETE', `/api/users/${adminId}`, { cookie: t.adminCookie });
      assert.equal(del.status, 409);
      assert.deepEqual(del.body, { error: { code: 'conflict', message: 'Cannot delete the last admin', details: null } });
      assert.equal((await t.request('GET', '/api/me', { cookie: t.adminCookie })).body.role, 'admin');
    });

    test('delete: 200, then 404; the deleted user cannot log in and loses its sessions', async () => {
      const cookie = await createUserSession(t, 'gone@example.com', 'gone-password');
      const id = (await t.request('GET', '/api/me', { cookie })).body.id;
      const r = await t.request('DELETE', `/api/users/${id}`, { cookie: t.adminCookie });
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, { success: true });
      assert.equal((await t.request('GET', '/api/me', { cookie })).status, 401);
      assert.equal((await t.request('DELETE', `/api/users/${id}`, { cookie: t.adminCookie })).status, 404);
      assert.equal((await t.request('POST', '/api/auth/login', { body: { email: 'gone@example.com', password: 'gone-password' } })).status, 401);
    });
  });
}
