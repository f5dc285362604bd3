import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES } from '../helpers/databases.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

for (const engine of ENGINES) {
  describe(`health probes (${engine})`, () => {
    let t: TestServer;
    before(async () => { t = await startTestServer(engine); });
    after(() => t.close());

    test('/health, /api/health and /api/live are public and answer 200', async () => {
      for (const path of ['/health', '/api/health', '/api/live']) {
        const r = await t.request('GET', path);
        assert.equal(r.status, 200, path);
        assert.deepEqual(Object.keys(r.body), ['status', 'version', 'uptime_seconds'], path);
        assert.equal(r.body.status, 'ok');
        assert.equal(r.body.version, t.server.ctx.version);
        assert.ok(r.body.uptime_seconds >= 0 && r.body.uptime_seconds < 600);
        assert.match(r.headers.get('content-type')!, /^application\/json/);
      }
    });

    test('/api/ready checks the database', async () => {
      const r = await t.request('GET', '/api/ready');
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, { status: 'ready', checks: { database: 'ok' } });
    });

    test('probes ignore credentials, even broken ones', async () => {
      const r = await t.request('GET', '/api/health', { headers: { authorization: 'Bearer nonsense' } });
      assert.equal(r.status, 200);
    });

    test('unknown routes answer the /api 404 envelope', async () => {
      const r = await t.request('GET', '/api/nope');
      assert.equal(r.status, 404);
      assert.deepEqual(r.body, { error: { code: 'not_found', message: 'Route GET /api/nope not found', details: null } });
    });
  });
}
