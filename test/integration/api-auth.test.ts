import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ENGINES } from '../helpers/databases.ts';
import { ADMIN_EMAIL, ADMIN_PASSWORD, createUserSession, startTestServer, type TestServer } from '../helpers/server.ts';

const INVALID = { error: { code: 'authentication_error', message: 'Invalid email or password', details: null } };
const LOCKED = { error: { code: 'rate_limited', message: 'Too many failed logins; try again later', details: null } };

for (const engine of ENGINES) {
  // X-Forwarded-For is trusted from loopback so each test can be its own "source";
  // a 1 s lockout lets the expiry be tested quickly (5 failures, the default, still lock).
  describe(`auth (${engine})`, () => {
    let t: TestServer;
    const login = (email: string, password: string, ip: string) =>
      t.request('POST', '/api/auth/login', { body: { email, password }, headers: { 'x-forwarded-for': ip } });
    before(async () => {
      t = await startTestServer(engine, { STROWGER_TRUST_PROXY: '127.0.0.1', STROWGER_LOGIN_LOCKOUT_SECONDS: '1' });
      await createUserSession(t, 'victim@example.com', 'victim-password');
    });
    after(() => t.close());

    test('login sets an HttpOnly SameSite=Lax session cookie and returns the user', async () => {
      const r = await login(ADMIN_EMAIL.toUpperCase(), ADMIN_PASSWORD, '10.9.0.1');
      assert.equal(r.status, 200);
      assert.equal(r.body.user.email, ADMIN_EMAIL);
      assert.equal(r.body.user.role, 'admin');
      assert.deepEqual(Object.keys(r.body.user).sort(), ['created_at', 'dnd_enabled', 'email', 'id', 'role', 'updated_at']);
      assert.ok(Date.parse(r.body.expires_at) > Date.now());
      const cookie = r.headers.getSetCookie().find((c) => c.startsWith('strowger_session='))!;
      assert.match(cookie, /^strowger_session=[A-Za-z0-9_-]{43}; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Lax$/);
      const me = await t.request('GET', '/api/me', { cookie: cookie.split(';')[0] });
      assert.equal(me.status, 200);
      assert.equal(me.body.email, ADMIN_EMAIL);
    });

    test('wrong password and unknown email give the identical 401 body', async () => {
      const wrong = await login(ADMIN_EMAIL, 'not-the-password', '10.9.0.2');
      const unknown = await login('nobody@example.com', 'whatever-password', '10.9.0.3');
      assert.equal(wrong.status, 401);
      assert.equal(unknown.status, 401);
      assert.deepEqual(wrong.body, INVALID);
      assert.deepEqual(unknown.body, INVALID);
      assert.equal(wrong.headers.get('set-cookie'), null);
    });

    test('validation: missing and empty fields', async () => {
      const r = await t.request('POST', '/api/auth/login', { body: { email: '' } });
      assert.equal(r.status, 400);
      assert.deepEqual(r.body.error, {
        code: 'validation_error', message: 'Validation failed',
        details: [{ field: 'password', message: 'is required' }, { field: 'email', message: 'must NOT have fewer than 1 characters' }],
      });
      const notJson = await t.request('POST', '/api/auth/login', { headers: { 'content-type': 'application/json' }, body: undefined });
      assert.equal(notJson.status, 400);
    });

    test('5 failures lock the account (any source) until the lockout expires', async () => {
      for (let i = 1; i <= 4; i++) assert.equal((await login('victim@example.com', 'bad-password', `10.1.0.${i}`)).status, 401);
      // Four failures: not locked yet.
      assert.equal((await login('victim@example.com', 'victim-password', '10.1.0.9')).status, 200);
      for (let i = 1; i <= 5; i++) assert.equal((await login('victim@example.com', 'bad-password', `10.2.0.${i}`)).status, 401);
      const locked = await login('victim@example.com', 'victim-password', '10.2.0.99');
      assert.equal(locked.status, 429);
      assert.deepEqual(locked.body, LOCKED);
      assert.equal(locked.headers.get('retry-after'), '1');
      // Other accounts are not affected.
      assert.equal((await login(ADMIN_EMAIL, ADMIN_PASSWORD, '10.2.0.98')).status, 200);
      await sleep(1100);
      assert.equal((await login('victim@example.com', 'victim-password', '10.2.0.99')).status, 200);
    });

    test('5 failures from one source lock that source for every account', async () => {
      for (let i = 1; i <= 5; i++) assert.equal((await login(`guess${i}@example.com`, 'bad-password', '10.3.0.1')).status, 401);
      const locked = await login(ADMIN_EMAIL, ADMIN_PASSWORD, '10.3.0.1');
      assert.equal(locked.status, 429);
      assert.deepEqual(locked.body, LOCKED);
      assert.equal((await login(ADMIN_EMAIL, ADMIN_PASSWORD, '10.3.0.2')).status, 200);
      await sleep(1100);
      assert.equal((await login(ADMIN_EMAIL, ADMIN_PASSWORD, '10.3.0.1')).status, 200);
    });

    test('logout ends the session and clears the cookie; anonymous logout is 401', async () => {
      const cookie = await t.login(ADMIN_EMAIL, ADMIN_PASSWORD);
      const r = await t.request('POST', '/api/auth/logout', { cookie });
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, { success: true });
      assert.match(r.headers.get('set-cookie') ?? '', /^strowger_session=; Max-Age=0; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT/);
      assert.equal((await t.request('GET', '/api/me', { cookie })).status, 401);
      const anon = await t.request('POST', '/api/auth/logout');
      assert.equal(anon.status, 401);
      assert.deepEqual(anon.body, { error: { code: 'authentication_error', message: 'Not authenticated', details: null } });
      // The other admin session is untouched.
      assert.equal((await t.request('GET', '/api/me', { cookie: t.adminCookie })).status, 200);
    });

    test('bad credentials of any kind are 401', async () => {
      for (const headers of [{ authorization: 'Bearer stw_nope' }, { authorization: 'Basic YWRtaW46YWRtaW4=' }, { cookie: 'strowger_session=forged' }] as Array<Record<string, string>>) {
        const r = await t.request('GET', '/api/me', { headers });
        assert.equal(r.status, 401, JSON.stringify(headers));
        assert.equal(r.body.error.code, 'authentication_error');
      }
    });
  });
}
