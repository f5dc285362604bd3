import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES } from '../helpers/databases.ts';
import { createUserSession, startTestServer, type TestServer } from '../helpers/server.ts';

const fields = (body: any) => body.error.details.map((d: { field: string }) => d.field).sort();

for (const engine of ENGINES) {
  describe(`/api/dids (${engine})`, () => {
    let t: TestServer;
    let userCookie: string;

    before(async () => {
      t = await startTestServer(engine);
      userCookie = await createUserSession(t);
    });
    after(async () => { await t?.close(); });

    const create = (body: unknown, cookie = t.adminCookie) => t.request('POST', '/api/dids', { cookie, body });

    test('anonymous requests get 401; users may read but not write (403)', async () => {
      const routes: Array<[string, string, unknown?]> = [
        ['GET', '/api/dids'], ['POST', '/api/dids', { phone_number: '+15550000000' }], ['POST', '/api/dids/sync'],
        ['GET', '/api/dids/1'], ['PUT', '/api/dids/1', { friendly_name: 'x' }], ['DELETE', '/api/dids/1'],
      ];
      for (const [method, path, body] of routes) {
        const r = await t.request(method, path, { body });
        assert.equal(r.status, 401, `${method} ${path}`);
        assert.equal(r.body.error.code, 'authentication_error');
      }
      for (const [method, path, body] of routes.filter(([m]) => m !== 'GET')) {
        const r = await t.request(method, path, { body, cookie: userCookie });
        assert.equal(r.status, 403, `${method} ${path}`);
        assert.deepEqual(r.body, { error: { code: 'authorization_error', message: 'Admin role required', details: null } });
      }
      assert.equal((await t.request('GET', '/api/dids', { cookie: userCookie })).status, 200);
    });

    test('create, get, list: phone_number and number are aliases; capabilities default to voice', async () => {
      const a = await create({ phone_number: '+15551234567', friendly_name: 'Main Line', capabilities: ['voice', 'sms'] });
      assert.equal(a.status, 201);
      const { id, created_at, updated_at, ...rest } = a.body;
      assert.equal(typeof id, 'number');
      assert.match(created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.equal(updated_at, created_at);
      assert.deepEqual(rest, { phone_number: '+15551234567', number: '+15551234567', friendly_name: 'Main Line', capabilities: ['voice', 'sms'], twilio_sid: null, released_at: null });

      const b = await create({ number: '+442079460000' });
      assert.equal(b.status, 201);
      assert.equal(b.body.phone_number, '+442079460000');
      assert.deepEqual(b.body.capabilities, ['voice']);
      assert.equal(b.body.friendly_name, null);

      const one = await t.request('GET', `/api/dids/${id}`, { cookie: userCookie });
      assert.equal(one.status, 200);
      assert.deepEqual(one.body, a.body);
      const list = await t.request('GET', '/api/dids?limit=1&offset=1', { cookie: userCookie });
      assert.deepEqual(list.body, { data: [b.body], pagination: { total: 2, limit: 1, offset: 1 } });
    });

    test('numbers must be E.164; capabilities a subset of voice, sms, mms', async () => {
      for (const bad of ['15551234567', '+0555', '+1234567890123456', '+1 555', '']) {
        const r = await create({ phone_number: bad });
        assert.equal(r.status, 400, bad);
        assert.equal(r.body.error.code, 'validation_error');
        assert.deepEqual(fields(r.body), ['phone_number'], bad);
      }
      const alias = await create({ number: 'abc' });
      assert.deepEqual(fields(alias.body), ['number']);
      const missing = await create({ friendly_name: 'x' });
      assert.deepEqual(missing.body, { error: { code: 'validation_error', message: 'Validation failed', details: [{ field: 'phone_number', message: 'is required' }] } });
      const both = await create({ phone_number: '+15550000001', number: '+15550000002' });
      assert.deepEqual(both.body.error.details, [{ field: 'number', message: 'must equal phone_number (they are aliases)' }]);
      const caps = await create({ phone_number: '+15550000003', capabilities: ['voice', 'fax'] });
      assert.deepEqual(fields(caps.body), ['capabilities.1']);
      const dup = await create({ phone_number: '+15550000003', capabilities: ['sms', 'sms'] });
      assert.deepEqual(fields(dup.body), ['capabilities']);
      const empty = await create({ phone_number: '+15550000003', capabilities: [] });
      assert.deepEqual(fields(empty.body), ['capabilities']);
    });

    test('a number that exists is 409 on create and update', async () => {
      const r = await create({ phone_number: '+15551234567' });
      assert.equal(r.status, 409);
      assert.deepEqual(r.body, { error: { code: 'conflict', message: 'A DID with this number already exists', details: [{ field: 'phone_number', message: 'already exists' }] } });
      const other = await create({ phone_number: '+15557654321' });
      const u = await t.request('PUT', `/api/dids/${other.body.id}`, { cookie: t.adminCookie, body: { number: '+15551234567' } });
      assert.equal(u.status, 409);
    });

    test('update changes only the given fields', async () => {
      const d = (await create({ phone_number: '+15559990000', friendly_name: 'Old' })).body;
      const r = await t.request('PUT', `/api/dids/${d.id}`, { cookie: t.adminCookie, body: { friendly_name: 'Support', capabilities: ['voice', 'mms'] } });
      assert.equal(r.status, 200);
      assert.equal(r.body.phone_number, '+15559990000');
      assert.equal(r.body.friendly_name, 'Support');
      assert.deepEqual(r.body.capabilities, ['voice', 'mms']);
      const n = await t.request('PUT', `/api/dids/${d.id}`, { cookie: t.adminCookie, body: { phone_number: '+15559990001', friendly_name: null } });
      assert.equal(n.body.phone_number, '+15559990001');
      assert.equal(n.body.number, '+15559990001');
      assert.equal(n.body.friendly_name, null);
      const bad = await t.request('PUT', `/api/dids/${d.id}`, { cookie: t.adminCookie, body: { phone_number: '555' } });
      assert.deepEqual(fields(bad.body), ['phone_number']);
    });

    test('unknown ids are 404', async () => {
      for (const [method, body] of [['GET'], ['PUT', { friendly_name: 'x' }], ['DELETE']] as const) {
        const r = await t.request(method, '/api/dids/999999', { cookie: t.adminCookie, body });
        assert.equal(r.status, 404, method);
        assert.deepEqual(r.body, { error: { code: 'not_found', message: 'DID not found', details: null } });
      }
    });

    test('delete removes the DID and its routes', async () => {
      const d = (await create({ phone_number: '+15558880000' })).body;
      const route = await t.request('POST', '/api/routes', { cookie: t.adminCookie, body: { name: 'All', did_id: d.id, action: 'reject' } });
      assert.equal(route.status, 201);
      const r = await t.request('DELETE', `/api/dids/${d.id}`, { cookie: t.adminCookie });
      assert.deepEqual([r.status, r.body], [200, { success: true }]);
      assert.equal((await t.request('GET', `/api/dids/${d.id}`, { cookie: t.adminCookie })).status, 404);
      assert.equal((await t.request('GET', `/api/routes/${route.body.id}`, { cookie: t.adminCookie })).status, 404);
    });

    test('sync without Twilio credentials is a 409 naming the missing setting (with the fake: twilio-dids-sync.test.ts)', async () => {
      const r = await t.request('POST', '/api/dids/sync', { cookie: t.adminCookie });
      assert.equal(r.status, 409);
      assert.deepEqual(r.body, { error: { code: 'conflict', message: 'Twilio is not configured: set twilio_account_sid and twilio_auth_token in /api/system/config', details: { reason: 'twilio_not_configured' } } });
    });
  });
}
