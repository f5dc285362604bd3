import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StreamConnection } from '../../../src/sip/transport-stream-connection.ts';
import {
  closedSocket,
  collect,
  hasIPv6Loopback,
  request,
  response,
  startLayer,
  tcpClient,
} from './transport-test-helpers.ts';
import type { Harness } from './transport-test-helpers.ts';

describe('TCP transport (RFC 3261 §18, RFC 5626 §3.5.1)', () => {
  let h: Harness;
  let port: number;
  const sockets: Socket[] = [];
  const client = async (host = '127.0.0.1', p = port): Promise<Socket> => {
    const s = await tcpClient(p, host);
    sockets.push(s);
    return s;
  };

  before(async () => {
    const listen = [{ protocol: 'tcp' as const, address: '127.0.0.1', port: 0 }];
    if (hasIPv6Loopback) listen.push({ protocol: 'tcp' as const, address: '::1', port: 0 });
    h = await startLayer({ listen, maxHeaderBytes: 65_536 });
    port = h.transport('tcp').local.port;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await h.layer.close();
  });

  test('a message split across writes arrives once, whole, with its flow', async () => {
    const s = await client();
    const req = request('INVITE', 'split', 'v=0\r\n');
    s.write(req.subarray(0, 30));
    await sleep(20);
    s.write(req.subarray(30, 80));
    await sleep(20);
    s.write(req.subarray(80));
    const got = await h.messages.next();
    assert.equal(got.text, req.toString('latin1'));
    assert.equal(got.source.protocol, 'tcp');
    assert.equal(got.source.remoteAddress, '127.0.0.1');
    assert.equal(got.source.remotePort, s.localPort);
    assert.equal(got.source.localPort, port);
    assert.equal(typeof got.source.connectionId, 'number');
    assert.equal(h.messages.items.length, 0);
  });

  test('two messages in one write', async () => {
    const s = await client();
    const a = request('OPTIONS', 'two-a');
    const b = request('MESSAGE', 'two-b', 'hello');
    s.write(Buffer.concat([a, b]));
    const first = await h.messages.next();
    const second = await h.messages.next();
    assert.equal(first.text, a.toString('latin1'));
    assert.equal(second.text, b.toString('latin1'));
    assert.equal(first.source, second.source, 'one shared source object per flow');
  });

  test('CRLFCRLF ping is answered with exactly one CRLF pong', async () => {
    const s = await client();
    const rx = collect(s);
    s.write('\r\n\r\n');
    await rx.until('\r\n');
    await sleep(30);
    assert.equal(rx.text(), '\r\n');
    const req = request('OPTIONS', 'after-ping');
    s.write(req);
    assert.equal((await h.messages.next()).text, req.toString('latin1'));
  });

  test('responses go back over the inbound connection, by id and by source address:port (§18.2.2)', async () => {
    const s = await client();
    const rx = collect(s);
    s.write(request('OPTIONS', 'back'));
    const { source } = await h.messages.next();
    const dialed = h.layer.stats().connectionsDialed;
    await h.layer.send({ protocol: 'tcp', address: source.remoteAddress, port: source.remotePort, connectionId: source.connectionId }, response('one'));
    await h.layer.send({ protocol: 'tcp', address: '127.0.0.1', port: source.remotePort }, response('two'));
    await rx.until('Call-ID: two');
    assert.equal(rx.text(), response('one').toString('latin1') + response('two').toString('latin1'));
    assert.equal(h.layer.stats().connectionsDialed, dialed, 'no new connection');
  });

  test('a new outbound connection is opened once and reused; the peer can answer on it', async () => {
    const peer = await rawServer();
    try {
      const target = { protocol: 'tcp' as const, address: '127.0.0.1', port: peer.port };
      const dialed = h.layer.stats().connectionsDialed;
      await Promise.all([h.layer.send(target, request('OPTIONS', 'out-1')), h.layer.send(target, request('OPTIONS', 'out-2'))]);
      await h.layer.send(target, request('OPTIONS', 'out-3'));
      const [conn] = await peer.connections.next();
      const rx = collect(conn);
      await rx.until('Call-ID: out-3');
      assert.equal(peer.count, 1);
      assert.equal(h.layer.stats().connectionsDialed, dialed + 1);
      conn.write(response('out-answer'));
      const got = await h.messages.next();
      assert.equal(got.text, response('out-answer').toString('latin1'));
      assert.equal(got.source.remotePort, peer.port);
      assert.equal(h.layer.connection(got.source.connectionId!)?.outbound, true);
    } finally {
      await peer.close();
    }
  });

  test('dialing a closed port rejects with CONNECT_FAILED', async () => {
    const peer = await rawServer();
    await peer.close();
    await assert.rejects(
      h.layer.send({ protocol: 'tcp', address: '127.0.0.1', port: peer.port }, request('OPTIONS', 'nobody')),
      { code: 'SIP_ERR_TRANSPORT_CONNECT_FAILED' },
    );
  });

  test('10 MB without a blank line: connection closed at the 64 KiB cap, nothing more buffered', async () => {
    const s = await client();
    s.write(request('OPTIONS', 'before-flood'));
    const { source } = await h.messages.next();
    const conn = h.layer.table.get(source.connectionId!) as StreamConnection;
    const closing = h.closed.match((c) => c.id === source.connectionId, 5_000);
    const gone = closedSocket(s, 5_000);
    s.on('error', () => undefined);
    s.write(Buffer.alloc(10 * 1024 * 1024, 'A'));
    const info = await closing;
    await gone;
    assert.equal(info.id, source.connectionId);
    assert.equal(info.reason, 'framing');
    assert.ok(conn.buffered.highWater <= 65_536, `buffered at most ${conn.buffered.highWater} bytes`);
    assert.equal(conn.buffered.bytes, 0);
  });

  test('a message without Content-Length closes the stream (§18.3)', async () => {
    const s = await client();
    const closing = h.closed.match((c) => c.remotePort === s.localPort);
    s.write('OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n');
    await closedSocket(s);
    assert.equal((await closing).reason, 'framing');
  });

  test('peer close is reported with its connection id', async () => {
    const s = await client();
    s.write(request('OPTIONS', 'bye'));
    const { source } = await h.messages.next();
    const closing = h.closed.match((c) => c.id === source.connectionId);
    s.end();
    const info = await closing;
    assert.deepEqual(
      { id: info.id, reason: info.reason, protocol: info.protocol, outbound: info.outbound },
      { id: source.connectionId, reason: 'remote', protocol: 'tcp', outbound: false },
    );
    assert.equal(h.layer.connection(source.connectionId!), undefined);
  });

  test('IPv6: message in and response out over [::1]', { skip: hasIPv6Loopback ? false : 'no ::1' }, async () => {
    const s = await client('::1', h.transport('tcp', 'IPv6').local.port);
    const rx = collect(s);
    s.write(request('OPTIONS', 'v6'));
    const { source } = await h.messages.next();
    assert.equal(source.remoteAddress, '::1');
    assert.equal(source.localAddress, '::1');
    await h.layer.send({ protocol: 'tcp', address: '[0:0::1]', port: source.remotePort }, response('v6'));
    await rx.until('Call-ID: v6');
  });
});

describe('TCP connection management', () => {
  test('idle connections are closed after idleTimeoutMs', async () => {
    const h = await startLayer({ listen: [{ protocol: 'tcp', address: '127.0.0.1', port: 0 }], idleTimeoutMs: 150 });
    const s = await tcpClient(h.transport('tcp').local.port);
    try {
      s.write(request('OPTIONS', 'idle'));
      const { source } = await h.messages.next();
      const started = Date.now();
      const info = await h.closed.next(2_000);
      await closedSocket(s);
      const waited = Date.now() - started;
      assert.equal(info.id, source.connectionId);
      assert.equal(info.reason, 'idle');
      assert.ok(waited >= 100 && waited < 1_000, `closed after ${waited} ms`);
    } finally {
      s.destroy();
      await h.layer.close();
    }
  });

  test('an idle-exempt flow stays open', async () => {
    const h = await startLayer({ listen: [{ protocol: 'tcp', address: '127.0.0.1', port: 0 }], idleTimeoutMs: 80 });
    const s = await tcpClient(h.transport('tcp').local.port);
    try {
      s.write(request('REGISTER', 'exempt'));
      const { source } = await h.messages.next();
      assert.equal(h.layer.setIdleExempt(source.connectionId!, true), true);
      await sleep(300);
      assert.equal(h.closed.items.length, 0);
      assert.equal(s.destroyed, false);
    } finally {
      s.destroy();
      await h.layer.close();
    }
  });

  test('per-IP connection limit: the third connection from 127.0.0.1 is refused', async () => {
    const h = await startLayer({ listen: [{ protocol: 'tcp', address: '127.0.0.1', port: 0 }], maxConnectionsPerIp: 2 });
    const port = h.transport('tcp').local.port;
    const open: Socket[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const s = await tcpClient(port);
        open.push(s);
        s.write(request('OPTIONS', `limit-${i}`));
        await h.messages.next();
      }
      const third = await tcpClient(port);
      open.push(third);
      await closedSocket(third);
      const stats = h.layer.stats();
      assert.equal(stats.connectionsRejected, 1);
      assert.equal(stats.connections, 2);
      // The refused one does not count; once a slot frees, a new connection is accepted.
      open[0].destroy();
      await h.closed.next();
      const fourth = await tcpClient(port);
      open.push(fourth);
      fourth.write(request('OPTIONS', 'limit-after'));
      assert.match((await h.messages.next()).text, /Call-ID: limit-after/);
      await assert.rejects(
        h.layer.send({ protocol: 'tcp', address: '127.0.0.1', port: 9 }, request('OPTIONS', 'dial-over-limit')),
        { code: 'SIP_ERR_TRANSPORT_LIMIT_REACHED' },
      );
    } finally {
      for (const s of open) s.destroy();
      await h.layer.close();
    }
  });

  test('start fails (and releases what it bound) when a port is taken', async () => {
    const first = await startLayer({ listen: [{ protocol: 'tcp', address: '127.0.0.1', port: 0 }] });
    const taken = first.transport('tcp').local.port;
    const { TransportLayer } = await import('../../../src/sip/transport-layer.ts');
    const second = new TransportLayer({
      listen: [
        { protocol: 'udp', address: '127.0.0.1', port: 0 },
        { protocol: 'tcp', address: '127.0.0.1', port: taken },
      ],
    });
    await assert.rejects(second.start(), { code: 'EADDRINUSE' });
    assert.equal(second.transports.length, 1);
    await assert.rejects(second.send({ protocol: 'udp', address: '127.0.0.1', port: 9 }, Buffer.from('x')), {
      code: 'SIP_ERR_TRANSPORT_CLOSED',
    });
    await first.layer.close();
  });

  test('send after close rejects with CLOSED', async () => {
    const h = await startLayer({ listen: [{ protocol: 'tcp', address: '127.0.0.1', port: 0 }] });
    await h.layer.close();
    await assert.rejects(h.layer.send({ protocol: 'tcp', address: '127.0.0.1', port: 9 }, Buffer.from('x')), {
      code: 'SIP_ERR_TRANSPORT_CLOSED',
    });
  });
});

/** A plain TCP server standing in for a remote SIP peer. */
async function rawServer(): Promise<{
  port: number;
  count: number;
  connections: { next(): Promise<[Socket]> };
  close(): Promise<void>;
}> {
  const waiting: Socket[] = [];
  const waiters: Array<(s: Socket) => void> = [];
  const all: Socket[] = [];
  const server: Server = createServer((s) => {
    all.push(s);
    result.count++;
    const w = waiters.shift();
    if (w) w(s);
    else waiting.push(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  const result = {
    port: address.port,
    count: 0,
    connections: {
      next: (): Promise<[Socket]> => {
        const s = waiting.shift();
        return s ? Promise.resolve([s]) : new Promise((resolve) => waiters.push((x) => resolve([x])));
      },
    },
    close: async (): Promise<void> => {
      for (const s of all) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return result;
}
