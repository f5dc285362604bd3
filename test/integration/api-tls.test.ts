/**
 * `/api/system/tls/*` against real TLS clients: what the status and certificate routes report
 * is what a TLS handshake with our SIP TLS and WSS listeners presents. A PEM upload that does
 * not parse, whose key is another certificate's, or that expired is refused with the reason
 * and the listeners keep the certificate they had; a good one is presented to new handshakes
 * while a connection established before keeps answering SIP. The key is sealed at rest and
 * never returned. Reload re-reads STROWGER_SIP_TLS_CERT/KEY from disk.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';
import { startTestServer, createUserSession, type TestServer } from '../helpers/server.ts';
import { getFreePort } from '../helpers/sipp.ts';
import { makeTestPki } from '../helpers/tls-sip-server.ts';
import { connectTlsPeer, presentedFingerprint } from '../helpers/tls-peer.ts';

const ROUTES: Array<[string, string, unknown?]> = [
  ['GET', '/api/system/tls/status'], ['PUT', '/api/system/tls/config', { source: 'self-signed' }],
  ['POST', '/api/system/tls/renew'], ['POST', '/api/system/tls/reload'], ['GET', '/api/system/tls/certificate'],
];

async function expiredPair() {
  const day = 86_400_000;
  const p = await generate([{ name: 'commonName', value: 'old.strowger.test' }], { keyType: 'ec', notBeforeDate: new Date(Date.now() - 10 * day), notAfterDate: new Date(Date.now() - day) });
  return { cert: p.cert, key: p.private };
}

describe('TLS certificate routes', () => {
  let t: TestServer;
  let tlsPort: number;
  let wssPort: number;
  let userCookie: string;
  const put = (body: unknown) => t.request('PUT', '/api/system/tls/config', { cookie: t.adminCookie, body });

  before(async () => {
    tlsPort = await getFreePort('tcp');
    wssPort = await getFreePort('tcp');
    t = await startTestServer('sqlite', { STROWGER_SIP_TLS_PORT: String(tlsPort), STROWGER_SIP_WSS_PORT: String(wssPort) });
    userCookie = await createUserSession(t);
  });
  after(() => t.close());

  test('401 without a session, 403 for a non-admin, on every route', async () => {
    for (const [method, path, body] of ROUTES) {
      assert.equal((await t.request(method, path, { body })).status, 401, `${method} ${path}`);
      assert.equal((await t.request(method, path, { body, cookie: userCookie })).status, 403, `${method} ${path}`);
    }
  });

  test('status and certificate describe what the TLS and WSS handshakes present', async () => {
    const s = await t.request('GET', '/api/system/tls/status', { cookie: t.adminCookie });
    assert.equal(s.status, 200);
    assert.equal(s.body.source, 'self-signed');
    assert.equal(s.body.certificate.self_signed, true);
    assert.ok(s.body.certificate.sans.includes('strowger.test'));
    assert.deepEqual(s.body.listeners.map((l: { protocol: string; port: number }) => `${l.protocol}:${l.port}`).sort(), [`tls:${tlsPort}`, `wss:${wssPort}`].sort());
    for (const port of [tlsPort, wssPort]) {
      const peer = await connectTlsPeer(port);
      assert.equal(peer.fingerprint256, s.body.certificate.fingerprint256, `port ${port}`);
      peer.close();
    }
    const c = await t.request('GET', '/api/system/tls/certificate', { cookie: t.adminCookie });
    assert.equal(c.status, 200);
    assert.equal(new X509Certificate(c.body.certificate_pem).fingerprint256, s.body.certificate.fingerprint256);
    assert.doesNotMatch(JSON.stringify(c.body), /PRIVATE KEY/);
  });

  test('validation: bad fields are 400 with the field named, nothing changes', async () => {
    const before = (await t.request('GET', '/api/system/tls/status', { cookie: t.adminCookie })).body.certificate.fingerprint256;
    const cases: Array<[unknown, string]> = [
      [{ source: 'acme', domains: ['pbx.example.com'] }, 'acme_directory_url'],
      [{ source: 'acme', domains: ['pbx.example.com'], acme_directory_url: 'http://ca.example/dir' }, 'acme_directory_url'],
      [{ source: 'acme', domains: ['*.example.com'], acme_directory_url: 'https://ca.example/dir' }, 'domains'],
      [{ source: 'acme', domains: [], acme_directory_url: 'https://ca.example/dir' }, 'domains'],
      [{ source: 'self-signed', domains: ['bad_name!'] }, 'domains'],
      [{ source: 'pem', certificate_pem: 'x' }, 'private_key_pem'],
      [{ source: 'self-signed', private_key_pem: 'x' }, 'certificate_pem'],
      [{ source: 'nope' }, 'source'],
      [{ source: 'self-signed', renew_before_days: 0 }, 'renew_before_days'],
    ];
    for (const [body, field] of cases) {
      const r = await put(body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.error.code, 'validation_error');
      assert.ok(r.body.error.details.some((d: { field: string }) => d.field.includes(field)), `${JSON.stringify(body)}: ${JSON.stringify(r.body.error.details)}`);
    }
    assert.equal((await presentedFingerprint(tlsPort)), before);
  });

  test('a refused PEM upload says why and the listeners keep their certificate', async () => {
    const inUse = (await t.request('GET', '/api/system/tls/status', { cookie: t.adminCookie })).body.certificate.fingerprint256;
    const a = makeTestPki('a.strowger.test');
    const b = makeTestPki('b.strowger.test');
    const old = await expiredPair();
    const cases: Array<[unknown, string]> = [
      [{ source: 'pem', certificate_pem: 'not a certificate', private_key_pem: a.key }, 'invalid_certificate'],
      [{ source: 'pem', certificate_pem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', private_key_pem: a.key }, 'invalid_certificate'],
      [{ source: 'pem', certificate_pem: a.cert, private_key_pem: 'garbage' }, 'invalid_key'],
      [{ source: 'pem', certificate_pem: a.cert, private_key_pem: b.key }, 'key_mismatch'],
      [{ source: 'pem', certificate_pem: old.cert, private_key_pem: old.key }, 'expired'],
    ];
    for (const [body, reason] of cases) {
      const r = await put(body);
      assert.equal(r.status, 400, reason);
      assert.equal(r.body.error.details.reason, reason, r.body.error.message);
      const peer = await connectTlsPeer(tlsPort);
      assert.equal(peer.fingerprint256, inUse, `after ${reason} the old certificate is presented`);
      peer.close();
    }
    assert.equal((await t.request('GET', '/api/system/tls/status', { cookie: t.adminCookie })).body.source, 'self-signed');
  });

  test('a good upload goes to new handshakes; an established connection keeps answering; the key is sealed', async () => {
    const established = await connectTlsPeer(tlsPort);
    assert.match(await established.options(), /^SIP\/2\.0 200/);
    const pki = makeTestPki('pbx.strowger.test');
    const r = await put({ source: 'pem', certificate_pem: pki.cert + pki.caCert, private_key_pem: pki.key });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.source, 'pem');
    assert.equal(r.body.certificate.fingerprint256, pki.fingerprint256);
    assert.deepEqual(r.body.certificate.sans, ['pbx.strowger.test']);
    for (const port of [tlsPort, wssPort]) {
      const fresh = await connectTlsPeer(port, 'pbx.strowger.test');
      assert.equal(fresh.fingerprint256, pki.fingerprint256, `new handshake on ${port}`);
      fresh.close();
    }
    assert.match(await established.options(), /^SIP\/2\.0 200/, 'the connection made before the change still works');
    assert.notEqual(established.fingerprint256, pki.fingerprint256);
    established.close();

    const key = await t.server.ctx.store.db.selectFrom('system_config').selectAll().where('key', '=', 'tls_private_key').executeTakeFirst();
    assert.ok(key && Number(key.encrypted) === 1 && key.value.startsWith('v1:') && !key.value.includes('PRIVATE'), 'the private key is sealed at rest');
    const c = await t.request('GET', '/api/system/tls/certificate', { cookie: t.adminCookie });
    assert.ok(c.body.certificate_pem.includes(pki.cert.trim()));
    assert.doesNotMatch(JSON.stringify(c.body), /PRIVATE KEY/);

    const renew = await t.request('POST', '/api/system/tls/renew', { cookie: t.adminCookie });
    assert.equal(renew.status, 400, 'an uploaded certificate is not renewed here');
    assert.equal((await presentedFingerprint(tlsPort)), pki.fingerprint256);

    await t.restart();
    const after = await connectTlsPeer(tlsPort);
    assert.equal(after.fingerprint256, pki.fingerprint256, 'the uploaded certificate survives a restart');
    after.close();
  });

  test('back to self-signed, then renew: a new self-signed certificate for new handshakes', async () => {
    const r = await put({ source: 'self-signed', domains: ['pbx.strowger.test'] });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.certificate.self_signed, true);
    assert.ok(r.body.certificate.sans.includes('pbx.strowger.test'));
    const first = r.body.certificate.fingerprint256;
    assert.equal((await presentedFingerprint(tlsPort)), first);
    const renewed = await t.request('POST', '/api/system/tls/renew', { cookie: t.adminCookie });
    assert.equal(renewed.status, 200);
    assert.notEqual(renewed.body.certificate.fingerprint256, first);
    assert.equal(renewed.body.last_renewal.ok, true);
    assert.equal((await presentedFingerprint(tlsPort)), renewed.body.certificate.fingerprint256);
  });
});

describe('TLS reload of STROWGER_SIP_TLS_CERT/KEY', () => {
  let t: TestServer;
  let tlsPort: number;
  const dir = mkdtempSync(join(tmpdir(), 'tls-files-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const first = makeTestPki('files.strowger.test');

  before(async () => {
    writeFileSync(certFile, first.cert);
    writeFileSync(keyFile, first.key);
    tlsPort = await getFreePort('tcp');
    t = await startTestServer('sqlite', { STROWGER_SIP_TLS_PORT: String(tlsPort), STROWGER_SIP_TLS_CERT: certFile, STROWGER_SIP_TLS_KEY: keyFile });
  });
  after(async () => { await t.close(); rmSync(dir, { recursive: true, force: true }); });

  test('replaced files are presented after reload; bad files are refused and the old pair stays', async () => {
    const s = await t.request('GET', '/api/system/tls/status', { cookie: t.adminCookie });
    assert.equal(s.body.source, 'file');
    const established = await connectTlsPeer(tlsPort);
    assert.equal(established.fingerprint256, first.fingerprint256);

    const other = makeTestPki('other.strowger.test');
    writeFileSync(certFile, other.cert); // key of `first` with the certificate of `other`: a mismatch
    const bad = await t.request('POST', '/api/system/tls/reload', { cookie: t.adminCookie });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.details.reason, 'key_mismatch');
    assert.equal((await presentedFingerprint(tlsPort)), first.fingerprint256);

    writeFileSync(keyFile, other.key);
    const ok = await t.request('POST', '/api/system/tls/reload', { cookie: t.adminCookie });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.certificate.fingerprint256, other.fingerprint256);
    assert.equal((await presentedFingerprint(tlsPort)), other.fingerprint256);
    assert.match(await established.options(), /^SIP\/2\.0 200/, 'established before the reload, still answered');
    established.close();
  });
});
