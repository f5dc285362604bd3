import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeTimers } from '../../../src/sip/timers.ts';
import { canonicalAddress, socketAddress } from '../../../src/sip/transport-address.ts';
import { ConnectionTable } from '../../../src/sip/transport-connection-table.ts';
import { TransportLayer } from '../../../src/sip/transport-layer.ts';
import type { ClosedConnectionInfo } from '../../../src/sip/transport-layer.ts';
import type { CloseReason, SipConnection, StreamProtocol } from '../../../src/sip/transport-types.ts';

/** A connection double: records close() and reports it like a real one would. */
class FakeConnection implements SipConnection {
  readonly outbound = false;
  readonly localAddress = '127.0.0.1';
  readonly localPort = 5060;
  idleExempt = false;
  closed = false;
  closedWith: CloseReason | null = null;
  readonly sent: Buffer[] = [];
  constructor(
    readonly id: number,
    readonly remoteAddress: string,
    readonly remotePort: number,
    public lastActivity = 0,
    readonly protocol: StreamProtocol = 'tcp',
    private readonly onClose: (c: FakeConnection) => void = () => undefined,
  ) {}
  send(data: Buffer): Promise<void> {
    this.sent.push(data);
    return Promise.resolve();
  }
  close(reason: CloseReason): void {
    if (this.closed) return;
    this.closed = true;
    this.closedWith = reason;
    this.onClose(this);
  }
}

describe('ConnectionTable', () => {
  test('global and per-IP limits count reserved and open connections', () => {
    const table = new ConnectionTable({ maxConnections: 3, maxConnectionsPerIp: 2 });
    const a1 = table.admit('10.0.0.1');
    const a2 = table.admit('10.0.0.1');
    assert.deepEqual([a1 > 0, a2 > 0, a1 !== a2], [true, true, true]);
    assert.equal(table.admit('10.0.0.1'), 0, 'per-IP limit');
    const b1 = table.admit('10.0.0.2');
    assert.ok(b1 > 0);
    assert.equal(table.admit('10.0.0.3'), 0, 'global limit');
    table.release(a2);
    assert.equal(table.countForIp('10.0.0.1'), 1);
    const conn = new FakeConnection(a1, '10.0.0.1', 40_000);
    table.add(conn);
    assert.equal(table.size, 2);
    assert.equal(table.remove(conn), true);
    assert.equal(table.remove(conn), false);
    assert.equal(table.countForIp('10.0.0.1'), 0);
    assert.equal(table.size, 1);
  });

  test('find returns the newest live connection for (protocol, address, port)', () => {
    const table = new ConnectionTable();
    const older = new FakeConnection(table.admit('::1'), '::1', 5060);
    const newer = new FakeConnection(table.admit('::1'), '::1', 5060);
    const ws = new FakeConnection(table.admit('::1'), '::1', 5060, 0, 'ws');
    table.add(older);
    table.add(newer);
    table.add(ws);
    assert.equal(table.find('tcp', '::1', 5060), newer);
    assert.equal(table.find('ws', '::1', 5060), ws);
    assert.equal(table.find('tls', '::1', 5060), undefined);
    newer.closed = true;
    assert.equal(table.find('tcp', '::1', 5060), older);
    assert.equal(table.get(older.id), older);
  });

  test('idle lists connections at or past the cutoff, skipping exempt ones', () => {
    const table = new ConnectionTable();
    const quiet = new FakeConnection(table.admit('a'), 'a', 1, 1_000);
    const busy = new FakeConnection(table.admit('b'), 'b', 1, 5_000);
    const exempt = new FakeConnection(table.admit('c'), 'c', 1, 0);
    exempt.idleExempt = true;
    for (const c of [quiet, busy, exempt]) table.add(c);
    assert.deepEqual(table.idle(6_000, 5_000), [quiet]);
  });
});

describe('TransportLayer idle sweep with an injected clock', () => {
  test('closes a connection idleTimeoutMs after its last activity and reports it', async () => {
    const timers = new FakeTimers(0);
    const closed: ClosedConnectionInfo[] = [];
    const layer = new TransportLayer({ listen: [], timers, idleTimeoutMs: 60_000, onConnectionClosed: (_id, info) => closed.push(info) });
    await layer.start();
    const conn = new FakeConnection(layer.table.admit('192.0.2.9'), '192.0.2.9', 5062, timers.now(), 'tcp', (c) =>
      layer.connectionClosed(c, c.closedWith!),
    );
    layer.table.add(conn);
    timers.advance(30_000);
    conn.lastActivity = timers.now(); // traffic at t=30 s
    timers.advance(59_000);
    assert.equal(conn.closed, false);
    timers.advance(6_000); // sweeps run every 5 s (idle/4 capped at 5 s)
    assert.equal(conn.closedWith, 'idle');
    assert.deepEqual(closed.map((c) => [c.id, c.reason, c.remoteAddress, c.remotePort]), [[conn.id, 'idle', '192.0.2.9', 5062]]);
    assert.equal(layer.stats().connections, 0);
    await layer.close();
    assert.equal(timers.size, 0, 'no sweep left scheduled');
  });

  test('send uses connectionId first and falls back to the address when that flow is gone', async () => {
    const layer = new TransportLayer({ listen: [], timers: new FakeTimers(0) });
    await layer.start();
    const flow = new FakeConnection(layer.table.admit('192.0.2.1'), '192.0.2.1', 5070, 0, 'ws');
    const other = new FakeConnection(layer.table.admit('192.0.2.1'), '192.0.2.1', 5071, 0, 'ws');
    layer.table.add(flow);
    layer.table.add(other);
    await layer.send({ protocol: 'ws', address: '192.0.2.1', port: 5071, connectionId: flow.id }, Buffer.from('a'));
    assert.deepEqual(flow.sent.map(String), ['a']);
    flow.closed = true;
    // The dead flow is skipped; the open connection from the same address:port takes over (§18.2.2).
    await layer.send({ protocol: 'ws', address: '192.0.2.1', port: 5071, connectionId: flow.id }, Buffer.from('b'));
    assert.deepEqual(other.sent.map(String), ['b']);
    other.closed = true;
    // No live flow and WS cannot be dialed; without a WS listener the protocol is unsupported.
    await assert.rejects(
      layer.send({ protocol: 'ws', address: '192.0.2.1', port: 5071 }, Buffer.from('c')),
      { code: 'SIP_ERR_TRANSPORT_UNSUPPORTED' },
    );
    await layer.close();
  });
});

describe('address canonicalisation (connection keys)', () => {
  const cases: Array<[string, string]> = [
    ['127.0.0.1', '127.0.0.1'],
    ['[::1]', '::1'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['FD00:0::2', 'fd00::2'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['[::FFFF:192.0.2.1]', '192.0.2.1'],
    ['example.com', ''],
    ['', ''],
  ];
  for (const [input, expected] of cases) {
    test(`${JSON.stringify(input)} -> ${JSON.stringify(expected)}`, () => {
      assert.equal(canonicalAddress(input), expected);
    });
  }
  test('socket addresses only lose the IPv4-mapped prefix', () => {
    assert.equal(socketAddress('::ffff:127.0.0.1'), '127.0.0.1');
    assert.equal(socketAddress('::1'), '::1');
    assert.equal(socketAddress(undefined), '');
  });
});
