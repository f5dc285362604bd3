import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES } from '../helpers/databases.ts';
import { createUserSession, startTestServer, type TestServer } from '../helpers/server.ts';

const SID = 'AC0123456789abcdef0123456789abcdef';
const TOKEN = 'tok-0123456789-secret-abcd';

const EMPTY = {
  twilio_account_sid: null, twilio_auth_token: null, twilio_api_key_sid: null, twilio_api_secret: null,
  voicemail_email: null, smtp_host: null, smtp_port: null, smtp_secure: null, smtp_user: null,
  smtp_password: null, smtp_from: null, default_caller_id: null, timezone: null,
};

for (const engine of ENGINES) {
  describe(`system config and status (${engine})`, () => {
    let t: TestServer;
    let userCookie: string;
    before(async () => {
      t = await startTestServer(engine);
      userCookie = await createUserSession(t);
    });
    after(() => t.close());

    test('GET /api/system/config: every documented key, null when unset', async () => {
      const r = await t.request('GET', '/api/system/config', { cookie: t.adminCookie });
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, EMPTY);
    });

    test('401 anonymous, 403 for a user, on every system route', async () => {
      for (const [method, path] of [['GET', '/api/system/config'], ['PUT', '/api/system/config'], ['GET', '/api/system/status'], ['POST', '/api/system/backup'], ['POST', '/api/system/restore']] as const) {
        const body = method === 'PUT' ? { timezone: 'UTC' } : undefined;
        const anon = await t.request(method, path, { body });
        assert.equal(anon.status, 401, `${method} ${path}`);
        assert.equal(anon.body.error.code, 'authentication_error');
        const user = await t.request(method, path, { body, cookie: userCookie });
        assert.equal(user.status, 403, `${method} ${path}`);
        assert.deepEqual(user.body, { error: { code: 'authorization_error', message: 'Admin role required', details: null } });
      }
    });

    test('PUT stores the Twilio token sealed and GET masks it', async () => {
      const r = await t.request('PUT', '/api/system/config', {
        cookie: t.adminCookie,
        body: { twilio_account_sid: SID, twilio_auth_token: TOKEN, voicemail_email: 'vm@example.com', smtp_port: 587, smtp_secure: true, smtp_password: 'short' },
      });
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, { ...EMPTY, twilio_account_sid: SID, twilio_auth_token: '••••abcd', voicemail_email: 'vm@example.com', smtp_port: 587, smtp_secure: true, smtp_password: '********' });
      const rows = await t.server.ctx.store.db.selectFrom('system_config').selectAll().where('key', 'in', ['twilio_auth_token', 'twilio_account_sid']).orderBy('key').execute();
      assert.equal(rows.length, 2);
      assert.equal(rows[0]!.key, 'twilio_account_sid');
      assert.equal(rows[0]!.value, SID);
      assert.equal(rows[0]!.encrypted, 0);
      assert.equal(rows[1]!.encrypted, 1);
      assert.ok(rows[1]!.value.startsWith('v1:'), rows[1]!.value);
      assert.ok(!rows[1]!.value.includes(TOKEN));
      assert.ok(!rows[1]!.value.includes('abcd'));
      assert.equal(t.server.ctx.box.open(rows[1]!.value), TOKEN);
      const get = await t.request('GET', '/api/system/config', { cookie: t.adminCookie });
      assert.equal(get.body.twilio_auth_token, '••••abcd');
      assert.ok(!JSON.stringify(get.body).includes(TOKEN));
    });

    test('a secret sent back masked is left unchanged; null deletes', async () => {
      const r = await t.request('PUT', '/api/system/config', { cookie: t.adminCookie, body: { twilio_auth_token: '••••abcd', smtp_password: null } });
      assert.equal(r.status, 200);
      assert.equal(r.body.twilio_auth_token, '••••abcd');
      assert.equal(r.body.smtp_password, null);
      const row = await t.server.ctx.store.db.selectFrom('system_config').select('value').where('key', '=', 'twilio_auth_token').executeTakeFirstOrThrow();
      assert.equal(t.server.ctx.box.open(row.value), TOKEN);
      const gone = await t.server.ctx.store.db.selectFrom('system_config').select('key').where('key', '=', 'smtp_password').executeTakeFirst();
      assert.equal(gone, undefined);
    });

    test('validation: unknown key, bad SID, bad port, bad time zone, empty body', async () => {
      const cases: Array<[unknown, Array<{ field: string; message: string }>]> = [
        [{ bogus_key: 'x' }, [{ field: 'bogus_key', message: 'is not allowed' }]],
        [{ twilio_account_sid: 'AC123' }, [{ field: 'twilio_account_sid', message: 'must match pattern "^AC[0-9a-fA-F]{32}$"' }]],
        [{ smtp_port: 70000 }, [{ field: 'smtp_port', message: 'must be <= 65535' }]],
        [{ timezone: 'Mars/Olympus' }, [{ field: 'timezone', message: 'is not an IANA time zone' }]],
        [{ voicemail_email: 'not-an-email' }, [{ field: 'voicemail_email', message: 'must match format "email"' }]],
      ];
      for (const [body, details] of cases) {
        const r = await t.request('PUT', '/api/system/config', { cookie: t.adminCookie, body });
        assert.equal(r.status, 400, JSON.stringify(body));
        assert.equal(r.body.error.code, 'validation_error');
        assert.deepEqual(r.body.error.details, details, JSON.stringify(body));
      }
      const empty = await t.request('PUT', '/api/system/config', { cookie: t.adminCookie, body: {} });
      assert.equal(empty.status, 400);
      assert.equal(empty.body.error.code, 'validation_error');
      const tz = await t.request('PUT', '/api/system/config', { cookie: t.adminCookie, body: { timezone: 'Europe/Paris' } });
      assert.equal(tz.status, 200);
      assert.equal(tz.body.timezone, 'Europe/Paris');
    });

    test('GET /api/system/status: version, uptime, database, subsystems from ctx.status', async () => {
      const r = await t.request('GET', '/api/system/status', { cookie: t.adminCookie });
      assert.equal(r.status, 200);
      assert.equal(r.body.version, t.server.ctx.version);
      assert.equal(typeof r.body.uptime_seconds, 'number');
      assert.deepEqual(r.body.database, { engine, status: 'ok' });
      for (const s of ['sip', 'media', 'twilio', 'tls']) {
        // Subsystems that started registered a provider; the others show as not running.
        if (t.server.ctx.status.has(s)) assert.equal(typeof r.body[s].status, 'string', s);
        else assert.deepEqual(r.body[s], { status: 'not_running' }, s);
      }

      const saved = new Map(t.server.ctx.status);
      t.server.ctx.status.set('sip', () => ({ status: 'running', registrations: 3, transports: ['udp'] }));
      t.server.ctx.status.set('tls', async () => { throw new Error('no certificate'); });
      t.server.ctx.status.delete('media');
      try {
        const r2 = await t.request('GET', '/api/system/status', { cookie: t.adminCookie });
        assert.deepEqual(r2.body.sip, { status: 'running', registrations: 3, transports: ['udp'] });
        assert.deepEqual(r2.body.tls, { status: 'error', message: 'no certificate' });
        assert.deepEqual(r2.body.media, { status: 'not_running' });
        assert.deepEqual(Object.keys(r2.body), ['version', 'uptime_seconds', 'database', 'sip', 'media', 'twilio', 'tls']);
      } finally {
        t.server.ctx.status.clear();
        for (const [k, v] of saved) t.server.ctx.status.set(k, v);
      }
    });
  });
}
