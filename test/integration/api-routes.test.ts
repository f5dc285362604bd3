import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES } from '../helpers/databases.ts';
import { createUserSession, startTestServer, type TestServer } from '../helpers/server.ts';
import { routesForDid } from '../../src/store/routes.ts';
import { evaluateRoutes } from '../../src/pbx/evaluate-routes.ts';

const details = (r: { body: any }) => r.body.error.details;
const fields = (r: { body: any }) => details(r).map((d: { field: string }) => d.field).sort();

for (const engine of ENGINES) {
  describe(`/api/routes (${engine})`, () => {
    let t: TestServer;
    let userCookie: string;
    let didA: number;
    let didB: number;
    let dev1: number;
    let dev2: number;

    before(async () => {
      t = await startTestServer(engine);
      userCookie = await createUserSession(t);
      const post = async (path: string, body: unknown) => {
        const r = await t.request('POST', path, { cookie: t.adminCookie, body });
        assert.equal(r.status, 201, JSON.stringify(r.body));
        return r.body.id as number;
      };
      didA = await post('/api/dids', { phone_number: '+15551230001' });
      didB = await post('/api/dids', { phone_number: '+15551230002' });
      dev1 = await post('/api/devices', { name: 'One', username: 'r1001', password: 'sip-password-1' });
      dev2 = await post('/api/devices', { name: 'Two', username: 'r1002', password: 'sip-password-2' });
    });
    after(async () => { await t?.close(); });

    const create = (body: object, cookie = t.adminCookie) => t.request('POST', '/api/routes', { cookie, body });
    const base = () => ({ name: 'R', did_id: didA });

    test('anonymous requests get 401; users may read but not write (403)', async () => {
      const routes: Array<[string, string, unknown?]> = [
        ['GET', '/api/routes'], ['POST', '/api/routes', { name: 'x' }], ['GET', '/api/routes/1'], ['PUT', '/api/routes/1', { name: 'x' }],
        ['DELETE', '/api/routes/1'], ['PUT', '/api/routes/reorder', { order: [1] }],
      ];
      for (const [method, path, body] of routes) {
        const r = await t.request(method, path, { body });
        assert.equal(r.status, 401, `${method} ${path}`);
        assert.equal(r.body.error.code, 'authentication_error');
      }
      for (const [method, path, body] of routes.filter(([m]) => m !== 'GET')) {
        const r = await t.request(method, path, { body, cookie: userCookie });
        assert.equal(r.status, 403, `${method} ${path}`);
        assert.equal(r.body.error.code, 'authorization_error');
      }
      assert.equal((await t.request('GET', '/api/routes', { cookie: userCookie })).status, 200);
    });

    test('create the seed example; read it back', async () => {
      const r = await create({
        name: 'Business Hours', did_id: didA, priority: 1,
        conditions: { time_start: '09:00', time_end: '17:00', days: ['mon', 'tue', 'wed', 'thu', 'fri'] },
        action: 'forward', action_data: { device_id: dev1 },
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const { id, created_at, updated_at, ...rest } = r.body;
      assert.equal(typeof id, 'number');
      assert.equal(created_at, updated_at);
      assert.deepEqual(rest, {
        name: 'Business Hours', did_id: didA, priority: 1, enabled: true,
        conditions: { time_start: '09:00', time_end: '17:00', days: ['mon', 'tue', 'wed', 'thu', 'fri'] },
        action: 'forward', action_data: { device_id: dev1 },
      });
      const one = await t.request('GET', `/api/routes/${id}`, { cookie: userCookie });
      assert.deepEqual(one.body, r.body);
      const del = await t.request('DELETE', `/api/routes/${id}`, { cookie: t.adminCookie });
      assert.deepEqual([del.status, del.body], [200, { success: true }]);
    });

    test('every action with valid data; priority defaults to after the DID\'s last', async () => {
      const cases: Array<[string, object]> = [
        ['ring', { device_ids: [dev1, dev2], timeout: 25 }],
        ['forward', { number: '+442079460000' }],
        ['voicemail', { device_id: dev2 }],
        ['voicemail', {}],
        ['reject', { code: 486, reason: 'Busy Here' }],
        ['reject', {}],
      ];
      const before = (await t.request('GET', `/api/routes?did_id=${didB}`, { cookie: t.adminCookie })).body.pagination.total;
      for (const [action, data] of cases) {
        const r = await create({ name: action, did_id: didB, action, action_data: data, conditions: { caller_id: '+1555*', timezone: 'Europe/Paris' } });
        assert.equal(r.status, 201, `${action} ${JSON.stringify(r.body)}`);
        assert.deepEqual(r.body.action_data, data);
        assert.deepEqual(r.body.conditions, { caller_id: '+1555*', timezone: 'Europe/Paris' });
      }
      const list = await t.request('GET', `/api/routes?did_id=${didB}`, { cookie: t.adminCookie });
      assert.deepEqual(list.body.data.map((r: any) => r.priority), [1, 2, 3, 4, 5, 6].map((p) => p + before));
      assert.equal(list.body.pagination.total, before + 6);
      const noData = await create({ name: 'no data', did_id: didB, action: 'reject' });
      assert.deepEqual(noData.body.action_data, {});
      assert.deepEqual(noData.body.conditions, {});
    });

    test('body validation names each field', async () => {
      assert.deepEqual(fields(await create({})), ['action', 'did_id', 'name']);
      assert.deepEqual(fields(await create({ ...base(), action: 'dance' })), ['action']);
      const cond = await create({ ...base(), action: 'reject', conditions: { time_start: '24:00', time_end: '9:00', days: ['mon', 'funday'], caller_id: '+1-555', foo: 1 } });
      assert.equal(cond.status, 400);
      assert.equal(cond.body.error.code, 'validation_error');
      assert.deepEqual(fields(cond), ['conditions.caller_id', 'conditions.days.1', 'conditions.foo', 'conditions.time_end', 'conditions.time_start']);
      const half = await create({ ...base(), action: 'reject', conditions: { time_start: '09:00', timezone: 'Mars/Base' } });
      assert.deepEqual(details(half), [
        { field: 'conditions.time_end', message: 'is required with the other end of the window' },
        { field: 'conditions.timezone', message: 'is not a known IANA time zone' },
      ]);
      const dupDays = await create({ ...base(), action: 'reject', conditions: { days: ['mon', 'mon'] } });
      assert.deepEqual(fields(dupDays), ['conditions.days']);
    });

    test('action_data is checked against the action', async () => {
      const cases: Array<[string, unknown, Array<{ field: string; message: string }>]> = [
        ['ring', undefined, [{ field: 'action_data.device_ids', message: 'is required' }]],
        ['ring', { device_ids: [] }, [{ field: 'action_data.device_ids', message: 'Expected array length to be greater or equal to 1' }]],
        ['ring', { device_ids: [1], timeout: 0 }, [{ field: 'action_data.timeout', message: 'Expected integer to be greater or equal to 1' }]],
        ['forward', {}, [{ field: 'action_data.device_id', message: 'is required' }]],
        ['forward', { number: '555' }, [{ field: 'action_data.number', message: "Expected string to match '^\\+[1-9][0-9]{0,14}$'" }]],
        ['forward', { number: '+15550000000', device_id: 1 }, [{ field: 'action_data.device_id', message: 'is not allowed' }]],
        ['voicemail', { mailbox: 3 }, [{ field: 'action_data.mailbox', message: 'is not allowed' }]],
        ['reject', { code: 302 }, [{ field: 'action_data.code', message: 'Expected integer to be greater or equal to 400' }]],
        ['reject', { code: 700 }, [{ field: 'action_data.code', message: 'Expected integer to be less or equal to 699' }]],
      ];
      for (const [action, data, want] of cases) {
        const r = await create({ ...base(), action, action_data: data });
        assert.equal(r.status, 400, `${action} ${JSON.stringify(data)}`);
        assert.deepEqual(details(r), want, `${action} ${JSON.stringify(data)}`);
      }
    });

    test('references must exist: did_id and device ids', async () => {
      const did = await create({ name: 'x', did_id: 999999, action: 'reject' });
      assert.deepEqual(did.body, { error: { code: 'validation_error', message: 'Validation failed', details: [{ field: 'did_id', message: 'no such DID' }] } });
      const ring = await create({ ...base(), action: 'ring', action_data: { device_ids: [dev1, 999998, 999999] } });
      assert.deepEqual(details(ring), [{ field: 'action_data.device_ids', message: 'no such device: 999998, 999999' }]);
      const fwd = await create({ ...base(), action: 'forward', action_data: { device_id: 999999 } });
      assert.deepEqual(details(fwd), [{ field: 'action_data.device_id', message: 'no such device: 999999' }]);
    });

    test('unknown ids are 404', async () => {
      for (const [method, body] of [['GET'], ['PUT', { name: 'x' }], ['DELETE']] as const) {
        const r = await t.request(method, '/api/routes/999999', { cookie: t.adminCookie, body });
        assert.equal(r.status, 404, method);
        assert.deepEqual(r.body, { error: { code: 'not_found', message: 'Route not found', details: null } });
      }
    });

    test('update: given fields change, conditions are replaced, a new action needs matching data', async () => {
      const r = (await create({ ...base(), action: 'ring', action_data: { device_ids: [dev1] }, conditions: { days: ['sat'], caller_id: '1*' } })).body;
      const off = await t.request('PUT', `/api/routes/${r.id}`, { cookie: t.adminCookie, body: { enabled: false, conditions: { days: ['sun'] } } });
      assert.equal(off.status, 200);
      assert.equal(off.body.enabled, false);
      assert.deepEqual(off.body.conditions, { days: ['sun'] });
      assert.equal(off.body.action, 'ring');
      assert.deepEqual(off.body.action_data, { device_ids: [dev1] });

      const vm = await t.request('PUT', `/api/routes/${r.id}`, { cookie: t.adminCookie, body: { action: 'voicemail' } });
      assert.deepEqual([vm.body.action, vm.body.action_data], ['voicemail', {}]);
      const ring = await t.request('PUT', `/api/routes/${r.id}`, { cookie: t.adminCookie, body: { action: 'ring' } });
      assert.deepEqual(details(ring), [{ field: 'action_data.device_ids', message: 'is required' }]);
      const data = await t.request('PUT', `/api/routes/${r.id}`, { cookie: t.adminCookie, body: { action_data: { device_id: 999999 } } });
      assert.deepEqual(details(data), [{ field: 'action_data.device_id', message: 'no such device: 999999' }]);
      const moved = await t.request('PUT', `/api/routes/${r.id}`, { cookie: t.adminCookie, body: { did_id: 999999 } });
      assert.deepEqual(details(moved), [{ field: 'did_id', message: 'no such DID' }]);
      const tz = await t.request('PUT', `/api/routes/${r.id}`, { cookie: t.adminCookie, body: { conditions: { timezone: 'Nope/Nope' } } });
      assert.deepEqual(fields(tz), ['conditions.timezone']);
      await t.request('DELETE', `/api/routes/${r.id}`, { cookie: t.adminCookie });
    });

    test('reorder: a permutation of one DID\'s routes (or of all) sets priorities 1..n', async () => {
      for (const r of (await t.request('GET', '/api/routes?limit=500', { cookie: t.adminCookie })).body.data) {
        await t.request('DELETE', `/api/routes/${r.id}`, { cookie: t.adminCookie });
      }
      const mk = async (name: string, did: number, priority: number, extra: object = {}) =>
        (await create({ name, did_id: did, priority, action: 'reject', ...extra })).body.id as number;
      const a1 = await mk('a1', didA, 10, { conditions: { caller_id: '+1*' } });
      const a2 = await mk('a2', didA, 20);
      const a3 = await mk('a3', didA, 30, { conditions: { caller_id: '+1*' } });
      const b1 = await mk('b1', didB, 5);

      const ok = await t.request('PUT', '/api/routes/reorder', { cookie: t.adminCookie, body: { order: [a3, a1, a2] } });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.deepEqual(ok.body.data.map((r: any) => [r.id, r.priority]), [[a3, 1], [a1, 2], [a2, 3]]);
      const listed = await t.request('GET', `/api/routes?did_id=${didA}`, { cookie: userCookie });
      assert.deepEqual(listed.body.data.map((r: any) => r.id), [a3, a1, a2]);
      const stored = await routesForDid(t.server.ctx.store.db, didA);
      assert.equal(evaluateRoutes(stored, { did: didA, caller: '+15550000000' }, new Date())?.id, a3);
      assert.equal(evaluateRoutes(stored, { did: didA, caller: '+44' }, new Date())?.id, a2);

      const bad: Array<[number[], string]> = [
        [[a1, a2], `missing routes of DID ${didA}: ${a3}`],
        [[a1, b1], 'must list every route of one DID, or every route'],
        [[a1, a2, a3, 999999], 'no such route: 999999'],
      ];
      for (const [order, message] of bad) {
        const r = await t.request('PUT', '/api/routes/reorder', { cookie: t.adminCookie, body: { order } });
        assert.equal(r.status, 400, JSON.stringify(order));
        assert.deepEqual(r.body, { error: { code: 'validation_error', message: 'Validation failed', details: [{ field: 'order', message }] } });
      }
      for (const order of [[a1, a1, a2, a3], [], ['x']]) {
        const r = await t.request('PUT', '/api/routes/reorder', { cookie: t.adminCookie, body: { order } });
        assert.equal(r.status, 400);
        assert.equal(r.body.error.code, 'validation_error');
        assert.ok(fields(r).every((f: string) => f.startsWith('order')), JSON.stringify(r.body));
      }
      // Nothing changed by the failures.
      const after = await t.request('GET', '/api/routes?limit=500', { cookie: t.adminCookie });
      assert.deepEqual(after.body.data.map((r: any) => [r.id, r.priority]), [[a3, 1], [a1, 2], [a2, 3], [b1, 5]]);

      const all = await t.request('PUT', '/api/routes/reorder', { cookie: t.adminCookie, body: { order: [b1, a2, a1, a3] } });
      assert.equal(all.status, 200);
      assert.deepEqual(all.body.data.map((r: any) => [r.id, r.priority]), [[b1, 1], [a2, 2], [a1, 3], [a3, 4]]);
    });
  });
}
