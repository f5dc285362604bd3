/**
 * `/api/provisioning/*` and the public `/api/provision/{token}` (seed 003, issue 15): every
 * vendor's file parses in its own format and carries the device's credentials; token states
 * (unknown/malformed 404 alike, revoked 403, expired 410); QR codes decode to the URL; every
 * fetch is logged; users see only their own devices; the public route is rate-limited.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { execFileSync } from 'node:child_process';
import jsqr from 'jsqr';
import { ENGINES } from '../helpers/databases.ts';
import { createUserSession, startTestServer, type TestServer } from '../helpers/server.ts';

const PASSWORD = 'phone-secret-42';

/** Decodes a PNG with ffmpeg (RGBA pixels; size from the IHDR chunk) and reads its QR code. */
function readQr(png: Buffer): string | undefined {
  assert.equal(png.subarray(1, 4).toString(), 'PNG');
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  const rgba = execFileSync('ffmpeg', ['-v', 'error', '-f', 'png_pipe', '-i', '-', '-f', 'rawvideo', '-pix_fmt', 'rgba', '-'], { input: png, maxBuffer: 64 << 20 });
  // jsqr is CommonJS typed as an ES default export: under NodeNext the function is `.default`.
  return jsqr.default(new Uint8ClampedArray(rgba), width, height)?.data;
}

/** `key = value` / `key :value` lines of a text config, as a map (duplicates fail the test). */
function keyValues(text: string, sep: RegExp): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = sep.exec(line);
    if (!m) continue;
    assert.equal(out.has(m[1]!.trim()), false, `duplicate key ${m[1]}`);
    out.set(m[1]!.trim(), m[2]!.trim());
  }
  return out;
}

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false });
function parseXml(body: string): any {
  assert.equal(XMLValidator.validate(body), true, 'well-formed XML');
  return xml.parse(body);
}

/** Per vendor: parse the file and return [username, password, server address] as the phone reads them. */
const READERS: Record<string, (body: string) => [string, string, string]> = {
  grandstream: (b) => { const c = parseXml(b).gs_provision.config; return [c.P35, c.P34, c.P47]; },
  yealink: (b) => {
    assert.match(b, /^#!version:1\.0\.0\.1\n/);
    const kv = keyValues(b, /^([a-z0-9_.]+) = (.*)$/);
    return [kv.get('account.1.user_name')!, kv.get('account.1.password')!, `${kv.get('account.1.sip_server.1.address')}:${kv.get('account.1.sip_server.1.port')}`];
  },
  polycom: (b) => { const a = parseXml(b).PHONE_CONFIG.ALL; return [a['@reg.1.auth.userId'], a['@reg.1.auth.password'], `${a['@reg.1.server.1.address']}:${a['@reg.1.server.1.port']}`]; },
  cisco: (b) => { const f = parseXml(b)['flat-profile']; return [f.User_ID_1_, f.Password_1_, f.Proxy_1_]; },
  snom: (b) => {
    const s = parseXml(b).settings['phone-settings'];
    return [s.user_name['#text'], s.user_pass['#text'], s.user_host['#text'].split(';')[0]];
  },
  fanvil: (b) => {
    assert.match(b, /^<<VOIP CONFIG FILE>>Version:2\.0000000000\n/);
    assert.match(b, /<<END OF FILE>>\n$/);
    const kv = keyValues(b, /^(SIP1 [A-Za-z ]+?)\s*:(.*)$/);
    return [kv.get('SIP1 Register User')!, kv.get('SIP1 Register Pswd')!, `${kv.get('SIP1 Register Addr')}:${kv.get('SIP1 Register Port')}`];
  },
  generic: (b) => { const j = JSON.parse(b); return [j.sip.username, j.sip.password, `${j.sip.server}:${j.sip.port}`]; },
};

for (const engine of ENGINES) {
  describe(`/api/provisioning (${engine})`, () => {
    let t: TestServer;
    let userCookie: string;
    let n = 0;

    before(async () => {
      t = await startTestServer(engine, { STROWGER_PUBLIC_IP: '192.0.2.10' });
      userCookie = await createUserSession(t);
    });
    after(async () => { await t?.close(); });

    const device = async (type: string, cookie = t.adminCookie, name = `Phone ${type}`) => {
      const r = await t.request('POST', '/api/devices', { cookie, body: { name, username: `prov${++n}${engine}`, password: PASSWORD, type } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body as { id: number; username: string };
    };
    const token = async (deviceId: number, cookie = t.adminCookie, body: Record<string, unknown> = {}) => {
      const r = await t.request('POST', '/api/provisioning/tokens', { cookie, body: { device_id: deviceId, ...body } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body as { id: number; token: string; url: string; qrcode_url: string; state: string; token_prefix: string };
    };
    const fetchConfig = (tok: string, headers: Record<string, string> = {}) => fetch(`${t.baseUrl}/api/provision/${tok}`, { headers });

    test('anonymous requests get 401; users cannot write profiles (403)', async () => {
      const routes: Array<[string, string, unknown?]> = [
        ['GET', '/api/provisioning/vendors'], ['GET', '/api/provisioning/profiles'], ['GET', '/api/provisioning/profiles/1'],
        ['POST', '/api/provisioning/profiles', { name: 'x', vendor: 'yealink' }], ['PUT', '/api/provisioning/profiles/1', { name: 'y' }],
        ['DELETE', '/api/provisioning/profiles/1'], ['POST', '/api/provisioning/device', { device_id: 1, profile_id: null }],
        ['GET', '/api/provisioning/tokens'], ['POST', '/api/provisioning/tokens', { device_id: 1 }], ['DELETE', '/api/provisioning/tokens/1'],
        ['GET', `/api/provisioning/tokens/${'a'.repeat(43)}/qrcode`], ['GET', '/api/provisioning/events'],
      ];
      for (const [method, path, body] of routes) {
        const r = await t.request(method, path, { body });
        assert.equal(r.status, 401, `${method} ${path}`);
        assert.equal(r.body.error.code, 'authentication_error');
      }
      for (const [method, path, body] of routes.slice(3, 6)) {
        const r = await t.request(method, path, { body, cookie: userCookie });
        assert.equal(r.status, 403, `${method} ${path}`);
        assert.deepEqual(r.body, { error: { code: 'authorization_error', message: 'Admin role required', details: null } });
      }
    });

    test('vendors: at least the seven formats, with their codecs and key syntax', async () => {
      const r = await t.request('GET', '/api/provisioning/vendors', { cookie: userCookie });
      assert.equal(r.status, 200);
      const ids = r.body.data.map((v: { id: string }) => v.id);
      for (const id of Object.keys(READERS)) assert.ok(ids.includes(id), id);
      assert.equal(r.body.pagination.total, ids.length);
      const cisco = r.body.data.find((v: { id: string }) => v.id === 'cisco');
      assert.deepEqual(cisco.codecs, ['PCMU', 'PCMA', 'G722']);
      assert.equal(cisco.format, 'xml');
    });

    test('profiles: validated per vendor; CRUD', async () => {
      const bad = async (body: unknown, field: string) => {
        const r = await t.request('POST', '/api/provisioning/profiles', { body });
        const r2 = await t.request('POST', '/api/provisioning/profiles', { cookie: t.adminCookie, body });
        assert.equal(r.status, 401);
        assert.equal(r2.status, 400, JSON.stringify(r2.body));
        assert.equal(r2.body.error.code, 'validation_error');
        assert.ok(r2.body.error.details.some((d: { field: string }) => d.field.includes(field)), JSON.stringify(r2.body.error.details));
      };
      await bad({ name: 'x', vendor: 'nokia' }, 'vendor');
      await bad({ name: 'x', vendor: 'cisco', config: { codecs: ['opus'] } }, 'config.codecs');
      await bad({ name: 'x', vendor: 'grandstream', config: { settings: { 'not-a-pvalue': 1 } } }, 'config.settings.not-a-pvalue');
      await bad({ name: 'x', vendor: 'yealink', config: { settings: { 'account.1.label': 'a\naccount.1.password = stolen' } } }, 'settings');
      await bad({ name: 'x', vendor: 'yealink', config: { transport: 'tls' } }, 'config.transport');
      await bad({ name: 'x', vendor: 'yealink', config: { colour: 'red' } }, 'config');

      const created = await t.request('POST', '/api/provisioning/profiles', { cookie: t.adminCookie, body: { name: 'Office', vendor: 'Grandstream', config: { codecs: ['G722', 'PCMU'], settings: { P1362: 'en', P8: 1 } } } });
      assert.equal(created.status, 201);
      assert.equal(created.body.vendor, 'grandstream');
      assert.deepEqual(created.body.config, { codecs: ['G722', 'PCMU'], settings: { P1362: 'en', P8: '1' } }, 'setting values are text');
      const got = await t.request('GET', `/api/provisioning/profiles/${created.body.id}`, { cookie: userCookie });
      assert.deepEqual(got.body, created.body);
      const upd = await t.request('PUT', `/api/provisioning/profiles/${created.body.id}`, { cookie: t.adminCookie, body: { name: 'Office 2' } });
      assert.equal(upd.status, 200);
      assert.equal(upd.body.name, 'Office 2');
      assert.deepEqual(upd.body.config, created.body.config);
      const badUpd = await t.request('PUT', `/api/provisioning/profiles/${created.body.id}`, { cookie: t.adminCookie, body: { vendor: 'cisco', config: { codecs: ['opus'] } } });
      assert.equal(badUpd.status, 400);
      assert.equal((await t.request('GET', `/api/provisioning/profiles/${created.body.id}`, { cookie: t.adminCookie })).body.name, 'Office 2', 'a refused update changes nothing');
      const list = await t.request('GET', '/api/provisioning/profiles', { cookie: t.adminCookie });
      assert.ok(list.body.data.some((p: { id: number }) => p.id === created.body.id));
      assert.equal((await t.request('DELETE', `/api/provisioning/profiles/${created.body.id}`, { cookie: t.adminCookie })).status, 200);
      assert.equal((await t.request('GET', `/api/provisioning/profiles/${created.body.id}`, { cookie: t.adminCookie })).status, 404);
      assert.equal((await t.request('DELETE', `/api/provisioning/profiles/${created.body.id}`, { cookie: t.adminCookie })).status, 404);
    });

    for (const vendor of Object.keys(READERS)) {
      test(`${vendor}: a bound device's configuration parses and carries its credentials`, async () => {
        const d = await device(vendor === 'generic' ? 'softphone' : vendor, t.adminCookie, `Desk <"&'> ${vendor}`);
        const p = await t.request('POST', '/api/provisioning/profiles', { cookie: t.adminCookie, body: { name: `P ${vendor}`, vendor, config: { codecs: ['PCMA', 'PCMU'], register_expires: 600, ntp_server: 'pool.ntp.org' } } });
        assert.equal(p.status, 201, JSON.stringify(p.body));
        const bind = await t.request('POST', '/api/provisioning/device', { cookie: t.adminCookie, body: { device_id: d.id, profile_id: p.body.id } });
        assert.deepEqual(bind.body, { device_id: d.id, profile_id: p.body.id, vendor });
        const tok = await token(d.id);
        assert.equal(tok.url, `${t.baseUrl}/api/provision/${tok.token}`);
        const res = await fetchConfig(tok.token, { 'user-agent': `${vendor}-phone/1.0` });
        assert.equal(res.status, 200);
        const body = await res.text();
        assert.match(res.headers.get('content-type')!, vendor === 'generic' ? /^application\/json/ : /^(application\/xml|text\/plain)/);
        const [user, pass, server] = READERS[vendor]!(body);
        assert.deepEqual([user, pass, server], [d.username, PASSWORD, `192.0.2.10:${t.sipPort}`]);
        assert.ok(!body.includes('<"&\'>') || vendor === 'generic' || !body.includes('<?xml'), 'XML values are escaped');
      });
    }

    test('a device without a profile gets its vendor defaults; a line break in its name cannot add a key', async () => {
      const d = await device('yealink', t.adminCookie, 'Lobby\naccount.1.password = stolen');
      const tok = await token(d.id);
      const body = await (await fetchConfig(tok.token)).text();
      const kv = keyValues(body, /^([a-z0-9_.]+) = (.*)$/);
      assert.equal(kv.get('account.1.password'), PASSWORD);
      assert.equal(kv.get('account.1.sip_server.1.transport_type'), '0');
      assert.equal(kv.get('account.1.codec.opus.enable'), '1');
    });

    test('tokens: unknown and malformed alike 404; revoked 403; expired 410; all logged', async () => {
      const d = await device('snom');
      const tok = await token(d.id);
      const unknown = await fetchConfig('A'.repeat(43));
      const malformed = await fetchConfig('not-a-token');
      assert.equal(unknown.status, 404);
      assert.equal(malformed.status, 404);
      assert.deepEqual(await unknown.json() as unknown, await malformed.json() as unknown);

      const expiring = await token(d.id, t.adminCookie, { expires_hours: 1 });
      await t.server.ctx.store.db.updateTable('provisioning_tokens').set({ expires_at: '2000-01-01T00:00:00.000Z' }).where('id', '=', expiring.id).execute();
      const expired = await fetchConfig(expiring.token);
      assert.equal(expired.status, 410);
      assert.equal(((await expired.json()) as { error: { code: string } }).error.code, 'gone');

      assert.equal((await t.request('DELETE', `/api/provisioning/tokens/${tok.id}`, { cookie: t.adminCookie })).status, 200);
      assert.equal((await t.request('DELETE', `/api/provisioning/tokens/${tok.id}`, { cookie: t.adminCookie })).status, 200, 'idempotent');
      const revoked = await fetchConfig(tok.token);
      assert.equal(revoked.status, 403);
      assert.equal((await t.request('DELETE', '/api/provisioning/tokens/999999', { cookie: t.adminCookie })).status, 404);

      const list = await t.request('GET', '/api/provisioning/tokens', { cookie: t.adminCookie });
      const states = Object.fromEntries(list.body.data.filter((x: { device_id: number }) => x.device_id === d.id).map((x: { id: number; state: string }) => [x.id, x.state]));
      assert.deepEqual(states, { [tok.id]: 'revoked', [expiring.id]: 'expired' });
      assert.ok(list.body.data.every((x: Record<string, unknown>) => !('token' in x) && !('token_hash' in x)), 'the secret is never listed');

      const events = await t.request('GET', `/api/devices/${d.id}/events`, { cookie: t.adminCookie });
      const types = events.body.data.map((e: { type: string }) => e.type);
      for (const type of ['fetch_revoked', 'token_revoked', 'fetch_expired', 'token_created']) assert.ok(types.includes(type), type);
      const recent = await t.request('GET', '/api/provisioning/events?limit=100', { cookie: t.adminCookie });
      assert.ok(recent.body.data.some((e: { type: string; device_id: number | null; source_ip: string }) => e.type === 'fetch_unknown' && e.device_id === null && e.source_ip === '127.0.0.1'));
    });

    test('QR code: a PNG that decodes to the provisioning URL', async () => {
      const d = await device('fanvil');
      const tok = await token(d.id);
      const res = await fetch(tok.qrcode_url, { headers: { cookie: t.adminCookie } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'image/png');
      assert.equal(readQr(Buffer.from(await res.arrayBuffer())), tok.url);
      assert.equal((await t.request('GET', `/api/provisioning/tokens/${'B'.repeat(43)}/qrcode`, { cookie: t.adminCookie })).status, 404);
    });

    test('a user manages only their own devices', async () => {
      const other = await device('yealink');
      const mine = await device('yealink', userCookie);
      assert.equal((await t.request('POST', '/api/provisioning/tokens', { cookie: userCookie, body: { device_id: other.id } })).status, 404);
      assert.equal((await t.request('POST', '/api/provisioning/device', { cookie: userCookie, body: { device_id: other.id, profile_id: null } })).status, 404);
      const adminTok = await token(other.id);
      assert.equal((await t.request('DELETE', `/api/provisioning/tokens/${adminTok.id}`, { cookie: userCookie })).status, 404);
      assert.equal((await t.request('GET', `/api/provisioning/tokens/${adminTok.token}/qrcode`, { cookie: userCookie })).status, 404);
      const own = await token(mine.id, userCookie);
      const list = await t.request('GET', '/api/provisioning/tokens', { cookie: userCookie });
      assert.deepEqual(list.body.data.map((x: { id: number }) => x.id), [own.id]);
      const events = await t.request('GET', '/api/provisioning/events', { cookie: userCookie });
      assert.ok(events.body.data.length > 0 && events.body.data.every((e: { device_id: number }) => e.device_id === mine.id));
      const bad = await t.request('POST', '/api/provisioning/tokens', { cookie: userCookie, body: { device_id: mine.id, expires_hours: 0 } });
      assert.equal(bad.status, 400);
      assert.equal((await t.request('POST', '/api/provisioning/device', { cookie: userCookie, body: { device_id: mine.id, profile_id: 999999 } })).status, 400);
    });
  });
}

describe('/api/provision rate limit', () => {
  let t: TestServer;
  before(async () => { t = await startTestServer('sqlite', { STROWGER_PROVISION_RATE_PER_MINUTE: '3' }); });
  after(async () => { await t?.close(); });

  test('past the per-address limit: 429 with Retry-After, even for valid tokens', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await fetch(`${t.baseUrl}/api/provision/${'C'.repeat(43)}`)).status);
    assert.deepEqual(statuses, [404, 404, 404, 429]);
    const r = await fetch(`${t.baseUrl}/api/provision/${'C'.repeat(43)}`);
    assert.equal(r.status, 429);
    assert.ok(Number(r.headers.get('retry-after')) > 0);
    assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'rate_limited');
  });
});
