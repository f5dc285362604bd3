import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES } from '../helpers/databases.ts';
import { createUserSession, startTestServer, type TestServer } from '../helpers/server.ts';

for (const engine of ENGINES) {
  describe(`/api/dnd (${engine})`, () => {
    let t: TestServer;
    let userCookie: string;
    let adminId: number;
    let userId: number;
    let adminDevice: number;
    let userDevice: number;
    const events: Array<[string, unknown]> = [];

    before(async () => {
      t = await startTestServer(engine);
      userCookie = await createUserSession(t);
      adminId = (await t.request('GET', '/api/me', { cookie: t.adminCookie })).body.id;
      userId = (await t.request('GET', '/api/me', { cookie: userCookie })).body.id;
      adminDevice = (await t.request('POST', '/api/devices', { cookie: t.adminCookie, body: { name: 'A', username: 'dnd-a', password: 'sip-password-1' } })).body.id;
      userDevice = (await t.request('POST', '/api/devices', { cookie: userCookie, body: { name: 'U', username: 'dnd-u', password: 'sip-password-2' } })).body.id;
      for (const name of ['pbx.dnd.changed', 'pbx.device.changed'] as const) t.server.ctx.events.on(name, (p: unknown) => events.push([name, p]));
    });
    after(async () => { await t?.close(); });

    const put = (body: unknown, cookie = userCookie) => t.request('PUT', '/api/dnd', { cookie, body });

    test('anonymous requests get 401', async () => {
      for (const method of ['GET', 'PUT']) {
        const r = await t.request(method, '/api/dnd', method === 'PUT' ? { body: { enabled: true } } : {});
        assert.equal(r.status, 401);
        assert.deepEqual(r.body, { error: { code: 'authentication_error', message: 'Not authenticated', details: null } });
      }
    });

    test('sets the caller\'s own flag, visible in /api/me', async () => {
      events.length = 0;
      const r = await put({ enabled: true });
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, { enabled: true, user_id: userId, device_id: null });
      assert.equal((await t.request('GET', '/api/me', { cookie: userCookie })).body.dnd_enabled, true);
      assert.deepEqual((await t.request('GET', '/api/dnd', { cookie: userCookie })).body, { enabled: true, user_id: userId, device_id: null });
      assert.equal((await t.request('GET', '/api/me', { cookie: t.adminCookie })).body.dnd_enabled, false);
      assert.deepEqual(events, [['pbx.dnd.changed', { user_id: userId, device_id: null, enabled: true }]]);
      const off = await put({ enabled: false });
      assert.deepEqual(off.body, { enabled: false, user_id: userId, device_id: null });
      assert.equal((await t.request('GET', '/api/me', { cookie: userCookie })).body.dnd_enabled, false);
    });

    test('validation names the field', async () => {
      const r = await put({});
      assert.deepEqual(r.body, { error: { code: 'validation_error', message: 'Validation failed', details: [{ field: 'enabled', message: 'is required' }] } });
      const bad = await put({ enabled: 'maybe', device_id: 0 });
      assert.equal(bad.status, 400);
      assert.deepEqual(bad.body.error.details.map((d: any) => d.field).sort(), ['device_id', 'enabled']);
    });

    test('a user sets DND on their own device; another\'s is 403', async () => {
      events.length = 0;
      const r = await put({ enabled: true, device_id: userDevice });
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, { enabled: true, user_id: userId, device_id: userDevice });
      assert.equal((await t.request('GET', `/api/devices/${userDevice}`, { cookie: userCookie })).body.dnd_enabled, true);
      assert.deepEqual(events, [
        ['pbx.device.changed', { id: userDevice, username: 'dnd-u' }],
        ['pbx.dnd.changed', { user_id: userId, device_id: userDevice, enabled: true }],
      ]);
      for (const deviceId of [adminDevice, 999999]) {
        const f = await put({ enabled: true, device_id: deviceId });
        assert.equal(f.status, 403, String(deviceId));
        assert.deepEqual(f.body, { error: { code: 'authorization_error', message: 'You can only set DND on your own devices', details: null } });
      }
      assert.equal((await t.request('GET', `/api/devices/${adminDevice}`, { cookie: t.adminCookie })).body.dnd_enabled, false);
    });

    test('an admin sets DND on any device; an unknown one is 404', async () => {
      const r = await put({ enabled: false, device_id: userDevice }, t.adminCookie);
      assert.deepEqual(r.body, { enabled: false, user_id: userId, device_id: userDevice });
      const own = await put({ enabled: true, device_id: adminDevice }, t.adminCookie);
      assert.deepEqual(own.body, { enabled: true, user_id: adminId, device_id: adminDevice });
      const missing = await put({ enabled: true, device_id: 999999 }, t.adminCookie);
      assert.equal(missing.status, 404);
      assert.deepEqual(missing.body, { error: { code: 'not_found', message: 'Device not found', details: null } });
    });
  });
}
