import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { directSender, onDatagram, usingDirectUdp } from '../../../src/net/udp-direct.ts';
import { ipv6Available } from '../../helpers/ipv6.ts';

async function bound(type: 'udp4' | 'udp6', address: string): Promise<dgram.Socket> {
  const s = dgram.createSocket({ type, recvBufferSize: 1 << 20 });
  s.bind(0, address);
  await once(s, 'listening');
  return s;
}

/** Sends `count` distinct datagrams a -> b through the direct path; what b got, in order. */
async function roundTrip(type: 'udp4' | 'udp6', address: string, count: number): Promise<{ got: { msg: Buffer; address: string; port: number }[]; from: number }> {
  const a = await bound(type, address);
  const b = await bound(type, address);
  const got: { msg: Buffer; address: string; port: number }[] = [];
  const all = new Promise<void>((resolve) => {
    onDatagram(b, (msg, from, port) => {
      got.push({ msg, address: from, port });
      if (got.length === count) resolve();
    });
  });
  const send = directSender(a);
  for (let i = 0; i < count; i++) {
    const msg = Buffer.alloc(172, i & 0xff);
    msg.writeUInt32BE(i, 0);
    // A view into a larger buffer: the offset must be honoured.
    send(i % 2 === 0 ? msg : Buffer.concat([Buffer.alloc(5), msg]).subarray(5), b.address().port, address);
  }
  await all;
  const from = a.address().port;
  a.close();
  b.close();
  return { got, from };
}

describe('udp-direct', () => {
  test('datagrams sent through the handle arrive intact, in order, with the sender address', async () => {
    const { got, from } = await roundTrip('udp4', '127.0.0.1', 300);
    assert.equal(usingDirectUdp(), true, 'this Node exposes the handle: the fast path must be the one tested');
    assert.equal(got.length, 300);
    got.forEach((g, i) => {
      assert.equal(g.msg.length, 172);
      assert.equal(g.msg.readUInt32BE(0), i);
      assert.equal(g.msg[171], i & 0xff);
      assert.equal(g.address, '127.0.0.1');
      assert.equal(g.port, from);
    });
  });

  test('IPv6 sockets send through send6', async (t) => {
    if (!(await ipv6Available())) return t.skip('no IPv6 loopback');
    const { got, from } = await roundTrip('udp6', '::1', 20);
    assert.equal(got.length, 20);
    assert.equal(got[19].msg.readUInt32BE(0), 19);
    assert.equal(got[0].address, '::1');
    assert.equal(got[0].port, from);
  });

  test('a closed socket sends nothing and does not throw', async () => {
    const a = await bound('udp4', '127.0.0.1');
    const send = directSender(a);
    a.close();
    await once(a, 'close');
    assert.doesNotThrow(() => send(Buffer.alloc(12), 9, '127.0.0.1'));
  });

  test('receive errors still reach the socket as error events', async () => {
    const b = await bound('udp4', '127.0.0.1');
    onDatagram(b, () => assert.fail('no datagram expected'));
    const state = Object.getOwnPropertySymbols(b).find((s) => s.description === 'state symbol')!;
    const handle = (b as unknown as Record<symbol, { handle: { onmessage(n: number, h: unknown, buf: unknown, r: unknown): void } }>)[state].handle;
    const error = once(b, 'error');
    handle.onmessage(-104, handle, undefined, undefined); // ECONNRESET, as libuv reports it
    const [err] = (await error) as [NodeJS.ErrnoException];
    assert.equal(err.syscall, 'recvmsg');
    b.close();
  });

  test('disabled (STROWGER_MEDIA_DIRECT_UDP=0 / STROWGER_SIP_DIRECT_UDP=0): the dgram API, same datagrams', async () => {
    const a = await bound('udp4', '127.0.0.1');
    const b = await bound('udp4', '127.0.0.1');
    const state = Object.getOwnPropertySymbols(b).find((s) => s.description === 'state symbol')!;
    const handle = (b as unknown as Record<symbol, { handle: { onmessage: unknown } }>)[state].handle;
    const before = handle.onmessage;
    const got = new Promise<[string, string, number]>((resolve) => onDatagram(b, (msg, address, port) => resolve([msg.toString(), address, port]), false));
    assert.equal(handle.onmessage, before, 'the handle is left to dgram');
    assert.equal(directSender(a, false)(Buffer.from('hello'), b.address().port, '127.0.0.1'), 0);
    assert.deepEqual(await got, ['hello', '127.0.0.1', a.address().port]);
    a.close();
    b.close();
  });

  test('a send the kernel refuses answers its negative errno', async () => {
    const a = await bound('udp4', '127.0.0.1');
    // Port 0 is no destination: sendmsg fails at once (EINVAL) instead of queueing.
    assert.ok(directSender(a)(Buffer.from('x'), 0, '127.0.0.1') < 0);
    a.close();
  });
});
