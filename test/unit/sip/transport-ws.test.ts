import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { loadOrCreateSelfSignedCert } from '../../../src/sip/tls-self-signed.ts';
import { offersSip } from '../../../src/sip/transport-ws.ts';
import { hasIPv6Loopback, Inbox, request, response, startLayer } from './transport-test-helpers.ts';
import type { Harness } from './transport-test-helpers.ts';

interface WsPeer {
  ws: WebSocket;
  inbox: Inbox<{ text: string; binary: boolean }>;
}

async function wsPeer(url: string, protocols: string[] = ['sip'], options: { ca?: string } = {}): Promise<WsPeer> {
  const ws = new WebSocket(url, protocols, { ca: options.ca });
  const inbox = new Inbox<{ text: string; binary: boolean }>();
  ws.on('message', (data: Buffer, binary: boolean) => inbox.push({ text: data.toString('latin1'), binary }));
  await once(ws, 'open');
  return { ws, inbox };
}

describe('WebSocket transport (RFC 7118)', () => {
  let h: Harness;
  let dir: string;
  let ca: string;
  const peers: WebSocket[] = [];
  const url = (protocol: 'ws' | 'wss', family: 'IPv4' | 'IPv6' = 'IPv4'): string => {
    const host = family === 'IPv4' ? '127.0.0.1' : '[::1]';
    return `${protocol}://${host}:${h.transport(protocol, family).local.port}/`;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strowger-wss-'));
    const pair = await loadOrCreateSelfSignedCert({ dir, keyType: 'ec' });
    ca = pair.cert;
    const listen = [
      { protocol: 'ws' as const, address: '127.0.0.1', port: 0 },
      { protocol: 'wss' as const, address: '127.0.0.1', port: 0 },
    ];
    if (hasIPv6Loopback) listen.push({ protocol: 'ws' as const, address: '::1', port: 0 });
    h = await startLayer({ listen, tls: { cert: pair.cert, key: pair.key }, wsMaxPayloadBytes: 4_096 });
  });
  after(async () => {
    for (const ws of peers) ws.terminate();
    await h.layer.close();
    await rm(dir, { recursive: true, force: true });
  });

  for (const [protocol, family] of [
    ['ws', 'IPv4'],
    ['wss', 'IPv4'],
    ['ws', 'IPv6'],
  ] as const) {
    test(`${protocol} over ${family}: one WS message = one SIP message, answer on the same connection`, {
      skip: family === 'IPv6' && !hasIPv6Loopback ? 'no ::1' : false,
    }, async () => {
      const peer = await wsPeer(url(protocol, family), ['sip'], { ca });
      peers.push(peer.ws);
      assert.equal(peer.ws.protocol, 'sip');
      const req = request('REGISTER', `${protocol}-${family}`);
      peer.ws.send(req.toString('latin1'));
      const got = await h.messages.next();
      assert.equal(got.text, req.toString('latin1'));
      assert.equal(got.source.protocol, protocol);
      assert.equal(got.source.remoteAddress, family === 'IPv4' ? '127.0.0.1' : '::1');
      assert.equal(typeof got.source.connectionId, 'number');
      // Without connectionId the peer's source address:port finds the flow.
      await h.layer.send({ protocol, address: got.source.remoteAddress, port: got.source.remotePort }, response(protocol));
      assert.deepEqual(await peer.inbox.next(), { text: response(protocol).toString('latin1'), binary: false });
    });
  }

  test('a handshake without subprotocol "sip" is refused with 400', async () => {
    for (const protocols of [['chat'], []]) {
      const ws = new WebSocket(url('ws'), protocols);
      ws.on('error', () => undefined);
      const [, res] = (await once(ws, 'unexpected-response')) as [unknown, { statusCode: number; resume(): void }];
      res.resume();
      assert.equal(res.statusCode, 400, JSON.stringify(protocols));
    }
    assert.equal(h.layer.stats().connections, peers.filter((p) => p.readyState === WebSocket.OPEN).length);
  });

  test('a plain HTTP request gets 426 Upgrade Required', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(url('ws').replace('ws:', 'http:'), (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 426);
  });

  test('binary frames are accepted; non-UTF-8 messages go out binary (§5.1)', async () => {
    const peer = await wsPeer(url('ws'));
    peers.push(peer.ws);
    const req = request('MESSAGE', 'bin', '\u00ff\u00fe');
    peer.ws.send(req, { binary: true });
    const got = await h.messages.next();
    assert.equal(got.text, req.toString('latin1'));
    await h.layer.send({ protocol: 'ws', address: '127.0.0.1', port: got.source.remotePort, connectionId: got.source.connectionId }, req);
    assert.deepEqual(await peer.inbox.next(), { text: req.toString('latin1'), binary: true });
  });

  test('a CRLFCRLF keep-alive message is answered with CRLF and not delivered', async () => {
    const peer = await wsPeer(url('ws'));
    peers.push(peer.ws);
    peer.ws.send('\r\n\r\n');
    assert.deepEqual(await peer.inbox.next(), { text: '\r\n', binary: false });
    assert.equal(h.messages.items.length, 0);
  });

  test('a message above maxPayload closes the connection (1009)', async () => {
    const peer = await wsPeer(url('ws'));
    const closing = h.closed.match((c) => c.protocol === 'ws' && c.remotePort === (peer.ws as unknown as { _socket: { localPort: number } })._socket.localPort);
    peer.ws.send(request('MESSAGE', 'huge', 'x'.repeat(5_000)));
    const [code] = (await once(peer.ws, 'close')) as [number];
    assert.equal(code, 1009);
    await closing;
    assert.equal(h.messages.items.length, 0);
  });

  test('a WS peer without a connection cannot be dialed', async () => {
    await assert.rejects(h.layer.send({ protocol: 'ws', address: '127.0.0.1', port: 1 }, response('nobody')), {
      code: 'SIP_ERR_TRANSPORT_NO_CONNECTION',
    });
  });

  test('closing the peer reports the flow closed', async () => {
    const peer = await wsPeer(url('ws'));
    peer.ws.send(request('OPTIONS', 'ws-bye').toString());
    const { source } = await h.messages.next();
    const closing = h.closed.match((c) => c.id === source.connectionId);
    peer.ws.close();
    assert.equal((await closing).reason, 'remote');
  });
});

describe('WS keep-alive and offersSip', () => {
  test('a peer that stops answering pings is dropped', async () => {
    const h = await startLayer({ listen: [{ protocol: 'ws', address: '127.0.0.1', port: 0 }], wsPingIntervalMs: 50 });
    const ws = new WebSocket(`ws://127.0.0.1:${h.transport('ws').local.port}/`, ['sip'], { autoPong: false });
    try {
      await once(ws, 'open');
      const info = await h.closed.next(2_000);
      assert.equal(info.reason, 'keepalive');
    } finally {
      ws.terminate();
      await h.layer.close();
    }
  });

  test('offersSip parses the Sec-WebSocket-Protocol list', () => {
    assert.equal(offersSip('sip'), true);
    assert.equal(offersSip('chat, sip'), true);
    assert.equal(offersSip(['chat', 'sip']), true);
    assert.equal(offersSip('sips'), false);
    assert.equal(offersSip('SIP'), false);
    assert.equal(offersSip(undefined), false);
  });
});
