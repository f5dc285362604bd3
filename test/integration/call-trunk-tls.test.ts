/**
 * Issue 12: trunks over TLS. The carrier is a TLS SIP server (test helper; Debian's sipp has
 * no TLS) whose certificate a test CA signed for `tls.trunk.test`, resolved by a real DNS
 * server (dnsmasq). Verification is on by default against the system CAs, so without the
 * trunk's `tls_ca` the handshake fails and the caller gets 503; with it the call connects and
 * the server saw SNI `tls.trunk.test`. A pinned fingerprint replaces the chain check (right
 * pin connects, wrong pin fails); `tls_verify: false` skips the check.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestServer } from '../helpers/server.ts';
import { runSipp } from '../helpers/sipp.ts';
import { startDnsmasq, type Dnsmasq } from '../helpers/dnsmasq.ts';
import { makeTestPki, startTlsSipServer, type TestPki, type TlsSipServer } from '../helpers/tls-sip-server.ts';
import { api, cdrCount, did, inboundTrunk, nextCdr, route, startCallServer, trunkCall } from './call-fixtures.ts';

const DID = '+15551230400';
const HOST = 'tls.trunk.test';

describe('trunk over TLS: verification, pinning, skip', () => {
  let t: TestServer;
  let dns: Dnsmasq;
  let carrier: TlsSipServer;
  let pki: TestPki;
  let trunkId: number;

  before(async () => {
    pki = makeTestPki(HOST);
    carrier = await startTlsSipServer(pki);
    dns = await startDnsmasq({ hosts: [[HOST, '127.0.0.1']] });
    t = await startCallServer(25600, { STROWGER_DNS_SERVERS: dns.server });
    await inboundTrunk(t);
    const didId = await did(t, DID);
    await route(t, didId, { action: 'forward', action_data: { number: '+15559990400' } });
    trunkId = (await api(t, 'POST', '/api/trunks', { name: 'tls-carrier', host: HOST, port: carrier.port, transport: 'tls', default: true })).id;
  });
  after(async () => {
    await t.close();
    await carrier.close();
    await dns.stop();
  });

  /** One call through the trunk; the CDR's SIP code and how many INVITEs reached the carrier. */
  async function call(caller: string): Promise<{ sipCode: number | null; exitCode: number | null; invites: number }> {
    carrier.dropConnections();
    const before = carrier.requests.filter((r) => r.startsWith('INVITE')).length;
    const n = await cdrCount(t);
    const r = await runSipp(trunkCall(t, DID, caller, { scenario: 'uac', pauseMs: 200 }));
    const cdr = await nextCdr(t, n);
    return { sipCode: cdr.sip_code, exitCode: r.exitCode, invites: carrier.requests.filter((x) => x.startsWith('INVITE')).length - before };
  }

  test('default: the system CAs do not know the test CA: no INVITE leaves, the caller gets 503', async () => {
    const trunk = await api(t, 'GET', `/api/trunks/${trunkId}`);
    assert.deepEqual([trunk.tls_verify, trunk.tls_ca, trunk.tls_fingerprint], [true, null, null]);
    assert.deepEqual(await call('+15550100401'), { sipCode: 503, exitCode: 1, invites: 0 });
  });

  test('tls_ca: the chain verifies, the call connects, SNI named the trunk host', async () => {
    await api(t, 'PUT', `/api/trunks/${trunkId}`, { tls_ca: pki.caCert });
    const names = carrier.serverNames.length;
    assert.deepEqual(await call('+15550100402'), { sipCode: 200, exitCode: 0, invites: 1 });
    assert.deepEqual(carrier.serverNames.slice(names), [HOST]);
  });

  test('tls_fingerprint: the pinned certificate connects without its CA; another pin fails', async () => {
    await api(t, 'PUT', `/api/trunks/${trunkId}`, { tls_ca: null, tls_fingerprint: pki.fingerprint256.replace(/:/g, '').toLowerCase() });
    const trunk = await api(t, 'GET', `/api/trunks/${trunkId}`);
    assert.equal(trunk.tls_fingerprint, pki.fingerprint256, 'stored in the AA:BB:… form');
    assert.deepEqual(await call('+15550100403'), { sipCode: 200, exitCode: 0, invites: 1 });
    await api(t, 'PUT', `/api/trunks/${trunkId}`, { tls_fingerprint: '00'.repeat(32) });
    assert.deepEqual(await call('+15550100404'), { sipCode: 503, exitCode: 1, invites: 0 });
  });

  test('tls_verify false: any certificate is accepted', async () => {
    await api(t, 'PUT', `/api/trunks/${trunkId}`, { tls_fingerprint: null, tls_verify: false });
    assert.deepEqual(await call('+15550100405'), { sipCode: 200, exitCode: 0, invites: 1 });
  });

  test('bad TLS fields are 400 with the field named, nothing changed', async () => {
    const bad = await t.request('PUT', `/api/trunks/${trunkId}`, { cookie: t.adminCookie, body: { tls_ca: 'not a certificate' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'validation_error');
    assert.deepEqual(bad.body.error.details.map((d: { field: string }) => d.field), ['tls_ca']);
    const pin = await t.request('PUT', `/api/trunks/${trunkId}`, { cookie: t.adminCookie, body: { tls_fingerprint: 'AB:CD' } });
    assert.equal(pin.status, 400);
    assert.equal((await api(t, 'GET', `/api/trunks/${trunkId}`)).tls_verify, false);
  });
});
