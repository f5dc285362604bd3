/**
 * Issue 12: SNI on our TLS and WSS listeners (STROWGER_SIP_TLS_CERTS). A client naming a host
 * of an extra certificate gets that certificate; no name or an unknown name gets the default.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateSelfSignedCert } from '../../../src/sip/tls-self-signed.ts';
import { makeTestPki, type TestPki } from '../../helpers/tls-sip-server.ts';
import { startLayer, type Harness } from './transport-test-helpers.ts';

/** The SHA-256 fingerprint of the certificate the listener presents for `servername`. */
async function presented(port: number, servername: string | undefined): Promise<string> {
  const socket = connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false });
  await once(socket, 'secureConnect');
  const fp = socket.getPeerCertificate().fingerprint256;
  socket.destroy();
  return fp;
}

describe('TLS listener SNI', () => {
  let h: Harness;
  let dir: string;
  let byDefault: string;
  let pbx2: TestPki;
  let pbx3: TestPki;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strowger-sni-'));
    const pair = await loadOrCreateSelfSignedCert({ dir, keyType: 'ec' });
    byDefault = new X509Certificate(pair.cert).fingerprint256;
    pbx2 = makeTestPki('pbx2.example.com');
    pbx3 = makeTestPki('pbx3.example.com');
    h = await startLayer({
      listen: [{ protocol: 'tls', address: '127.0.0.1', port: 0 }, { protocol: 'wss', address: '127.0.0.1', port: 0 }],
      tls: { cert: pair.cert, key: pair.key, sniCerts: [pbx2, pbx3] },
    });
  });
  after(async () => {
    await h.layer.close();
    await rm(dir, { recursive: true, force: true });
  });

  for (const protocol of ['tls', 'wss'] as const) {
    test(`${protocol}: the certificate follows the SNI name`, async () => {
      const port = h.transport(protocol).local.port;
      assert.equal(await presented(port, 'pbx2.example.com'), pbx2.fingerprint256);
      assert.equal(await presented(port, 'PBX3.example.com'), pbx3.fingerprint256);
      assert.equal(await presented(port, 'other.example.com'), byDefault);
      assert.equal(await presented(port, undefined), byDefault);
    });
  }
});
