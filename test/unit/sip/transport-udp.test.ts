import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { once } from 'node:events';
import { hasIPv6Loopback, Inbox, request, response, startLayer } from './transport-test-helpers.ts';
import type { Harness } from './transport-test-helpers.ts';
import { SipTransportError } from '../../../src/sip/transport-errors.ts';
import { replyTarget } from '../../../src/sip/transport-layer.ts';

async function udpPeer(type: 'udp4' | 'udp6', address: string): Promise<{ socket: Socket; inbox: Inbox<Buffer>; port: number }> {
  const socket = createSocket(type);
  const inbox = new Inbox<Buffer>();
  socket.on('message', (msg) => inbox.push(msg));
  socket.bind(0, address);
  await once(socket, 'listening');
  return { socket, inbox, port: socket.address().port };
}

describe('UDP transport (RFC 3261 §18)', () => {
  let h: Harness;
  const listen = [{ protocol: 'udp' as const, address: '127.0.0.1', port: 0 }];
  if (hasIPv6Loopback) listen.push({ protocol: 'udp' as const, address: '::1', port: 0 });

  before(async () => {
    h = await startLayer({ listen, maxDatagramBytes: 1_000 });
  });
  after(() => h.layer.close());

  for (const [family, type, address] of [
    ['IPv4', 'udp4', '127.0.0.1'],
    ['IPv6', 'udp6', '::1'],
  ] as const) {
    test(`echo through the layer over ${family}`, { skip: family === 'IPv6' && !hasIPv6Loopback ? 'no ::1' : false }, async () => {
      const peer = await udpPeer(type, address);
      try {
        const local = h.transport('udp', family).local;
        const req = request('OPTIONS', `udp-${family}`);
        peer.socket.send(req, local.port, address);
        const got = await h.messages.next();
        assert.equal(got.text, req.toString('latin1'));
        assert.deepEqual(got.source, {
          protocol: 'udp',
          remoteAddress: address,
          remotePort: peer.port,
          localAddress: address,
          localPort: local.port,
        });
        // §18.2.2: the response goes to the source address and port of the request.
        const res = response(`udp-${family}`);
        await h.layer.send(replyTarget(got.source), res);
        assert.deepEqual(await peer.inbox.next(), res);
      } finally {
        peer.socket.close();
      }
    });
  }

  test('oversized and CRLF-only datagrams are dropped; leading CRLFs are skipped', async () => {
    const peer = await udpPeer('udp4', '127.0.0.1');
    try {
      const port = h.transport('udp').local.port;
      const before = h.layer.stats().datagramsDropped;
      peer.socket.send(request('MESSAGE', 'big', 'x'.repeat(1_000)), port, '127.0.0.1');
      peer.socket.send(Buffer.from('\r\n\r\n'), port, '127.0.0.1');
      const small = request('OPTIONS', 'small');
      peer.socket.send(Buffer.concat([Buffer.from('\r\n'), small]), port, '127.0.0.1');
      const got = await h.messages.next();
      assert.equal(got.text, small.toString('latin1'));
      assert.equal(h.layer.stats().datagramsDropped - before, 2);
    } finally {
      peer.socket.close();
    }
  });

  test('send rejects a datagram above maxDatagramBytes and a non-IP target', async () => {
    await assert.rejects(
      h.layer.send({ protocol: 'udp', address: '127.0.0.1', port: 9 }, Buffer.alloc(1_001)),
      (err: SipTransportError) => err.code === 'SIP_ERR_TRANSPORT_MESSAGE_TOO_LARGE' && err.sipStatus === 503,
    );
    await assert.rejects(
      h.layer.send({ protocol: 'udp', address: 'example.com', port: 5060 }, Buffer.from('x')),
      { code: 'SIP_ERR_TRANSPORT_INVALID_TARGET' },
    );
    await assert.rejects(
      h.layer.send({ protocol: 'ws', address: '127.0.0.1', port: 5060 }, Buffer.from('x')),
      { code: 'SIP_ERR_TRANSPORT_UNSUPPORTED' },
    );
  });
});

describe('UDP transport on the dgram API (STROWGER_SIP_DIRECT_UDP=0)', () => {
  test('the same bytes in and out, the same source', async () => {
    const h = await startLayer({ listen: [{ protocol: 'udp', address: '127.0.0.1', port: 0 }], directUdp: false });
    const peer = await udpPeer('udp4', '127.0.0.1');
    try {
      const local = h.transport('udp', 'IPv4').local;
      const req = request('OPTIONS', 'udp-dgram');
      peer.socket.send(req, local.port, '127.0.0.1');
      const got = await h.messages.next();
      assert.equal(got.text, req.toString('latin1'));
      assert.equal(got.source.remotePort, peer.port);
      const res = response('udp-dgram');
      await h.layer.send(replyTarget(got.source), res);
      assert.deepEqual(await peer.inbox.next(), res);
    } finally {
      peer.socket.close();
      await h.layer.close();
    }
  });
});
