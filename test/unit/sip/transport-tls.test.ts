import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { CERT_FILE, KEY_FILE, loadOrCreateSelfSignedCert } from '../../../src/sip/tls-self-signed.ts';
import type { CertificatePair } from '../../../src/sip/tls-self-signed.ts';
import { TransportLayer } from '../../../src/sip/transport-layer.ts';
import { collect, hasIPv6Loopback, request, response, startLayer } from './transport-test-helpers.ts';
import type { Harness } from './transport-test-helpers.ts';

describe('self-signed certificate (tls-self-signed.ts)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strowger-tls-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('generated once, persisted, then loaded unchanged', async () => {
    const first = await loadOrCreateSelfSignedCert({ dir, keyType: 'ec' });
    assert.equal(first.created, true);
    assert.equal(await readFile(join(dir, CERT_FILE), 'utf8'), first.cert);
    assert.equal((await stat(join(dir, KEY_FILE))).mode & 0o777, 0o600);
    const second = await loadOrCreateSelfSignedCert({ dir, keyType: 'ec' });
    assert.equal(second.created, false);
    assert.equal(second.cert, first.cert);
    assert.equal(second.key, first.key);
    assert.match(second.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  test('regenerated when close to expiry', async () => {
    const current = await loadOrCreateSelfSignedCert({ dir, keyType: 'ec' });
    const later = await loadOrCreateSelfSignedCert({
      dir,
      keyType: 'ec',
      now: () => new Date(Date.now() + 824 * 86_400_000),
    });
    assert.equal(later.created, true);
    assert.notEqual(later.cert, current.cert);
  });
});

describe('TLS transport (RFC 3261 §18, §26.2.1)', () => {
  let dir: string;
  let pair: CertificatePair;
  let h: Harness;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strowger-tls-'));
    pair = await loadOrCreateSelfSignedCert({ dir, keyType: 'ec' });
    const listen = [{ protocol: 'tls' as const, address: '127.0.0.1', port: 0 }];
    if (hasIPv6Loopback) listen.push({ protocol: 'tls' as const, address: '::1', port: 0 });
    h = await startLayer({ listen, tls: { cert: pair.cert, key: pair.key } });
  });
  after(async () => {
    await h.layer.close();
    await rm(dir, { recursive: true, force: true });
  });

  for (const [family, host] of [
    ['IPv4', '127.0.0.1'],
    ['IPv6', '::1'],
  ] as const) {
    test(`a TLS client trusting the self-signed cert talks SIP over ${family}`, { skip: family === 'IPv6' && !hasIPv6Loopback ? 'no ::1' : false }, async () => {
      const port = h.transport('tls', family).local.port;
      const socket = connect({ host, port, ca: pair.cert });
      await once(socket, 'secureConnect');
      try {
        assert.equal(socket.authorized, true);
        const rx = collect(socket);
        const req = request('REGISTER', `tls-${family}`);
        socket.write(req.subarray(0, 10));
        socket.write(req.subarray(10));
        const got = await h.messages.next();
        assert.equal(got.text, req.toString('latin1'));
        assert.equal(got.source.protocol, 'tls');
        assert.equal(got.source.remoteAddress, host);
        await h.layer.send(
          { protocol: 'tls', address: host, port: got.source.remotePort, connectionId: got.source.connectionId },
          response(`tls-${family}`),
        );
        await rx.until(`Call-ID: tls-${family}`);
        socket.write('\r\n\r\n');
        await rx.until('Content-Length: 0\r\n\r\n\r\n');
      } finally {
        socket.destroy();
      }
    });
  }

  test('outbound TLS: verified against a trusted CA, refused when the peer is not trusted', async () => {
    const trusting = new TransportLayer({ listen: [], tls: { ca: pair.cert } });
    const strict = new TransportLayer({ listen: [] });
    const lax = new TransportLayer({ listen: [], tls: { verifyPeer: false } });
    await Promise.all([trusting.start(), strict.start(), lax.start()]);
    try {
      const port = h.transport('tls').local.port;
      const target = { protocol: 'tls' as const, address: '127.0.0.1', port };
      await trusting.send(target, request('OPTIONS', 'tls-out-1'));
      assert.match((await h.messages.next()).text, /Call-ID: tls-out-1/);
      await lax.send(target, request('OPTIONS', 'tls-out-2'));
      assert.match((await h.messages.next()).text, /Call-ID: tls-out-2/);
      await assert.rejects(strict.send(target, request('OPTIONS', 'tls-out-3')), (err: Error & { code: string; cause?: unknown }) => {
        assert.equal(err.code, 'SIP_ERR_TRANSPORT_CONNECT_FAILED');
        assert.match(String((err.cause as Error)?.message), /self.signed|unable to verify/i);
        return true;
      });
      assert.equal(h.messages.items.length, 0);
    } finally {
      await Promise.all([trusting.close(), strict.close(), lax.close()]);
    }
  });
});
