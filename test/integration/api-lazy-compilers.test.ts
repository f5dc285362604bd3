import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let t: TestServer;
before(async () => { t = await startTestServer(); });
after(async () => { await t.close(); });

test('route schemas compile on first use; a validation error still gets the documented envelope', async () => {
  const bad = await t.request('POST', '/api/devices', { cookie: t.adminCookie, body: { username: 7 } });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'validation_error');
  assert.ok(Array.isArray(bad.body.error.details) && bad.body.error.details.length > 0, JSON.stringify(bad.body));
  const list = await t.request('GET', '/api/devices', { cookie: t.adminCookie });
  assert.equal(list.status, 200);
  assert.ok(Array.isArray(list.body.data ?? list.body), JSON.stringify(list.body));
});

test('every route validator and serializer compiles (schema errors surface here, not on a first request in production)', () => {
  const n = t.server.app.compileAllSchemas();
  assert.ok(n > 200, `${n} compilers were still pending after start: compilation is lazy`);
  assert.equal(t.server.app.compileAllSchemas(), 0);
});
