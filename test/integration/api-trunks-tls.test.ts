/**
 * `/api/system/trunks/tls/*`: generic trunks (our rows) and Twilio Elastic SIP trunks through
 * the fake Twilio (Trunking v1 wire format). The status shows what the fake holds; enable,
 * migrate and create change the fake's resources and our rows, and report exactly that.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, createUserSession, type TestServer } from '../helpers/server.ts';
import { startFakeTwilio, FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN, type FakeTwilio } from '../helpers/fake-twilio.ts';
import { getFreePort } from '../helpers/sipp.ts';

describe('trunk TLS routes', () => {
  let t: TestServer;
  let fake: FakeTwilio;
  let userCookie: string;
  let tlsPort: number;
  const call = (method: string, path: string, body?: unknown) => t.request(method, path, { cookie: t.adminCookie, body });

  before(async () => {
    fake = await startFakeTwilio();
    tlsPort = await getFreePort('tcp');
    t = await startTestServer('sqlite', { STROWGER_TWILIO_API_BASE: fake.url, STROWGER_SIP_TLS_PORT: String(tlsPort) });
    userCookie = await createUserSession(t);
  });
  after(async () => { await t.close(); await fake.close(); });

  test('auth: 401 and 403 on every route', async () => {
    for (const [m, p, body] of [['GET', '/api/system/trunks/tls/status'], ['POST', '/api/system/trunks/tls/enable', { trunk_id: 1 }], ['POST', '/api/system/trunks/tls/migrate', { trunk_id: 1 }], ['POST', '/api/system/trunks/tls/create', { name: 'x', origination_uri: 'sips:a.example' }]] as const) {
      assert.equal((await t.request(m, p, { body })).status, 401, p);
      assert.equal((await t.request(m, p, { body, cookie: userCookie })).status, 403, p);
    }
  });

  test('generic trunk: status, enable (TLS + SRTP required), migrate, validation', async () => {
    const trunk = (await call('POST', '/api/trunks', { name: 'carrier', host: 'sip.carrier.example', transport: 'udp' })).body;
    let s = (await call('GET', '/api/system/trunks/tls/status')).body;
    assert.deepEqual(s.trunks.find((x: { id: number }) => x.id === trunk.id), { id: trunk.id, name: 'carrier', host: 'sip.carrier.example', port: 5060, transport: 'udp', tls: false, tls_verify: true, tls_pinned: false, srtp: 'off' });
    assert.deepEqual(s.twilio, { configured: false, error: null, trunks: [] });

    for (const body of [{}, { trunk_id: trunk.id, twilio_trunk_sid: 'TK' + '0'.repeat(32) }, { trunk_id: 'x' }, { twilio_trunk_sid: 'nope' }, { trunk_id: trunk.id, extra: 1 }]) {
      const r = await call('POST', '/api/system/trunks/tls/enable', body);
      assert.equal(r.status, 400, JSON.stringify(body));
    }
    assert.equal((await call('POST', '/api/system/trunks/tls/enable', { trunk_id: 9999 })).status, 404);

    const migrated = await call('POST', '/api/system/trunks/tls/migrate', { trunk_id: trunk.id });
    assert.equal(migrated.status, 200);
    assert.deepEqual(migrated.body.changed, [
      { target: 'trunk', id: String(trunk.id), field: 'transport', before: 'udp', after: 'tls' },
      { target: 'trunk', id: String(trunk.id), field: 'port', before: 5060, after: 5061 },
    ]);
    const enabled = await call('POST', '/api/system/trunks/tls/enable', { trunk_id: trunk.id });
    assert.deepEqual(enabled.body.changed, [{ target: 'trunk', id: String(trunk.id), field: 'srtp', before: 'off', after: 'required' }]);
    assert.deepEqual((await call('POST', '/api/system/trunks/tls/enable', { trunk_id: trunk.id })).body.changed, [], 'already so: nothing changes');
    const row = (await call('GET', `/api/trunks/${trunk.id}`)).body;
    assert.deepEqual([row.transport, row.port, row.srtp], ['tls', 5061, 'required']);
    s = (await call('GET', '/api/system/trunks/tls/status')).body;
    assert.equal(s.srtp.required, 1);
  });

  test('Twilio: not configured is 409; then status, enable, migrate, create through the Trunking API', async () => {
    const sid = fake.addSipTrunk('Main', false, ['sip:pbx.example.com:5060;transport=udp', 'sip:pbx.example.com:5061;transport=tls']);
    assert.equal((await call('POST', '/api/system/trunks/tls/enable', { twilio_trunk_sid: sid })).status, 409);
    assert.equal((await call('PUT', '/api/system/config', { twilio_account_sid: FAKE_ACCOUNT_SID, twilio_auth_token: FAKE_AUTH_TOKEN })).status, 200);

    const s = (await call('GET', '/api/system/trunks/tls/status')).body;
    assert.equal(s.twilio.configured, true);
    assert.deepEqual(s.twilio.trunks.map((x: { sid: string; secure: boolean; origination_urls: Array<{ tls: boolean }> }) => [x.sid, x.secure, x.origination_urls.map((u) => u.tls)]), [[sid, false, [false, true]]]);

    assert.equal((await call('POST', '/api/system/trunks/tls/enable', { twilio_trunk_sid: 'TK' + 'f'.repeat(32) })).status, 404);
    const enabled = await call('POST', '/api/system/trunks/tls/enable', { twilio_trunk_sid: sid });
    assert.deepEqual(enabled.body.changed, [{ target: 'twilio_trunk', id: sid, field: 'secure', before: false, after: true }]);
    assert.equal(fake.sipTrunks.get(sid)!.secure, true, 'Twilio holds the change');
    assert.equal(fake.requestsTo('POST', new RegExp(`^/v1/Trunks/${sid}$`))[0]!.form.Secure, 'true');

    const migrated = await call('POST', '/api/system/trunks/tls/migrate', { twilio_trunk_sid: sid });
    assert.equal(migrated.status, 200);
    const urls = fake.originationUrls.get(sid)!;
    assert.deepEqual(migrated.body.changed, [{ target: 'twilio_origination_url', id: urls[0]!.sid, field: 'sip_url', before: 'sip:pbx.example.com:5060;transport=udp', after: `sip:pbx.example.com:${tlsPort};transport=tls` }]);
    assert.deepEqual(urls.map((u) => u.sip_url), [`sip:pbx.example.com:${tlsPort};transport=tls`, 'sip:pbx.example.com:5061;transport=tls']);

    for (const body of [{ name: 'x', origination_uri: 'sip:secure.example.com:5060' }, { name: '', origination_uri: 'sips:a.example' }, { origination_uri: 'sips:a.example' }]) {
      assert.equal((await call('POST', '/api/system/trunks/tls/create', body)).status, 400, JSON.stringify(body));
    }
    const created = await call('POST', '/api/system/trunks/tls/create', { name: 'Secure SIP Trunk', origination_uri: 'sip:secure.example.com:5061;transport=tls' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const made = fake.sipTrunks.get(created.body.id)!;
    assert.deepEqual([made.friendly_name, made.secure, fake.originationUrls.get(created.body.id)!.map((u) => u.sip_url)], ['Secure SIP Trunk', true, ['sip:secure.example.com:5061;transport=tls']]);

    const generic = await call('POST', '/api/system/trunks/tls/create', { name: 'tls-carrier', origination_uri: 'sips:carrier.example:5062', provider: 'generic' });
    assert.equal(generic.status, 201);
    const row = (await call('GET', `/api/trunks/${generic.body.id}`)).body;
    assert.deepEqual([row.host, row.port, row.transport, row.srtp], ['carrier.example', 5062, 'tls', 'required']);
    assert.equal((await call('POST', '/api/system/trunks/tls/create', { name: 'tls-carrier', origination_uri: 'sips:carrier.example', provider: 'generic' })).status, 409);

    fake.failNext(3, 503);
    const down = await call('POST', '/api/system/trunks/tls/enable', { twilio_trunk_sid: sid });
    assert.equal(down.status, 502);
    const st = (await call('GET', '/api/system/trunks/tls/status')).body;
    assert.equal(st.twilio.configured, true);
  });
});
