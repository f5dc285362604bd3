/**
 * ACME (RFC 8555) against Pebble, a real ACME test CA (Debian package `pebble`): the order for
 * `localhost` is validated by Pebble fetching our `/.well-known/acme-challenge/<token>` over
 * HTTP-01 on the server's HTTP port; the issued chain (Pebble's intermediate) is what new TLS
 * handshakes present. An order the CA refuses is 502 with its reason and the certificate in use
 * stays; renew orders again; the renewal timer renews a certificate inside its window; the
 * ACME account key and the certificate key are sealed at rest.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { getFreePort } from '../helpers/sipp.ts';
import { hasPebble, preparePebble, startPebble, type Pebble } from '../helpers/pebble.ts';
import { presentedFingerprint } from '../helpers/tls-peer.ts';
import { eventually } from './call-fixtures.ts';

describe('ACME certificates from Pebble', { skip: !hasPebble && 'pebble (Debian package) not installed' }, () => {
  let t: TestServer;
  let pebble: Pebble;
  let tlsPort: number;
  const status = async () => (await t.request('GET', '/api/system/tls/status', { cookie: t.adminCookie })).body;

  before(async () => {
    const prepared = await preparePebble();
    tlsPort = await getFreePort('tcp');
    t = await startTestServer('sqlite', { STROWGER_SIP_TLS_PORT: String(tlsPort), STROWGER_ACME_CA_FILE: prepared.caFile, STROWGER_TLS_RENEW_CHECK_SECONDS: '1' });
    pebble = await startPebble(prepared, t.server.httpPort);
  });
  after(async () => { await t.close(); await pebble?.close(); });

  test('an unknown challenge token is 404 (the route is public)', async () => {
    const r = await t.request('GET', '/.well-known/acme-challenge/unknown-token');
    assert.equal(r.status, 404);
  });

  test('PUT source acme: Pebble validates HTTP-01 against us and issues; new handshakes present it', async () => {
    const r = await t.request('PUT', '/api/system/tls/config', { cookie: t.adminCookie, body: { source: 'acme', domains: ['localhost'], acme_directory_url: pebble.directoryUrl, acme_email: 'ops@example.com' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.source, 'acme');
    assert.match(r.body.certificate.issuer, /Pebble Intermediate CA/);
    assert.deepEqual(r.body.certificate.sans, ['localhost']);
    assert.deepEqual(r.body.acme, { directory_url: pebble.directoryUrl, email: 'ops@example.com' });
    assert.ok(t.server.ctx.tls!.challenges.answered >= 1, 'Pebble fetched the HTTP-01 token from our HTTP port');
    assert.equal(await presentedFingerprint(tlsPort, 'localhost'), r.body.certificate.fingerprint256);
    const rows = await t.server.ctx.store.db.selectFrom('system_config').selectAll().where('key', 'in', ['tls_private_key', 'tls_acme_account_key']).execute();
    assert.equal(rows.length, 2);
    for (const row of rows) assert.ok(Number(row.encrypted) === 1 && row.value.startsWith('v1:') && !row.value.includes('PRIVATE'), `${row.key} sealed`);
    assert.equal(t.server.ctx.tls!.challenges.size, 0, 'challenges are withdrawn once the order is done');
  });

  test('an order the CA refuses is 502 with the reason; the certificate in use stays', async () => {
    const before = await status();
    const r = await t.request('PUT', '/api/system/tls/config', { cookie: t.adminCookie, body: { source: 'acme', domains: ['nothere.invalid'], acme_directory_url: pebble.directoryUrl } });
    assert.equal(r.status, 502);
    assert.equal(r.body.error.details.reason, 'acme_failed');
    assert.match(r.body.error.message, /nothere\.invalid/);
    const now = await status();
    assert.equal(now.certificate.fingerprint256, before.certificate.fingerprint256);
    assert.deepEqual(now.domains, ['localhost']);
    assert.equal(await presentedFingerprint(tlsPort, 'localhost'), before.certificate.fingerprint256);
    const down = await t.request('PUT', '/api/system/tls/config', { cookie: t.adminCookie, body: { source: 'acme', domains: ['localhost'], acme_directory_url: 'https://127.0.0.1:1/dir' } });
    assert.equal(down.status, 502, 'an unreachable directory');
    assert.equal((await status()).certificate.fingerprint256, before.certificate.fingerprint256);
  });

  test('POST renew orders a new certificate', async () => {
    const before = await status();
    const r = await t.request('POST', '/api/system/tls/renew', { cookie: t.adminCookie });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.notEqual(r.body.certificate.serial_number, before.certificate.serial_number);
    assert.equal(r.body.last_renewal.ok, true);
    assert.equal(await presentedFingerprint(tlsPort, 'localhost'), r.body.certificate.fingerprint256);
  });

  test('the renewal timer renews a certificate inside its renewal window', async () => {
    // Pebble issues for 5 years: a window of 10 years puts the certificate inside it at once.
    const r = await t.request('PUT', '/api/system/tls/config', { cookie: t.adminCookie, body: { source: 'acme', domains: ['localhost'], acme_directory_url: pebble.directoryUrl, renew_before_days: 3650 } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(Date.parse(r.body.renewal_due_at) < Date.now());
    const renewed = await eventually('timer renewal', async () => {
      const s = await status();
      return s.certificate.serial_number !== r.body.certificate.serial_number && s.last_renewal?.ok ? s : undefined;
    }, 15_000);
    assert.equal(await presentedFingerprint(tlsPort, 'localhost'), renewed.certificate.fingerprint256);
    // Stop the timer from ordering every second for the rest of the run.
    const calm = await t.request('PUT', '/api/system/tls/config', { cookie: t.adminCookie, body: { source: 'acme', domains: ['localhost'], acme_directory_url: pebble.directoryUrl, renew_before_days: 30 } });
    assert.equal(calm.status, 200);
  });
});
