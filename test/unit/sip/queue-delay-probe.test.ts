/**
 * The queue-delay probe of overload control: pings sent through a real UDP SIP transport's
 * socket, consumed before the SIP layer, and the delay of a queue we build on purpose by
 * keeping the event loop busy while datagrams arrive.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { UdpTransport } from '../../../src/sip/transport-udp.ts';
import type { TransportContext } from '../../../src/sip/transport-types.ts';
import { PING_BYTES } from '../../../src/sip/queue-delay-probe.ts';
import { eventLoopProbe } from '../../../src/sip/overload-probe.ts';

function context(delivered: Buffer[]): TransportContext {
  return {
    limits: { maxDatagramBytes: 65_535 },
    counters: { messagesIn: 0, messagesOut: 0, datagramsDropped: 0 },
    deliver: (data: Buffer) => delivered.push(Buffer.from(data)),
  } as unknown as TransportContext;
}

function block(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) { /* the loop is busy: datagrams wait in the kernel */ }
}

describe('QueueDelayProbe', () => {
  test('pings come back through the SIP socket, are not delivered as SIP, and measure the wait', async () => {
    const delivered: Buffer[] = [];
    const udp = await UdpTransport.bind('0.0.0.0', 0, context(delivered));
    try {
      const probe = await udp.queueDelayProbe();
      assert.ok(probe !== null);
      assert.equal(await udp.queueDelayProbe(), probe, 'one probe per socket');
      assert.equal(probe.sample(), 0, 'nothing sent yet');
      probe.send();
      await sleep(50);
      const quiet = probe.sample();
      assert.ok(quiet > 0 && quiet < 20, `idle socket: ${quiet} ms`);
      assert.equal(delivered.length, 0, 'a ping never reaches the SIP layer');

      // A queue: the ping is sent, then the loop is busy for 150 ms before it can read it.
      probe.send();
      block(150);
      await sleep(30);
      const queued = probe.sample();
      assert.ok(queued >= 140 && queued < 400, `busy loop: ${queued} ms`);
      assert.equal(probe.sample(), 0, 'a sample covers the time since the previous one');

      // A ping still out counts with its age: the socket is not read during the block.
      probe.send();
      block(120);
      const outstanding = probe.sample();
      assert.ok(outstanding >= 110, `still out: ${outstanding} ms`);
      await sleep(20);
      assert.equal(delivered.length, 0);
      await udp.close();
      probe.send(); // closed with its transport: a tick after that sends nothing and throws nothing
      probe.close();
    } finally {
      await udp.close().catch(() => undefined);
    }
  });

  test('a datagram from elsewhere that looks like a ping is SIP input as usual', async () => {
    const delivered: Buffer[] = [];
    const udp = await UdpTransport.bind('127.0.0.1', 0, context(delivered));
    const other = createSocket('udp4');
    try {
      await udp.queueDelayProbe();
      await new Promise<void>((resolve) => other.send(Buffer.alloc(PING_BYTES, 0x41), udp.local.port, '127.0.0.1', () => resolve()));
      await sleep(50);
      assert.equal(delivered.length, 1, 'not from the probe: handed on (and refused there, as any 12 octets would be)');
    } finally {
      other.close();
      await udp.close();
    }
  });

  test('riding on the lag ticker: a ping each tick, measured; none once the ticker stops', async () => {
    const udp = await UdpTransport.bind('127.0.0.1', 0, context([]));
    try {
      const probe = (await udp.queueDelayProbe())!;
      let ticks = 0;
      const loop = eventLoopProbe(5, undefined, { idleTickMs: 5, onTick: () => { ticks++; probe.send(); } });
      await sleep(60);
      loop.close();
      assert.ok(ticks >= 3, `ticks: ${ticks}`);
      assert.ok(probe.sample() > 0, 'pings were sent and came back');
      await sleep(30);
      probe.sample();
      await sleep(30);
      assert.equal(probe.sample(), 0, 'stopped: no ping out, none taken');
    } finally {
      await udp.close();
    }
  });
});
