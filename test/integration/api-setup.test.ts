import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES } from '../helpers/databases.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const SID = 'AC00000000000000000000000000000001';
const TOKEN = 'setup-twilio-token-0123456789';
const CLOSED = { error: { code: 'authorization_error', message: 'Setup is already complete', details: null } };

for (const engine of ENGINES) {
  describe(`setup wizard (${engine})`, () => {
    let t: TestServer;
    // No STROWGER_ADMIN_*: the server starts with no user at all.
    before(async () => { t = await startTestServer(engine, { STROWGER_ADMIN_EMAIL: '', STROWGER_ADMIN_PASSWORD: '' }); });
    after(() => t.close());

    test('status is public before setup', async () => {
      const r = await t.request('GET', '/api/setup/status');
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, { setup_complete: false, steps: ['admin_account', 'twilio_credentials (optional)'] });
      assert.equal(await t.server.ctx.store.db.selectFrom('users').select('id').executeTakeFirst(), undefined);
    });

    test('complete: validation details per field', async () => {
      const r = await t.request('POST', '/api/setup/complete', { body: { admin_email: 'nope', admin_password: 'short', twilio_account_sid: 'AC1' } });
      assert.equal(r.status, 400);
      assert.equal(r.body.error.code, 'validation_error');
      assert.deepEqual(r.body.error.details.map((d: { field: string }) => d.field).sort(), ['admin_email', 'admin_password', 'twilio_account_sid']);
      const missing = await t.request('POST', '/api/setup/complete', { body: {} });
      assert.deepEqual(missing.body.error.details, [{ field: 'admin_email', message: 'is required' }, { field: 'admin_password', message: 'is required' }]);
    });

    test('concurrent completes create exactly one admin and seal the Twilio token', async () => {
      const attempts = await Promise.all([1, 2, 3].map((i) => t.request('POST', '/api/setup/complete', {
        body: { admin_email: `admin${i}@example.com`, admin_password: `admin-password-${i}`, twilio_account_sid: SID, twilio_auth_token: TOKEN },
      })));
      const won = attempts.filter((r) => r.status === 201);
      assert.equal(won.length, 1, JSON.stringify(attempts.map((r) => r.status)));
      for (const r of attempts.filter((x) => x.status !== 201)) {
        assert.equal(r.status, 403);
        assert.deepEqual(r.body, CLOSED);
      }
      const winner = won[0]!.body;
      assert.equal(winner.setup_complete, true);
      assert.equal(winner.admin.role, 'admin');
      const users = await t.server.ctx.store.db.selectFrom('users').select(['email', 'role']).execute();
      assert.deepEqual(users, [{ email: winner.admin.email, role: 'admin' }]);

      const rows = await t.server.ctx.store.db.selectFrom('system_config').selectAll().where('key', 'in', ['twilio_account_sid', 'twilio_auth_token']).orderBy('key').execute();
      assert.deepEqual(rows.map((r) => [r.key, r.encrypted]), [['twilio_account_sid', 0], ['twilio_auth_token', 1]]);
      assert.equal(rows[0]!.value, SID);
      assert.ok(rows[1]!.value.startsWith('v1:'));
      assert.ok(!rows[1]!.value.includes(TOKEN));
      assert.equal(t.server.ctx.box.open(rows[1]!.value), TOKEN);

      const i = winner.admin.email.match(/admin(\d)@/)![1];
      const cookie = await t.login(winner.admin.email, `admin-password-${i}`);
      const cfg = await t.request('GET', '/api/system/config', { cookie });
      assert.equal(cfg.body.twilio_auth_token, '••••6789');
    });

    test('both routes answer 403 once setup is complete', async () => {
      const status = await t.request('GET', '/api/setup/status');
      assert.equal(status.status, 403);
      assert.deepEqual(status.body, CLOSED);
      const again = await t.request('POST', '/api/setup/complete', { body: { admin_email: 'late@example.com', admin_password: 'late-password' } });
      assert.equal(again.status, 403);
      assert.deepEqual(again.body, CLOSED);
      assert.equal((await t.request('POST', '/api/auth/login', { body: { email: 'late@example.com', password: 'late-password' } })).status, 401);
    });
  });
}
