/**
 * The relay engine over real UDP on 127.0.0.1: fake endpoints are plain dgram sockets sending
 * RTP (20 ms ptime, 160-octet PCMU payloads) and RTCP through bridged legs.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMediaEngine, MediaError } from '../../src/media/index.ts';
import type { LegInfo, MediaEngine, WorkerExitInfo } from '../../src/media/index.ts';
import { Endpoint, receiverReport, rtpPacket } from '../helpers/udp-endpoint.ts';
import { canBindUdp, ipv6Available } from '../helpers/ipv6.ts';

const HOST = '127.0.0.1';
function isMediaError(code: string): (err: unknown) => boolean {
  return (err) => err instanceof MediaError && err.code === code;
}

const portIsFree = (port: number) => canBindUdp('udp4', port, HOST);

// A range of our own, away from the default 10000-20000 other suites may use.
const BASE = 24000 + 2 * Math.floor(Math.random() * 2000);
const RANGE: [number, number] = [BASE, BASE + 199];

/**
 * What a relay must keep of a packet: version/flags, payload type and payload. SSRC, sequence,
 * timestamp and the marker are the leg's own outgoing stream (src/media/rtp-out-stream.ts).
 */
const content = (pkts: Buffer[]): string[] => pkts.map((p) => `${p[0]} ${p[1] & 0x7f} ${p.subarray(12).toString('hex')}`);

/** The relayed packets form one stream: one SSRC that is not the source's, consecutive sequence numbers. */
function assertOneStream(pkts: Buffer[], sourceSsrc: number): void {
  const ssrcs = new Set(pkts.map((p) => p.readUInt32BE(8)));
  assert.equal(ssrcs.size, 1, 'one SSRC');
  assert.ok(!ssrcs.has(sourceSsrc), 'the leg\'s own SSRC, not the source\'s');
  for (let i = 1; i < pkts.length; i++) assert.equal(pkts[i].readUInt16BE(2), (pkts[i - 1].readUInt16BE(2) + 1) & 0xffff, `sequence at ${i}`);
}

describe('media relay engine over UDP', () => {
  let engine: MediaEngine;
  const timeouts: number[] = [];
  const exits: WorkerExitInfo[] = [];
  const endpoints: Endpoint[] = [];

  async function endpoint(): Promise<Endpoint> {
    const e = await Endpoint.open();
    endpoints.push(e);
    return e;
  }

  /** A bridged call: two legs, each pointed at its endpoint's SDP address. */
  async function call(a: Endpoint, b: Endpoint, aRtcp?: Endpoint, bRtcp?: Endpoint): Promise<[LegInfo, LegInfo]> {
    const [la, lb] = await engine.createLegPair();
    await engine.setRemote(la.id, { address: HOST, rtpPort: a.port, rtcpPort: aRtcp?.port });
    await engine.setRemote(lb.id, { address: HOST, rtpPort: b.port, rtcpPort: bRtcp?.port });
    await engine.bridge(la.id, lb.id);
    return [la, lb];
  }

  before(async () => {
    engine = await createMediaEngine({ portRange: RANGE, bindAddress: HOST, workers: 2, rtpTimeoutMs: 400, tickMs: 100 });
    engine.on('timeout', (legId) => timeouts.push(legId));
    engine.on('workerExit', (info) => exits.push(info));
  });

  after(async () => {
    for (const e of endpoints) e.close();
    await engine.close();
  });

  test('every packet arrives on the other side with identical bytes, both ways', async () => {
    const [a, b] = [await endpoint(), await endpoint()];
    const [la, lb] = await call(a, b);
    assert.equal(la.worker, lb.worker);
    assert.deepEqual([la.address, la.rtcpPort - la.rtpPort, la.rtpPort % 2], [HOST, 1, 0]);
    const [sentA, sentB] = await Promise.all([a.stream(la.rtpPort, 0xa0a0a0a0, 50), b.stream(lb.rtpPort, 0xb0b0b0b0, 50)]);
    await Promise.all([a.waitFor(50), b.waitFor(50)]);
    assert.deepEqual(content(b.received), content(sentA));
    assert.deepEqual(content(a.received), content(sentB));
    assertOneStream(b.received, 0xa0a0a0a0);
    assertOneStream(a.received, 0xb0b0b0b0);
    const stats = await engine.stats(la.id);
    assert.equal(stats.bridgedTo, lb.id);
    assert.deepEqual(
      [stats.rtp.packetsIn, stats.rtp.bytesIn, stats.rtp.packetsOut, stats.rtp.bytesOut, stats.rtp.droppedForeign],
      [50, 50 * 172, 50, 50 * 172, 0],
    );
    assert.deepEqual(stats.rtp.latched, { address: HOST, port: a.port });
    assert.ok(stats.rtp.lastPacketAt !== null && Math.abs(stats.rtp.lastPacketAt - Date.now()) < 2000);
    await engine.releaseLeg(la.id);
    await engine.releaseLeg(lb.id);
  });

  test('RTCP is relayed between the RTCP ports', async () => {
    const [a, b, aRtcp, bRtcp] = [await endpoint(), await endpoint(), await endpoint(), await endpoint()];
    const [la, lb] = await call(a, b, aRtcp, bRtcp);
    await aRtcp.send(receiverReport(0xa0a0a0a0), la.rtcpPort);
    await bRtcp.send(receiverReport(0xb0b0b0b0), lb.rtcpPort);
    await Promise.all([aRtcp.waitFor(1), bRtcp.waitFor(1)]);
    assert.deepEqual(bRtcp.received, [receiverReport(0xa0a0a0a0)]);
    assert.deepEqual(aRtcp.received, [receiverReport(0xb0b0b0b0)]);
    assert.equal(a.received.length + b.received.length, 0);
    const stats = await engine.stats(lb.id);
    assert.deepEqual([stats.rtcp.packetsIn, stats.rtcp.packetsOut], [1, 1]);
    await engine.releaseLeg(la.id);
    await engine.releaseLeg(lb.id);
  });

  test('latches onto a source port different from the SDP one (NAT)', async () => {
    const [a, bSdp, bReal] = [await endpoint(), await endpoint(), await endpoint()];
    const [la, lb] = await call(a, bSdp);
    // B's NAT maps its media to another port: B's first packet comes from bReal.
    await bReal.send(rtpPacket(0xb1, 0), lb.rtpPort);
    await a.waitFor(1);
    const sentA = await a.stream(la.rtpPort, 0xa1, 10);
    await bReal.waitFor(10);
    assert.deepEqual(content(bReal.received), content(sentA));
    assert.equal(bSdp.received.length, 0);
    assert.deepEqual((await engine.stats(lb.id)).rtp.latched, { address: HOST, port: bReal.port });
    await engine.releaseLeg(la.id);
    await engine.releaseLeg(lb.id);
  });

  test('after latching, a hijack from another port with another SSRC is dropped', async () => {
    const [a, b, hijacker] = [await endpoint(), await endpoint(), await endpoint()];
    const [la, lb] = await call(a, b);
    await a.send(rtpPacket(0xa2, 0), la.rtpPort);
    await b.waitFor(1);
    for (let i = 0; i < 5; i++) await hijacker.send(rtpPacket(0x66666666, i), la.rtpPort);
    await a.send(rtpPacket(0xa2, 1), la.rtpPort);
    await b.waitFor(2);
    await sleep(50);
    assert.deepEqual(content(b.received), content([rtpPacket(0xa2, 0), rtpPacket(0xa2, 1)]));
    // B's media still goes to A, not to the hijacker.
    await b.send(rtpPacket(0xb2, 0), lb.rtpPort);
    await a.waitFor(1);
    assert.equal(hijacker.received.length, 0);
    const stats = await engine.stats(la.id);
    assert.deepEqual([stats.rtp.packetsIn, stats.rtp.droppedForeign, stats.rtp.packetsOut], [7, 5, 1]);
    assert.deepEqual(stats.rtp.latched, { address: HOST, port: a.port });
    await engine.releaseLeg(la.id);
    await engine.releaseLeg(lb.id);
  });

  test('hold: a leg set to inactive neither sends nor is forwarded', async () => {
    const [a, b] = [await endpoint(), await endpoint()];
    const [la, lb] = await call(a, b);
    await engine.setDirection(la.id, 'inactive');
    await a.send(rtpPacket(0xa3, 0), la.rtpPort);
    await b.send(rtpPacket(0xb3, 0), lb.rtpPort);
    await sleep(100);
    assert.equal(a.received.length + b.received.length, 0);
    await engine.setDirection(la.id, 'sendrecv');
    await a.send(rtpPacket(0xa3, 1), la.rtpPort);
    await b.waitFor(1);
    assert.deepEqual(content(b.received), content([rtpPacket(0xa3, 1)]));
    assert.equal((await engine.stats(la.id)).rtp.droppedUnrouted, 1);
    await assert.rejects(engine.setDirection(la.id, 'upside-down' as never), isMediaError('MEDIA_ERR_BAD_OPTION'));
    await engine.releaseLeg(la.id);
    await engine.releaseLeg(lb.id);
  });

  test('timeout fires for a bridged leg without RTP, not for one receiving RTP', async () => {
    const [a, b] = [await endpoint(), await endpoint()];
    const [la, lb] = await call(a, b);
    const streaming = a.stream(la.rtpPort, 0xa4, 40); // 800 ms of RTP from A only
    const start = Date.now();
    while (!timeouts.includes(lb.id) && Date.now() - start < 2000) await sleep(20);
    assert.ok(timeouts.includes(lb.id), 'timeout for the silent leg');
    assert.ok(!timeouts.includes(la.id), 'no timeout for the leg receiving RTP');
    const elapsed = Date.now() - start;
    assert.ok(elapsed >= 300 && elapsed < 1000, `fired after ${elapsed} ms (timeout 400, tick 100)`);
    await streaming;
    assert.equal(timeouts.filter((id) => id === lb.id).length, 1, 'fires once');
    await engine.releaseLeg(la.id);
    await engine.releaseLeg(lb.id);
  });

  test('sending to an unreachable destination does not crash the worker', async () => {
    const [a, b] = [await endpoint(), await endpoint()];
    const [la, lb] = await call(a, b);
    // TEST-NET-3 (RFC 5737): no route on a test box, or a black hole; either way no crash.
    await engine.setRemote(lb.id, { address: '203.0.113.1', rtpPort: 9 });
    for (let i = 0; i < 5; i++) await a.send(rtpPacket(0xa5, i), la.rtpPort);
    await sleep(100);
    await engine.setRemote(lb.id, { address: HOST, rtpPort: b.port });
    await a.send(rtpPacket(0xa5, 5), la.rtpPort);
    await b.waitFor(1);
    assert.deepEqual(content(b.received), content([rtpPacket(0xa5, 5)]));
    assert.equal(exits.length, 0);
    await engine.releaseLeg(la.id);
    await engine.releaseLeg(lb.id);
  });

  test('API edge errors carry stable codes', async () => {
    const la = await engine.createLeg();
    const other = await engine.createLeg();
    assert.notEqual(la.worker, other.worker, 'least-loaded placement spreads legs');
    await assert.rejects(engine.bridge(la.id, la.id), isMediaError('MEDIA_ERR_SELF_BRIDGE'));
    await assert.rejects(engine.setRemote(la.id, { address: 'phone.example.com', rtpPort: 4000 }), isMediaError('MEDIA_ERR_BAD_ADDRESS'));
    await assert.rejects(engine.setRemote(la.id, { address: '::1', rtpPort: 4000 }), isMediaError('MEDIA_ERR_BAD_ADDRESS'));
    await assert.rejects(engine.setRemote(la.id, { address: HOST, rtpPort: 0 }), isMediaError('MEDIA_ERR_BAD_PORT'));
    await assert.rejects(engine.stats(999_999), isMediaError('MEDIA_ERR_LEG_NOT_FOUND'));
    const near = await engine.createLeg({ near: other.id });
    assert.equal(near.worker, other.worker);
    for (const l of [la, other, near]) assert.equal(await engine.releaseLeg(l.id), true);
    assert.equal(await engine.releaseLeg(la.id), false);
  });

  test('legs of different workers bridge through a link: packets both ways, the link goes with the leg', async () => {
    const [a, b] = [await endpoint(), await endpoint()];
    const la = await engine.createLeg();
    const lb = await engine.createLeg();
    assert.notEqual(la.worker, lb.worker, 'least-loaded placement spreads legs');
    await engine.setRemote(la.id, { address: HOST, rtpPort: a.port });
    await engine.setRemote(lb.id, { address: HOST, rtpPort: b.port });
    await engine.bridge(la.id, lb.id);
    assert.equal(engine.totals().legs, 4, 'one hidden link leg in each worker');
    const sent = await a.stream(la.rtpPort, 0xab, 10);
    await b.waitFor(10);
    assert.deepEqual(content(b.received), content(sent), 'a -> b through both workers, payload unchanged');
    assertOneStream(b.received, 0xab);
    const back = await b.stream(lb.rtpPort, 0xba, 5);
    await a.waitFor(5);
    assert.deepEqual(content(a.received), content(back), 'b -> a');
    await engine.bridge(la.id, lb.id);
    assert.equal(engine.totals().legs, 4, 're-bridging reuses the link');
    await engine.releaseLeg(la.id);
    await engine.releaseLeg(lb.id);
    const end = Date.now() + 2000;
    while (engine.totals().legs > 0 && Date.now() < end) await sleep(10);
    assert.equal(engine.totals().legs, 0, 'link legs released');
    assert.equal(timeouts.length === 0 || !timeouts.some((id) => id > lb.id), true, 'no timeout reported for link legs');
  });

  test('a busy port in the range is skipped', async () => {
    // Occupy the RTCP port of the pair the pool would hand out next: bind fails, next pair used.
    const probe = await engine.createLeg();
    await engine.releaseLeg(probe.id);
    const totals = engine.totals();
    assert.equal(totals.portsInUse, 0);
    const held: dgram.Socket[] = [];
    for (let p = RANGE[0]; p <= RANGE[1]; p += 2) {
      if (p === probe.rtpPort) continue;
      const s = dgram.createSocket('udp4');
      held.push(s);
      await new Promise<void>((resolve) => {
        s.once('error', () => resolve());
        s.bind(p + 1, HOST, () => resolve());
      });
    }
    try {
      // A pair binds both legs in one round trip: with one usable pair one of them fails, and
      // the one that bound is released, not leaked.
      await assert.rejects(engine.createLegPair(), isMediaError('MEDIA_ERR_PORTS_EXHAUSTED'));
      assert.deepEqual([engine.totals().portsInUse, engine.totals().legs], [0, 0], 'nothing left of the failed pair');
      assert.ok(await portIsFree(probe.rtpPort), 'its socket closed');
      const leg = await engine.createLeg();
      assert.equal(leg.rtpPort, probe.rtpPort, 'the only pair whose ports are free');
      await assert.rejects(engine.createLeg(), isMediaError('MEDIA_ERR_PORTS_EXHAUSTED'));
      await engine.releaseLeg(leg.id);
    } finally {
      for (const s of held) s.close();
    }
  });

  test('releasing frees the ports: count back to 0 and the OS port is bindable', async () => {
    const [a, b] = [await endpoint(), await endpoint()];
    const [la, lb] = await call(a, b);
    assert.equal(engine.totals().portsInUse, 4);
    assert.equal(engine.totals().legs, 2);
    await engine.releaseLeg(la.id);
    await engine.releaseLeg(lb.id);
    assert.deepEqual([engine.totals().portsInUse, engine.totals().legs], [0, 0]);
    for (const p of [la.rtpPort, la.rtcpPort, lb.rtpPort, lb.rtcpPort]) assert.ok(await portIsFree(p), `port ${p} free`);
  });

  test('totals report packet rates and worker CPU from the pushed ticks', async () => {
    const [a, b] = [await endpoint(), await endpoint()];
    const [la, lb] = await call(a, b);
    await a.stream(la.rtpPort, 0xa6, 15);
    const t = engine.totals();
    assert.equal(t.workers, 2);
    assert.ok(t.packetsInPerSecond > 0 && t.packetsOutPerSecond > 0, JSON.stringify(t));
    assert.ok(t.perWorker.every((w) => w.cpuPercent >= 0 && w.cpuPercent <= 100), JSON.stringify(t.perWorker));
    await engine.releaseLeg(la.id);
    await engine.releaseLeg(lb.id);
  });

  test('a worker crash is reported, its legs are lost, the engine stays usable', async () => {
    const [a, b] = [await endpoint(), await endpoint()];
    const [la, lb] = await call(a, b);
    const exited = once(engine, 'workerExit') as Promise<[WorkerExitInfo]>;
    await engine.restartWorker(la.worker);
    const [info] = await exited;
    assert.equal(info.worker, la.worker);
    assert.deepEqual(info.lostLegs.sort(), [la.id, lb.id].sort());
    assert.match(String(info.error?.message), /restarted on request/);
    assert.equal(engine.totals().portsInUse, 0);
    for (const p of [la.rtpPort, la.rtcpPort, lb.rtpPort, lb.rtcpPort]) assert.ok(await portIsFree(p), `port ${p} closed with the worker`);
    await assert.rejects(engine.stats(la.id), isMediaError('MEDIA_ERR_LEG_NOT_FOUND'));
    assert.equal(await engine.releaseLeg(la.id), false);
    // The slot restarted; a new call on it relays again.
    // Least-loaded placement picks the restarted, empty worker.
    const again = await call(a, b);
    assert.equal(again[0].worker, la.worker);
    await a.send(rtpPacket(0xa7, 0), again[0].rtpPort);
    await b.waitFor(1);
    assert.deepEqual(content(b.received), content([rtpPacket(0xa7, 0)]));
    await engine.releaseLeg(again[0].id);
    await engine.releaseLeg(again[1].id);
    assert.equal(engine.totals().portsInUse, 0);
  });
});

describe('media engine lifecycle', () => {
  test('close() terminates the workers and frees every port; later calls fail with MEDIA_ERR_CLOSED', async () => {
    const engine = await createMediaEngine({ portRange: [RANGE[0] + 200, RANGE[0] + 299], bindAddress: HOST, workers: 1 });
    const [la, lb] = await engine.createLegPair();
    assert.equal(process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length, 1, 'one worker channel');
    await engine.close();
    await engine.close();
    assert.deepEqual(process.getActiveResourcesInfo().filter((r) => r === 'MessagePort'), [], 'no worker left');
    assert.equal(engine.totals().portsInUse, 0);
    for (const p of [la.rtpPort, la.rtcpPort, lb.rtpPort, lb.rtcpPort]) assert.ok(await portIsFree(p), `port ${p} free`);
    await assert.rejects(engine.createLeg(), isMediaError('MEDIA_ERR_CLOSED'));
  });

  test('IPv6 loopback', async (t) => {
    if (!(await ipv6Available())) return t.skip('no ::1 on this host');
    const engine = await createMediaEngine({ portRange: [RANGE[0] + 300, RANGE[0] + 399], bindAddress: '::1', workers: 1 });
    const a = dgram.createSocket('udp6');
    const b = dgram.createSocket('udp6');
    try {
      a.bind(0, '::1');
      b.bind(0, '::1');
      await Promise.all([once(a, 'listening'), once(b, 'listening')]);
      const [la, lb] = await engine.createLegPair();
      assert.equal(la.address, '::1');
      await engine.setRemote(la.id, { address: '::1', rtpPort: a.address().port });
      await engine.setRemote(lb.id, { address: '::1', rtpPort: b.address().port });
      await engine.bridge(la.id, lb.id);
      const got = once(b, 'message');
      a.send(rtpPacket(0x6, 0), la.rtpPort, '::1');
      const [msg] = (await got) as [Buffer];
      assert.deepEqual(content([msg]), content([rtpPacket(0x6, 0)]));
    } finally {
      a.close();
      b.close();
      await engine.close();
    }
  });
});

