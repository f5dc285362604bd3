import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES } from '../helpers/databases.ts';
import { createUserSession, startTestServer, type TestServer } from '../helpers/server.ts';
import { findDefaultTrunk, listEnabledTrunks, matchInboundTrunk, trunkCredentials } from '../../src/store/trunks.ts';

const SECRET = 'carrier-secret-9931';

for (const engine of ENGINES) {
  describe(`/api/trunks (${engine})`, () => {
    let t: TestServer;
    let userCookie: string;
    const events: unknown[] = [];

    before(async () => {
      t = await startTestServer(engine);
      userCookie = await createUserSession(t);
      t.server.ctx.events.on('pbx.trunk.changed', (p) => events.push(p));
    });
    after(async () => { await t?.close(); });

    const create = (body: unknown, cookie = t.adminCookie) => t.request('POST', '/api/trunks', { cookie, body });
    const put = (id: number, body: unknown) => t.request('PUT', `/api/trunks/${id}`, { cookie: t.adminCookie, body });
    const defaults = async () => (await t.request('GET', '/api/trunks', { cookie: t.adminCookie })).body.data
      .filter((x: { default: boolean }) => x.default).map((x: { name: string }) => x.name);

    test('anonymous requests get 401; users may read but not write (403)', async () => {
      const routes: Array<[string, string, unknown?]> = [
        ['GET', '/api/trunks'], ['POST', '/api/trunks', { name: 'x', host: 'h.example' }], ['GET', '/api/trunks/1'],
        ['PUT', '/api/trunks/1', { name: 'y' }], ['DELETE', '/api/trunks/1'],
      ];
      for (const [method, path, body] of routes) {
        const r = await t.request(method, path, { body });
        assert.equal(r.status, 401, `${method} ${path}`);
        assert.deepEqual(r.body, { error: { code: 'authentication_error', message: 'Not authenticated', details: null } });
      }
      for (const [method, path, body] of routes.filter(([m]) => m !== 'GET')) {
        const r = await t.request(method, path, { body, cookie: userCookie });
        assert.equal(r.status, 403, `${method} ${path}`);
        assert.deepEqual(r.body, { error: { code: 'authorization_error', message: 'Admin role required', details: null } });
      }
      assert.deepEqual((await t.request('GET', '/api/trunks', { cookie: userCookie })).body, { data: [], pagination: { total: 0, limit: 50, offset: 0 } });
    });

    test('create: defaults, canonical hosts and blocks, password sealed and never returned', async () => {
      events.length = 0;
      const r = await create({
        name: 'Carrier A', host: 'SIP.Carrier.Example.', username: 'acct-4821', password: SECRET,
        inbound_hosts: ['203.0.113.7/24', '2001:0DB8:0010:0000::/48', '198.51.100.9', '203.0.113.0/24'], caller_id: '+15551234567',
      });
      assert.equal(r.status, 201);
      const { id, created_at, updated_at, ...rest } = r.body;
      assert.equal(created_at, updated_at);
      assert.deepEqual(rest, {
        name: 'Carrier A', host: 'sip.carrier.example', port: 5060, transport: 'udp', username: 'acct-4821', has_password: true,
        inbound_hosts: ['203.0.113.0/24', '2001:db8:10::/48', '198.51.100.9'], default: false, enabled: true, from_domain: null, caller_id: '+15551234567',
        tls_verify: true, tls_ca: null, tls_fingerprint: null, srtp: 'off',
      });
      assert.ok(!JSON.stringify(r.body).includes(SECRET));
      assert.deepEqual(events, [{ id }]);
      const raw = await t.server.ctx.store.db.selectFrom('trunks').select('password_enc').where('id', '=', id).executeTakeFirstOrThrow();
      assert.ok(raw.password_enc?.startsWith('v1:') && !raw.password_enc.includes(SECRET));
      assert.deepEqual(await trunkCredentials(t.server.ctx.store.db, t.server.ctx.box, id), { username: 'acct-4821', password: SECRET });
      assert.equal(await trunkCredentials(t.server.ctx.store.db, t.server.ctx.box, 999999), undefined);

      const got = await t.request('GET', `/api/trunks/${id}`, { cookie: userCookie });
      assert.equal(got.status, 200);
      assert.deepEqual(got.body, r.body);

      const tls = await create({ name: 'Carrier TLS', host: '[2001:db8::5060]', transport: 'tls', from_domain: 'pbx.example.com' });
      assert.equal(tls.status, 201);
      assert.deepEqual([tls.body.host, tls.body.port, tls.body.has_password, tls.body.username, tls.body.from_domain], ['2001:db8::5060', 5061, false, null, 'pbx.example.com']);
      assert.equal(await trunkCredentials(t.server.ctx.store.db, t.server.ctx.box, tls.body.id), undefined);
    });

    test('validation: hosts, CIDR blocks, transport, port, password without username', async () => {
      const bad = await create({
        name: '', host: 'bad host!', port: 70000, transport: 'sctp',
        inbound_hosts: ['10.0.0.0/8', '10.0.0.1/33', 'example.com', '2001:db8::/129', '::ffff:10.0.0.1'],
      });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.code, 'validation_error');
      assert.deepEqual(bad.body.error.details.map((d: { field: string }) => d.field).sort(), ['name', 'port', 'transport']);
      const hosts = await create({ name: 'X', host: '999.1.1.1', from_domain: '-x.example', inbound_hosts: ['10.0.0.0/8', '10.0.0.1/33', 'example.com', '2001:db8::/129', '::ffff:10.0.0.1'] });
      assert.equal(hosts.status, 400);
      assert.deepEqual(hosts.body.error.details, [
        { field: 'host', message: 'must be a hostname or an IPv4/IPv6 address' },
        { field: 'from_domain', message: 'must be a hostname or an IPv4/IPv6 address' },
        { field: 'inbound_hosts.1', message: 'must be an IPv4 or IPv6 address or CIDR block' },
        { field: 'inbound_hosts.2', message: 'must be an IPv4 or IPv6 address or CIDR block' },
        { field: 'inbound_hosts.3', message: 'must be an IPv4 or IPv6 address or CIDR block' },
      ]);
      for (const host of ['[192.0.2.1]', 'a..b', 'x'.repeat(64) + '.example', '']) {
        assert.equal((await create({ name: 'X', host })).status, 400, host);
      }
      const noUser = await create({ name: 'X', host: 'h.example', password: SECRET });
      assert.deepEqual(noUser.body.error.details, [{ field: 'username', message: 'is required when a password is set' }]);
      const missing = await create({});
      assert.deepEqual(missing.body.error.details.map((d: { field: string }) => d.field).sort(), ['host', 'name']);
      assert.equal((await t.request('GET', '/api/trunks/abc', { cookie: t.adminCookie })).status, 400);
    });

    test('names are unique (409 on create and rename)', async () => {
      const dup = await create({ name: 'Carrier A', host: 'other.example' });
      assert.equal(dup.status, 409);
      assert.deepEqual(dup.body, { error: { code: 'conflict', message: 'A trunk with this name already exists', details: [{ field: 'name', message: 'already exists' }] } });
      const b = await create({ name: 'Carrier B', host: 'b.example' });
      assert.equal((await put(b.body.id, { name: 'Carrier A' })).status, 409);
      assert.equal((await put(b.body.id, { name: 'Carrier B' })).status, 200);
    });

    test('at most one default trunk: setting one clears the others', async () => {
      const list = (await t.request('GET', '/api/trunks', { cookie: t.adminCookie })).body.data as Array<{ id: number; name: string }>;
      const id = (name: string) => list.find((x) => x.name === name)!.id;
      const c = await create({ name: 'Carrier C', host: 'c.example', default: true });
      assert.equal(c.body.default, true);
      assert.deepEqual(await defaults(), ['Carrier C']);
      assert.equal((await put(id('Carrier A'), { default: true })).body.default, true);
      assert.deepEqual(await defaults(), ['Carrier A']);
      assert.equal((await findDefaultTrunk(t.server.ctx.store.db))?.name, 'Carrier A');
      const d = await create({ name: 'Carrier D', host: 'd.example', default: true });
      assert.deepEqual(await defaults(), ['Carrier D']);
      // Re-asserting the default keeps it; clearing it leaves none.
      assert.equal((await put(d.body.id, { default: true })).body.default, true);
      assert.deepEqual(await defaults(), ['Carrier D']);
      assert.equal((await put(d.body.id, { default: false })).body.default, false);
      assert.deepEqual(await defaults(), []);
      assert.equal(await findDefaultTrunk(t.server.ctx.store.db), undefined);
      // A disabled default is no default for the call engine.
      await put(id('Carrier A'), { default: true, enabled: false });
      assert.deepEqual(await defaults(), ['Carrier A']);
      assert.equal(await findDefaultTrunk(t.server.ctx.store.db), undefined);
      await put(id('Carrier A'), { enabled: true });
      assert.equal((await findDefaultTrunk(t.server.ctx.store.db))?.name, 'Carrier A');
    });

    test('update: password kept unless given, null clears; port follows a transport change only from its default', async () => {
      const r = await create({ name: 'Carrier E', host: '192.0.2.10', username: 'e-user', password: SECRET });
      const id = r.body.id;
      events.length = 0;
      const u = await put(id, { transport: 'tls', caller_id: null, inbound_hosts: ['192.0.2.0/28'] });
      assert.equal(u.status, 200);
      assert.deepEqual([u.body.transport, u.body.port, u.body.has_password, u.body.inbound_hosts], ['tls', 5061, true, ['192.0.2.0/28']]);
      assert.deepEqual(events, [{ id }]);
      assert.equal((await trunkCredentials(t.server.ctx.store.db, t.server.ctx.box, id))?.password, SECRET);
      const custom = await put(id, { port: 5080 });
      assert.equal(custom.body.port, 5080);
      assert.equal((await put(id, { transport: 'tcp' })).body.port, 5080);
      const newPass = await put(id, { password: 'rotated-secret' });
      assert.equal(newPass.body.has_password, true);
      assert.equal((await trunkCredentials(t.server.ctx.store.db, t.server.ctx.box, id))?.password, 'rotated-secret');
      assert.deepEqual((await put(id, { username: null })).body.error.details, [{ field: 'username', message: 'is required when a password is set' }]);
      const cleared = await put(id, { username: null, password: null });
      assert.deepEqual([cleared.body.username, cleared.body.has_password], [null, false]);
      assert.equal(await trunkCredentials(t.server.ctx.store.db, t.server.ctx.box, id), undefined);
      assert.equal((await put(999999, { enabled: true })).status, 404);
    });

    test('the call engine view: enabled trunks and inbound matching by source address', async () => {
      const trunks = await listEnabledTrunks(t.server.ctx.store.db);
      const byName = (n: string) => trunks.find((x) => x.name === n);
      assert.equal(matchInboundTrunk(trunks, '203.0.113.99')?.name, 'Carrier A');
      assert.equal(matchInboundTrunk(trunks, '2001:db8:10:ff::1')?.name, 'Carrier A');
      assert.equal(matchInboundTrunk(trunks, '::ffff:192.0.2.3')?.name, 'Carrier E');
      assert.equal(matchInboundTrunk(trunks, '192.0.2.99'), undefined);
      await put(byName('Carrier E')!.id, { enabled: false });
      const after = await listEnabledTrunks(t.server.ctx.store.db);
      assert.equal(after.find((x) => x.name === 'Carrier E'), undefined);
      assert.equal(matchInboundTrunk(after, '192.0.2.3'), undefined);
      assert.ok(after.every((x) => x.enabled && !('password' in x) && !('password_enc' in x)));
    });

    test('delete; unknown ids are 404; list paginates in id order', async () => {
      const all = (await t.request('GET', '/api/trunks?limit=2&offset=1', { cookie: t.adminCookie })).body;
      assert.equal(all.pagination.total, 6);
      assert.deepEqual(all.data.map((x: { name: string }) => x.name), ['Carrier TLS', 'Carrier B']);
      const victim = all.data[0].id;
      events.length = 0;
      assert.deepEqual((await t.request('DELETE', `/api/trunks/${victim}`, { cookie: t.adminCookie })).body, { success: true });
      assert.deepEqual(events, [{ id: victim }]);
      for (const method of ['GET', 'DELETE'] as const) {
        const r = await t.request(method, `/api/trunks/${victim}`, { cookie: t.adminCookie });
        assert.equal(r.status, 404);
        assert.deepEqual(r.body, { error: { code: 'not_found', message: 'Trunk not found', details: null } });
      }
      assert.equal((await t.request('GET', '/api/trunks', { cookie: t.adminCookie })).body.pagination.total, 5);
    });
  });
}
