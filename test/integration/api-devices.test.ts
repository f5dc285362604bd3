import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES } from '../helpers/databases.ts';
import { createUserSession, startTestServer, type TestServer } from '../helpers/server.ts';
import { findDeviceCredentials } from '../../src/store/devices.ts';

const PASSWORD = 'sip-secret-8472';
const fields = (body: any) => body.error.details.map((d: { field: string }) => d.field).sort();

for (const engine of ENGINES) {
  describe(`/api/devices (${engine})`, () => {
    let t: TestServer;
    let userCookie: string;
    let adminId: number;
    let userId: number;
    const events: Array<[string, unknown]> = [];

    before(async () => {
      t = await startTestServer(engine);
      userCookie = await createUserSession(t);
      adminId = (await t.request('GET', '/api/me', { cookie: t.adminCookie })).body.id;
      userId = (await t.request('GET', '/api/me', { cookie: userCookie })).body.id;
      for (const name of ['pbx.device.changed', 'pbx.device.deleted'] as const) t.server.ctx.events.on(name, (p: unknown) => events.push([name, p]));
    });
    after(async () => { await t?.close(); });

    const create = (body: unknown, cookie = t.adminCookie) => t.request('POST', '/api/devices', { cookie, body });

    test('anonymous requests get 401 on every route', async () => {
      for (const [method, path] of [['GET', '/api/devices'], ['POST', '/api/devices'], ['GET', '/api/devices/1'], ['PUT', '/api/devices/1'], ['DELETE', '/api/devices/1'], ['GET', '/api/devices/1/events']]) {
        const r = await t.request(method!, path!, method === 'POST' || method === 'PUT' ? { body: {} } : {});
        assert.equal(r.status, 401, `${method} ${path}`);
        assert.deepEqual(r.body, { error: { code: 'authentication_error', message: 'Not authenticated', details: null } });
      }
    });

    test('create returns the device without its password; the store can still open it', async () => {
      events.length = 0;
      const r = await create({ name: 'Office Phone', username: '1001', password: PASSWORD, type: 'grandstream' });
      assert.equal(r.status, 201);
      const { id, created_at, updated_at, ...rest } = r.body;
      assert.equal(typeof id, 'number');
      assert.equal(created_at, updated_at);
      assert.deepEqual(rest, { name: 'Office Phone', username: '1001', type: 'grandstream', device_type: 'grandstream', user_id: adminId, caller_id: null, dnd_enabled: false, digest_algorithm: 'MD5', voicemail_enabled: false, voicemail_email: null, mwi_unsolicited: false, srtp: 'off' });
      assert.deepEqual(events, [['pbx.device.changed', { id, username: '1001' }]]);
      const creds = await findDeviceCredentials(t.server.ctx.store.db, t.server.ctx.box, '1001');
      assert.deepEqual(creds, { id, username: '1001', password: PASSWORD, digestAlgorithm: 'MD5' });
      assert.equal(await findDeviceCredentials(t.server.ctx.store.db, t.server.ctx.box, 'nobody'), undefined);
      const raw = await t.server.ctx.store.db.selectFrom('devices').select('password_enc').where('id', '=', id).executeTakeFirstOrThrow();
      assert.ok(raw.password_enc.startsWith('v1:') && !raw.password_enc.includes(PASSWORD));
    });

    test('srtp policy: set on create and update, stored, anything else a validation error with nothing changed', async () => {
      const r = await create({ name: 'Secure', username: '1050', password: PASSWORD, srtp: 'required' });
      assert.equal(r.status, 201);
      assert.equal(r.body.srtp, 'required');
      const bad = await t.request('PUT', `/api/devices/${r.body.id}`, { cookie: t.adminCookie, body: { srtp: 'sometimes' } });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.code, 'validation_error');
      const row = await t.server.ctx.store.db.selectFrom('devices').select('srtp').where('id', '=', r.body.id).executeTakeFirstOrThrow();
      assert.equal(row.srtp, 'required');
      const u = await t.request('PUT', `/api/devices/${r.body.id}`, { cookie: t.adminCookie, body: { srtp: 'optional' } });
      assert.equal(u.status, 200);
      assert.equal(u.body.srtp, 'optional');
      assert.equal((await t.request('DELETE', `/api/devices/${r.body.id}`, { cookie: t.adminCookie })).status, 200);
    });

    test('device_type is an alias of type; a conflicting pair is a validation error', async () => {
      const r = await create({ name: 'Desk', username: '1002', password: PASSWORD, device_type: 'yealink', caller_id: '+15550001002' });
      assert.equal(r.status, 201);
      assert.equal(r.body.type, 'yealink');
      assert.equal(r.body.device_type, 'yealink');
      assert.equal(r.body.caller_id, '+15550001002');
      const bad = await create({ name: 'Desk', username: '1003', password: PASSWORD, type: 'a', device_type: 'b' });
      assert.equal(bad.status, 400);
      assert.deepEqual(bad.body, { error: { code: 'validation_error', message: 'Validation failed', details: [{ field: 'device_type', message: 'must equal type (they are aliases)' }] } });
      const cleared = await t.request('PUT', `/api/devices/${r.body.id}`, { cookie: t.adminCookie, body: { caller_id: null } });
      assert.equal(cleared.body.caller_id, null); // null, not "" (Ajv coercion of a nullable string)
      const dflt = await create({ name: 'Soft', username: 'soft.1', password: PASSWORD });
      assert.equal(dflt.body.type, 'generic');
    });

    test('validation errors name each field', async () => {
      const r = await create({ name: '', username: 'bad user', password: 'short' });
      assert.equal(r.status, 400);
      assert.equal(r.body.error.code, 'validation_error');
      assert.deepEqual(fields(r.body), ['name', 'password', 'username']);
      const missing = await create({});
      assert.deepEqual(fields(missing.body), ['name', 'password', 'username']);
      assert.ok(missing.body.error.details.every((d: { message: string }) => d.message === 'is required'));
      const owner = await create({ name: 'x', username: '1009', password: PASSWORD, user_id: 99999 });
      assert.deepEqual(owner.body.error.details, [{ field: 'user_id', message: 'no such user' }]);
      const badId = await t.request('GET', '/api/devices/abc', { cookie: t.adminCookie });
      assert.equal(badId.status, 400);
      assert.deepEqual(fields(badId.body), ['id']);
    });

    test('a taken username is 409 on create and update', async () => {
      const r = await create({ name: 'Dup', username: '1001', password: PASSWORD });
      assert.equal(r.status, 409);
      assert.deepEqual(r.body, { error: { code: 'conflict', message: 'A device with this username already exists', details: [{ field: 'username', message: 'already exists' }] } });
      const other = await create({ name: 'Other', username: '1004', password: PASSWORD });
      const u = await t.request('PUT', `/api/devices/${other.body.id}`, { cookie: t.adminCookie, body: { username: '1001' } });
      assert.equal(u.status, 409);
      assert.equal(u.body.error.code, 'conflict');
    });

    test('unknown ids are 404', async () => {
      for (const [method, body] of [['GET'], ['PUT', { name: 'x' }], ['DELETE']] as const) {
        const r = await t.request(method, '/api/devices/999999', { cookie: t.adminCookie, body });
        assert.equal(r.status, 404, method);
        assert.deepEqual(r.body, { error: { code: 'not_found', message: 'Device not found', details: null } });
      }
      const ev = await t.request('GET', '/api/devices/999999/events', { cookie: t.adminCookie });
      assert.equal(ev.status, 404);
    });

    test('update changes the given fields, logs an event and announces the change', async () => {
      const d = (await create({ name: 'Lobby', username: '2001', password: PASSWORD })).body;
      events.length = 0;
      const r = await t.request('PUT', `/api/devices/${d.id}`, { cookie: t.adminCookie, body: { name: 'Lobby Phone', username: '2002', password: 'new-sip-secret-1', dnd_enabled: true, caller_id: null } });
      assert.equal(r.status, 200);
      assert.equal(r.body.name, 'Lobby Phone');
      assert.equal(r.body.username, '2002');
      assert.equal(r.body.dnd_enabled, true);
      assert.equal(r.body.type, 'generic');
      assert.ok(!('password' in r.body));
      assert.deepEqual(events, [['pbx.device.changed', { id: d.id, username: '2002', previous_username: '2001' }]]);
      const creds = await findDeviceCredentials(t.server.ctx.store.db, t.server.ctx.box, '2002');
      assert.equal(creds?.password, 'new-sip-secret-1');

      const ev = await t.request('GET', `/api/devices/${d.id}/events`, { cookie: t.adminCookie });
      assert.equal(ev.status, 200);
      assert.deepEqual(ev.body.pagination, { total: 2, limit: 50, offset: 0 });
      assert.deepEqual(ev.body.data.map((e: any) => [e.category, e.type, e.detail, e.device_id, e.source_ip]), [
        ['provisioning', 'updated', 'Updated name, username, password, caller_id, dnd_enabled by admin@example.com', d.id, '127.0.0.1'],
        ['provisioning', 'created', 'Device "2001" created by admin@example.com', d.id, '127.0.0.1'],
      ]);
      const paged = await t.request('GET', `/api/devices/${d.id}/events?limit=1&offset=1`, { cookie: t.adminCookie });
      assert.deepEqual(paged.body.data.map((e: any) => e.type), ['created']);
      assert.deepEqual(paged.body.pagination, { total: 2, limit: 1, offset: 1 });
    });

    test('a user sees and manages only their own devices', async () => {
      const mine = await create({ name: 'My Softphone', username: 'u-soft', password: PASSWORD }, userCookie);
      assert.equal(mine.status, 201);
      assert.equal(mine.body.user_id, userId);
      const list = await t.request('GET', '/api/devices', { cookie: userCookie });
      assert.deepEqual(list.body.data.map((d: any) => d.username), ['u-soft']);
      assert.deepEqual(list.body.pagination, { total: 1, limit: 50, offset: 0 });
      const adminList = await t.request('GET', '/api/devices?limit=2', { cookie: t.adminCookie });
      assert.equal(adminList.body.data.length, 2);
      assert.ok(adminList.body.pagination.total >= 6);

      const adminDevice = (await t.request('GET', '/api/devices?limit=1', { cookie: t.adminCookie })).body.data[0];
      for (const [method, path, body] of [['GET', `/api/devices/${adminDevice.id}`], ['PUT', `/api/devices/${adminDevice.id}`, { name: 'x' }], ['DELETE', `/api/devices/${adminDevice.id}`], ['GET', `/api/devices/${adminDevice.id}/events`]] as const) {
        const r = await t.request(method, path, { cookie: userCookie, body });
        assert.equal(r.status, 404, `${method} ${path}`);
      }
      const cid = await t.request('PUT', `/api/devices/${mine.body.id}`, { cookie: userCookie, body: { caller_id: '+15550000000' } });
      assert.equal(cid.status, 403);
      assert.deepEqual(cid.body, { error: { code: 'authorization_error', message: 'Only an admin can set caller_id', details: null } });
      const give = await create({ name: 'x', username: 'u-2', password: PASSWORD, user_id: adminId }, userCookie);
      assert.equal(give.status, 403);
      const ok = await t.request('PUT', `/api/devices/${mine.body.id}`, { cookie: userCookie, body: { name: 'Renamed', user_id: userId } });
      assert.equal(ok.status, 200);
      assert.equal(ok.body.name, 'Renamed');
      const reassigned = await t.request('PUT', `/api/devices/${mine.body.id}`, { cookie: t.adminCookie, body: { user_id: null } });
      assert.equal(reassigned.body.user_id, null);
      assert.equal((await t.request('GET', `/api/devices/${mine.body.id}`, { cookie: userCookie })).status, 404);
    });

    test('delete removes the device and announces it', async () => {
      const d = (await create({ name: 'Temp', username: '3001', password: PASSWORD })).body;
      events.length = 0;
      const r = await t.request('DELETE', `/api/devices/${d.id}`, { cookie: t.adminCookie });
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, { success: true });
      assert.deepEqual(events, [['pbx.device.deleted', { id: d.id, username: '3001' }]]);
      assert.equal((await t.request('GET', `/api/devices/${d.id}`, { cookie: t.adminCookie })).status, 404);
      assert.equal(await findDeviceCredentials(t.server.ctx.store.db, t.server.ctx.box, '3001'), undefined);
    });

    // The list is served from a read cache on SQLite (issue 3): every kind of write must show at once.
    test('a list reflects every write at once: create, update, delete, a write outside the API, a role change', async () => {
      const list = async (cookie = t.adminCookie) => (await t.request('GET', '/api/devices?limit=500', { cookie })).body;
      const before = await list();
      assert.deepEqual(await list(), before);
      const d = (await create({ name: 'Cache 1', username: '7001', password: PASSWORD })).body;
      const created = await list();
      assert.equal(created.pagination.total, before.pagination.total + 1);
      assert.deepEqual(created.data.at(-1), d);

      const updated = (await t.request('PUT', `/api/devices/${d.id}`, { cookie: t.adminCookie, body: { name: 'Cache 2', dnd_enabled: true } })).body;
      assert.deepEqual((await list()).data.at(-1), updated);
      // No event, no API: a repository write straight to the table.
      await t.server.ctx.store.db.updateTable('devices').set({ name: 'Cache 3' }).where('id', '=', d.id).execute();
      assert.equal((await list()).data.at(-1).name, 'Cache 3');

      assert.equal((await t.request('DELETE', `/api/devices/${d.id}`, { cookie: t.adminCookie })).status, 200);
      assert.deepEqual(await list(), before);

      // A user sees their own devices; promoted to admin, every device on the next request.
      const cookie = await createUserSession(t, 'cache-user@example.com');
      const own = await list(cookie);
      assert.deepEqual(own, { data: [], pagination: { total: 0, limit: 500, offset: 0 } });
      const me = (await t.request('GET', '/api/me', { cookie })).body;
      assert.equal((await t.request('PUT', `/api/users/${me.id}`, { cookie: t.adminCookie, body: { role: 'admin' } })).status, 200);
      assert.deepEqual(await list(cookie), before);
    });

    test('digest_algorithm (issue 12): MD5 by default, SHA-256 or both on create and update, anything else a validation error', async () => {
      const r = await create({ name: 'Strong', username: 'digest-1', password: PASSWORD, digest_algorithm: 'SHA-256' });
      assert.equal(r.status, 201);
      assert.equal(r.body.digest_algorithm, 'SHA-256');
      assert.equal((await t.request('GET', `/api/devices/${r.body.id}`, { cookie: t.adminCookie })).body.digest_algorithm, 'SHA-256');
      const both = await t.request('PUT', `/api/devices/${r.body.id}`, { cookie: t.adminCookie, body: { digest_algorithm: 'both' } });
      assert.equal(both.status, 200);
      assert.equal(both.body.digest_algorithm, 'both');
      const creds = await findDeviceCredentials(t.server.ctx.store.db, t.server.ctx.box, 'digest-1');
      assert.equal(creds?.digestAlgorithm, 'both');
      for (const bad of ['md5', 'SHA-512-256', '', 1]) {
        const c = await create({ name: 'Bad', username: 'digest-2', password: PASSWORD, digest_algorithm: bad });
        assert.equal(c.status, 400, JSON.stringify(bad));
        assert.equal(c.body.error.code, 'validation_error');
        const u = await t.request('PUT', `/api/devices/${r.body.id}`, { cookie: t.adminCookie, body: { digest_algorithm: bad } });
        assert.equal(u.status, 400, JSON.stringify(bad));
      }
      assert.equal((await t.request('GET', `/api/devices/${r.body.id}`, { cookie: t.adminCookie })).body.digest_algorithm, 'both');
      await t.request('DELETE', `/api/devices/${r.body.id}`, { cookie: t.adminCookie });
    });

    test('a list is the bytes Fastify serializes, as JSON, the same on a repeat', async () => {
      const get = () => fetch(`${t.baseUrl}/api/devices?limit=2&offset=1`, { headers: { cookie: t.adminCookie } });
      const [a, b] = [await get(), await get()];
      assert.equal(a.headers.get('content-type'), 'application/json; charset=utf-8');
      const text = await a.text();
      assert.equal(await b.text(), text);
      assert.equal(a.headers.get('content-length'), String(Buffer.byteLength(text)));
      const body = JSON.parse(text);
      assert.equal(text, JSON.stringify(body));
      assert.deepEqual(Object.keys(body.data[0]), ['id', 'name', 'username', 'type', 'device_type', 'user_id', 'caller_id', 'dnd_enabled', 'digest_algorithm', 'voicemail_enabled', 'voicemail_email', 'mwi_unsolicited', 'srtp', 'created_at', 'updated_at']);
      assert.deepEqual(body.pagination.limit, 2);
      assert.deepEqual(body.pagination.offset, 1);
    });

    test('a list never shows the rows of an open transaction, and keeps none after its rollback', async () => {
      const before = (await t.request('GET', '/api/devices?limit=500', { cookie: t.adminCookie })).body;
      let inserted!: () => void;
      let rollback!: () => void;
      const didInsert = new Promise<void>((r) => (inserted = r));
      const gate = new Promise<void>((r) => (rollback = r));
      const tx = t.server.ctx.store.db.transaction().execute(async (trx) => {
        await trx.insertInto('devices').values({
          name: 'Phantom', username: 'phantom', password_enc: 'x', type: 'generic', user_id: null, caller_id: null,
          dnd_enabled: 0, created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z',
        }).execute();
        inserted();
        await gate;
        throw new Error('rolled back on purpose');
      });
      await didInsert;
      // SQLite: the request waits for the transaction (one connection); PostgreSQL: it reads the committed rows.
      const during = t.request('GET', '/api/devices?limit=500', { cookie: t.adminCookie });
      await new Promise((r) => setTimeout(r, 50));
      rollback();
      await assert.rejects(tx, /rolled back on purpose/);
      assert.deepEqual((await during).body, before);
      assert.deepEqual((await t.request('GET', '/api/devices?limit=500', { cookie: t.adminCookie })).body, before);
    });

    test('no response ever carries a SIP password', async () => {
      const list = await t.request('GET', '/api/devices?limit=500', { cookie: t.adminCookie });
      const text = JSON.stringify(list.body);
      assert.ok(!text.includes(PASSWORD) && !text.includes('new-sip-secret-1') && !text.includes('password'));
      for (const d of list.body.data) {
        const one = JSON.stringify((await t.request('GET', `/api/devices/${d.id}`, { cookie: t.adminCookie })).body);
        assert.ok(!one.includes(PASSWORD) && !one.includes('password'), one);
        const ev = JSON.stringify((await t.request('GET', `/api/devices/${d.id}/events`, { cookie: t.adminCookie })).body);
        assert.ok(!ev.includes(PASSWORD) && !ev.includes('new-sip-secret-1'));
      }
    });
  });
}
