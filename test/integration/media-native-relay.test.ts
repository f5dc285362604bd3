/**
 * The native pass-through relay (native/udp-relay, src/media/native-relay.ts) over real UDP on
 * 127.0.0.1. Each scenario runs on an engine whose worker relays plain pairs natively and, where
 * the outcome is compared, on one with `STROWGER_MEDIA_NATIVE_RELAY=0` (the JS path) fed the
 * same packets: what the endpoints receive and what the stats count must be the same.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMediaEngine } from '../../src/media/index.ts';
import type { LegCodec, LegInfo, LegStats, MediaEngine } from '../../src/media/index.ts';
import { loadNativeRelay } from '../../src/media/native-relay.ts';
import { Endpoint, receiverReport } from '../helpers/udp-endpoint.ts';
import { ipv6Available } from '../helpers/ipv6.ts';
import { writeRtpHeader } from '../../src/media/rtp-writer.ts';
import { dtmfEventCode, writeTelephoneEvent } from '../../src/media/dtmf/rfc4733.ts';

const HOST = '127.0.0.1';
const BASE = 30000 + 2 * Math.floor(Math.random() * 1500);
const LATCH_WINDOW_MS = 400;

const opus = (pt: number, telephoneEventPt: number | null = null): LegCodec => ({ pt, name: 'opus', clockRate: 48000, channels: 2, fmtp: null, telephoneEventPt, ptime: 20 });
const pcmu = (telephoneEventPt: number | null = null): LegCodec => ({ pt: 0, name: 'PCMU', clockRate: 8000, channels: 1, fmtp: null, telephoneEventPt, ptime: 20 });

function rtp(pt: number, ssrc: number, seq: number, ts: number, marker = false): Buffer {
  const pkt = Buffer.alloc(12 + 40);
  writeRtpHeader(pkt, { marker, payloadType: pt, sequenceNumber: seq & 0xffff, timestamp: ts >>> 0, ssrc });
  for (let i = 12; i < pkt.length; i++) pkt[i] = (seq + i) & 0xff;
  return pkt;
}

/** RTCP SR (RFC 3550 §6.4.1) without report blocks: sender SSRC, NTP time, RTP timestamp, counts. */
function senderReport(ssrc: number, rtpTs: number): Buffer {
  const pkt = Buffer.alloc(28);
  pkt[0] = 0x80;
  pkt[1] = 200;
  pkt.writeUInt16BE(6, 2);
  pkt.writeUInt32BE(ssrc, 4);
  pkt.writeUInt32BE(0xe0000000, 8);
  pkt.writeUInt32BE(0x12345678, 12);
  pkt.writeUInt32BE(rtpTs >>> 0, 16);
  pkt.writeUInt32BE(42, 20);
  pkt.writeUInt32BE(42 * 40, 24);
  return pkt;
}

/**
 * What the relay did to a stream, independent of the leg's random SSRC/sequence/timestamp base:
 * marker, PT, sequence relative to the first packet, timestamp relative to the first packet of
 * the same source run (a remap adds the wall time elapsed, which differs between runs), payload.
 */
function normalise(pkts: Buffer[]): string[] {
  const seq0 = pkts[0].readUInt16BE(2);
  let ts0 = 0;
  return pkts.map((p) => {
    if ((p[1] & 0x80) !== 0) ts0 = p.readUInt32BE(4);
    return `${p[1] >> 7} ${p[1] & 0x7f} ${(p.readUInt16BE(2) - seq0) & 0xffff} ${(p.readUInt32BE(4) - ts0) >>> 0} ${p.subarray(12).toString('hex')}`;
  });
}

function assertOneSsrc(pkts: Buffer[], notSsrcs: number[]): number {
  const ssrcs = new Set(pkts.map((p) => p.readUInt32BE(8)));
  assert.equal(ssrcs.size, 1, 'one SSRC');
  const [ssrc] = ssrcs;
  for (const s of notSsrcs) assert.notEqual(ssrc, s, 'the leg\'s own SSRC, not a source\'s');
  return ssrc;
}

/** Counters that must not depend on where the relay ran. */
const counters = (s: LegStats) => ({
  rtp: { in: s.rtp.packetsIn, bytesIn: s.rtp.bytesIn, out: s.rtp.packetsOut, bytesOut: s.rtp.bytesOut, invalid: s.rtp.droppedInvalid, foreign: s.rtp.droppedForeign, unrouted: s.rtp.droppedUnrouted },
  rtcp: { in: s.rtcp.packetsIn, out: s.rtcp.packetsOut, foreign: s.rtcp.droppedForeign },
  unknownPt: s.media.droppedUnknownPt,
  latched: s.rtp.latched !== null,
});

async function withNativeRelay<T>(on: boolean, f: () => Promise<T>): Promise<T> {
  const saved = process.env.STROWGER_MEDIA_NATIVE_RELAY;
  process.env.STROWGER_MEDIA_NATIVE_RELAY = on ? '1' : '0'; // copied into the worker's env when it starts
  try {
    return await f();
  } finally {
    if (saved === undefined) delete process.env.STROWGER_MEDIA_NATIVE_RELAY;
    else process.env.STROWGER_MEDIA_NATIVE_RELAY = saved;
  }
}

describe('native pass-through relay over UDP', () => {
  let nativeEngine: MediaEngine;
  let jsEngine: MediaEngine;
  const logs: string[] = [];
  const endpoints: Endpoint[] = [];

  async function endpoint(): Promise<Endpoint> {
    const e = await Endpoint.open();
    endpoints.push(e);
    return e;
  }

  async function call(engine: MediaEngine, a: Endpoint, b: Endpoint, codecs: [LegCodec, LegCodec], mux = false): Promise<[LegInfo, LegInfo]> {
    const [la, lb] = await engine.createLegPair();
    await engine.setRemote(la.id, mux ? { address: HOST, rtpPort: a.port, rtcpPort: a.port } : { address: HOST, rtpPort: a.port });
    await engine.setRemote(lb.id, mux ? { address: HOST, rtpPort: b.port, rtcpPort: b.port } : { address: HOST, rtpPort: b.port });
    await engine.setCodec(la.id, codecs[0]);
    await engine.setCodec(lb.id, codecs[1]);
    await engine.bridge(la.id, lb.id);
    return [la, lb];
  }

  /** Sends `pkts` to `port` one after the other (a little apart: the receiver sees them in order). */
  async function play(from: Endpoint, port: number, pkts: Buffer[]): Promise<void> {
    for (const p of pkts) {
      await from.send(p, port);
      await sleep(3);
    }
  }

  before(async () => {
    assert.equal(loadNativeRelay().reason, null, 'the addon is built (npm ci runs scripts/build-native.mjs)');
    const options = { bindAddress: HOST, workers: 1, rtpTimeoutMs: 60_000, tickMs: 100, latchWindowMs: LATCH_WINDOW_MS, relatchAfterMs: 2000 };
    nativeEngine = await withNativeRelay(true, () => createMediaEngine({ ...options, portRange: [BASE, BASE + 99], log: (m) => logs.push(m) }));
    jsEngine = await withNativeRelay(false, () => createMediaEngine({ ...options, portRange: [BASE + 100, BASE + 199], log: (m) => logs.push(m) }));
  });

  after(async () => {
    for (const e of endpoints) e.close();
    await nativeEngine?.close();
    await jsEngine?.close();
  });

  test('each worker says once whether it relays natively', () => {
    assert.deepEqual(logs.sort(), [
      'media worker 0: native relay not used (STROWGER_MEDIA_NATIVE_RELAY=0); relaying in JS',
      'media worker 0: plain relays run in the native relay thread',
    ]);
  });

  test('PT, SSRC, sequence and timestamp rewrite, unknown PT and invalid drops: the same as the JS path', async () => {
    // A: opus PT 111, B: opus PT 96. A sends a run of SSRC X (with a late packet, a PT it did not
    // negotiate and a non-RTP datagram), a run of SSRC Y, then X again; B answers a few packets.
    const script = {
      a: [
        ...Array.from({ length: 10 }, (_, i) => rtp(111, 0xaaaa0001, 100 + i, 160_000 + 960 * i, i === 0)),
        rtp(111, 0xaaaa0001, 107, 160_000 + 960 * 7),
        rtp(8, 0xaaaa0001, 110, 160_000 + 960 * 10),
        Buffer.from('hello, not RTP'),
        ...Array.from({ length: 5 }, (_, i) => rtp(111, 0xbbbb0002, 65533 + i, 4_294_966_000 + 960 * i)),
        rtp(111, 0xaaaa0001, 111, 160_000 + 960 * 11),
      ],
      b: Array.from({ length: 5 }, (_, i) => rtp(96, 0xcccc0003, 7 + i, 5000 + 960 * i)),
    };
    const runs = [];
    for (const engine of [nativeEngine, jsEngine]) {
      const [a, b] = [await endpoint(), await endpoint()];
      const [la, lb] = await call(engine, a, b, [opus(111), opus(96)]);
      await play(a, la.rtpPort, script.a);
      await play(b, lb.rtpPort, script.b);
      await Promise.all([b.waitFor(17), a.waitFor(5)]);
      await sleep(50);
      const [sa, sb] = [await engine.stats(la.id), await engine.stats(lb.id)];
      runs.push({ toB: b.received, toA: a.received, sa, sb });
      await engine.releaseLeg(la.id);
      await engine.releaseLeg(lb.id);
    }
    const [native, js] = runs;
    assert.equal(native.sa.native, true, 'the native relay carried the call');
    assert.equal(native.sb.native, true);
    assert.equal(js.sa.native, false);
    assert.equal(native.toB.length, 17);
    assert.deepEqual(normalise(native.toB), normalise(js.toB));
    assert.deepEqual(normalise(native.toA), normalise(js.toA));
    assertOneSsrc(native.toB, [0xaaaa0001, 0xbbbb0002]);
    assertOneSsrc(native.toA, [0xcccc0003]);
    // Sequence: +1 per packet across both remaps (the late one keeps its place: 107 -> 7).
    assert.deepEqual(normalise(native.toB).map((l) => l.split(' ').slice(0, 3).join(' ')), [
      '1 96 0', ...Array.from({ length: 9 }, (_, i) => `0 96 ${i + 1}`), '0 96 7',
      '1 96 10', '0 96 11', '0 96 12', '0 96 13', '0 96 14', '1 96 15',
    ]);
    assert.deepEqual(counters(native.sa), counters(js.sa));
    assert.deepEqual(counters(native.sb), counters(js.sb));
    assert.deepEqual([native.sa.rtp.packetsIn, native.sa.rtp.droppedInvalid, native.sa.media.droppedUnknownPt, native.sb.rtp.packetsOut], [19, 1, 1, 17]);
  });

  test('latching: a new source with the same SSRC inside the window is followed, a foreign one after it is refused', async () => {
    const [a, aNat, hijacker, b] = [await endpoint(), await endpoint(), await endpoint(), await endpoint()];
    const [la, lb] = await call(nativeEngine, a, b, [pcmu(), pcmu()]);
    await play(b, lb.rtpPort, [rtp(0, 0xb0, 1, 0)]);
    await play(a, la.rtpPort, [rtp(0, 0xa0, 1, 0), rtp(0, 0xa0, 2, 160)]);
    // A's NAT binding moves inside the window: same SSRC, new port.
    await play(aNat, la.rtpPort, [rtp(0, 0xa0, 3, 320)]);
    await b.waitFor(3);
    assert.deepEqual((await nativeEngine.stats(la.id)).rtp.latched, { address: HOST, port: aNat.port });
    // B's media follows A to its new port.
    await play(b, lb.rtpPort, [rtp(0, 0xb0, 2, 160)]);
    await aNat.waitFor(1);
    await sleep(LATCH_WINDOW_MS + 50);
    // After the window, with A still talking: another source and SSRC is dropped.
    await play(aNat, la.rtpPort, [rtp(0, 0xa0, 4, 480)]);
    await play(hijacker, la.rtpPort, [rtp(0, 0x66, 1, 0), rtp(0, 0x66, 2, 160), rtp(0, 0xa0, 5, 640)]);
    await play(b, lb.rtpPort, [rtp(0, 0xb0, 3, 320)]);
    await aNat.waitFor(2);
    await b.waitFor(4);
    await sleep(50);
    const stats = await nativeEngine.stats(la.id);
    assert.equal(stats.native, true);
    assert.deepEqual(stats.rtp.latched, { address: HOST, port: aNat.port });
    assert.deepEqual([stats.rtp.packetsIn, stats.rtp.droppedForeign, b.received.length, a.received.length, hijacker.received.length, aNat.received.length], [7, 3, 4, 1, 0, 2]);
    await nativeEngine.releaseLeg(la.id);
    await nativeEngine.releaseLeg(lb.id);
  });

  for (const mode of ['native', 'js'] as const) {
    test(`RTCP (${mode}): a muxed SR gets the sink stream's SSRC and timestamp; RTCP on the RTCP port is relayed too`, async () => {
      const engine = mode === 'native' ? nativeEngine : jsEngine;
      const [a, b, aRtcp] = [await endpoint(), await endpoint(), await endpoint()];
      const [la, lb] = await engine.createLegPair();
      await engine.setRemote(la.id, { address: HOST, rtpPort: a.port, rtcpPort: aRtcp.port });
      await engine.setRemote(lb.id, { address: HOST, rtpPort: b.port, rtcpPort: b.port }); // B muxes
      await engine.setCodec(la.id, pcmu());
      await engine.setCodec(lb.id, pcmu());
      await engine.bridge(la.id, lb.id);
      await play(a, la.rtpPort, [rtp(0, 0xa5, 1, 8000), rtp(0, 0xa5, 2, 8160)]);
      await b.waitFor(2);
      const outSsrc = b.received[1].readUInt32BE(8);
      const outTs = b.received[1].readUInt32BE(4);
      // B's muxed RR goes to A's RTCP port (A has sent no RTCP yet: the SDP's).
      await play(b, lb.rtpPort, [receiverReport(0xb5)]);
      await aRtcp.waitFor(1);
      assert.deepEqual(aRtcp.received, [receiverReport(0xb5)]);
      // A sends its SR on the separate RTCP port (read by JS, relayed natively), then muxed.
      await play(aRtcp, la.rtcpPort, [senderReport(0xa5, 8160)]);
      await play(a, la.rtpPort, [senderReport(0xa5, 8320)]);
      await b.waitFor(4);
      const [sr1, sr2] = b.received.slice(2);
      assert.deepEqual([sr1[1], sr1.readUInt32BE(4), sr1.readUInt32BE(16)], [200, outSsrc, outTs]);
      assert.deepEqual([sr2.readUInt32BE(4), sr2.readUInt32BE(16)], [outSsrc, (outTs + 160) >>> 0]);
      assert.deepEqual(sr2.subarray(8, 16), senderReport(0xa5, 0).subarray(8, 16), 'NTP time untouched');
      // The muxed SR (same SSRC, inside the window) moved A's RTCP latch to A's RTP port.
      await play(b, lb.rtpPort, [receiverReport(0xb6)]);
      await a.waitFor(1);
      assert.deepEqual(a.received, [receiverReport(0xb6)]);
      const [sa, sb] = [await engine.stats(la.id), await engine.stats(lb.id)];
      assert.equal(sa.native, mode === 'native');
      assert.deepEqual([sa.rtcp.packetsIn, sa.rtcp.packetsOut, sb.rtcp.packetsIn, sb.rtcp.packetsOut, sa.rtp.packetsIn], [2, 2, 2, 2, 2]);
      assert.deepEqual(sa.rtcp.latched, { address: HOST, port: a.port });
      await engine.releaseLeg(la.id);
      await engine.releaseLeg(lb.id);
    });
  }

  test('taken back into JS, the stream continues: next sequence number, same SSRC, no marker', async () => {
    const [a, b] = [await endpoint(), await endpoint()];
    const [la, lb] = await call(nativeEngine, a, b, [pcmu(), pcmu()]);
    await play(a, la.rtpPort, Array.from({ length: 10 }, (_, i) => rtp(0, 0xa7, i, 160 * i)));
    await b.waitFor(10);
    assert.equal((await nativeEngine.stats(lb.id)).native, true);
    // No codec on either (legacy pass-through, any PT): relayed in JS.
    await nativeEngine.setCodec(la.id, null);
    await nativeEngine.setCodec(lb.id, null);
    const [sa, sb] = [await nativeEngine.stats(la.id), await nativeEngine.stats(lb.id)];
    assert.deepEqual([sa.native, sb.native, sb.media.mode], [false, false, 'relay']);
    assert.deepEqual([sa.rtp.packetsIn, sb.rtp.packetsOut], [10, 10], 'counters came back with the legs');
    await play(a, la.rtpPort, Array.from({ length: 10 }, (_, i) => rtp(0, 0xa7, 10 + i, 160 * (10 + i))));
    await b.waitFor(20);
    assertOneSsrc(b.received, [0xa7]);
    assert.deepEqual(normalise(b.received).map((l) => l.split(' ').slice(0, 4).join(' ')), Array.from({ length: 20 }, (_, i) => `${i === 0 ? 1 : 0} 0 ${i} ${160 * i}`));
    assert.deepEqual([(await nativeEngine.stats(la.id)).rtp.packetsIn, (await nativeEngine.stats(lb.id)).rtp.packetsOut], [20, 20]);
    // And back: with a codec the pair is native again, still the same stream.
    await nativeEngine.setCodec(la.id, pcmu());
    await nativeEngine.setCodec(lb.id, pcmu());
    assert.equal((await nativeEngine.stats(la.id)).native, true);
    await play(a, la.rtpPort, [rtp(0, 0xa7, 20, 3200)]);
    await b.waitFor(21);
    assert.deepEqual(normalise(b.received).at(-1)!.split(' ').slice(0, 4).join(' '), '0 0 20 3200');
    await nativeEngine.releaseLeg(la.id);
    await nativeEngine.releaseLeg(lb.id);
  });

  test('telephone-event: relayed natively with its PT rewritten, and the digit still reported', async () => {
    const digits: string[] = [];
    const onDtmf = (e: { legId: number; digit: string }): void => {
      if (e.legId === la.id) digits.push(e.digit);
    };
    nativeEngine.on('dtmf', onDtmf);
    const [a, b] = [await endpoint(), await endpoint()];
    const [la, lb] = await call(nativeEngine, a, b, [pcmu(101), pcmu(100)]);
    const pkts = [rtp(0, 0xa6, 1, 0)];
    for (let k = 1; k <= 7; k++) {
      const p = rtp(101, 0xa6, 1 + k, 160, k === 1);
      p.fill(0, 12);
      writeTelephoneEvent(p.subarray(12), dtmfEventCode('5'), k >= 5, 10, Math.min(k, 5) * 160);
      pkts.push(p.subarray(0, 16));
    }
    await play(a, la.rtpPort, pkts);
    await b.waitFor(8);
    await sleep(100);
    nativeEngine.off('dtmf', onDtmf);
    assert.equal((await nativeEngine.stats(la.id)).native, true);
    assert.deepEqual(b.received.map((p) => p[1] & 0x7f), [0, 100, 100, 100, 100, 100, 100, 100]);
    assert.deepEqual(digits, ['5']);
    await nativeEngine.releaseLeg(la.id);
    await nativeEngine.releaseLeg(lb.id);
  });

  test('a leg set on hold leaves the native relay; released legs free their ports', async () => {
    const [a, b] = [await endpoint(), await endpoint()];
    const [la, lb] = await call(nativeEngine, a, b, [pcmu(), pcmu()]);
    await play(a, la.rtpPort, [rtp(0, 0xa8, 1, 0)]);
    await b.waitFor(1);
    await nativeEngine.setDirection(la.id, 'inactive');
    assert.equal((await nativeEngine.stats(la.id)).native, false);
    await play(a, la.rtpPort, [rtp(0, 0xa8, 2, 160)]);
    await sleep(50);
    assert.equal(b.received.length, 1, 'inactive: not forwarded');
    await nativeEngine.setDirection(la.id, 'sendrecv');
    assert.equal((await nativeEngine.stats(la.id)).native, true);
    await nativeEngine.releaseLeg(la.id);
    await nativeEngine.releaseLeg(lb.id);
    for (const port of [la.rtpPort, lb.rtpPort]) {
      const s = dgram.createSocket('udp4');
      s.bind(port, HOST);
      await once(s, 'listening');
      s.close();
    }
  });

  test('IPv6 legs go native too (both directions, latched on ::1)', async (t) => {
    if (!(await ipv6Available())) return t.skip('no ::1 on this host');
    const engine = await withNativeRelay(true, () => createMediaEngine({ portRange: [BASE + 220, BASE + 239], bindAddress: '::1', workers: 1 }));
    const [a, b] = [dgram.createSocket('udp6'), dgram.createSocket('udp6')];
    const got: Buffer[][] = [[], []];
    a.on('message', (m) => got[0].push(m));
    b.on('message', (m) => got[1].push(m));
    try {
      a.bind(0, '::1');
      b.bind(0, '::1');
      await Promise.all([once(a, 'listening'), once(b, 'listening')]);
      const [la, lb] = await engine.createLegPair();
      await engine.setRemote(la.id, { address: '::1', rtpPort: a.address().port });
      await engine.setRemote(lb.id, { address: '::1', rtpPort: b.address().port });
      await engine.setCodec(la.id, pcmu());
      await engine.setCodec(lb.id, pcmu());
      await engine.bridge(la.id, lb.id);
      for (let i = 0; i < 3; i++) {
        a.send(rtp(0, 0x61, i, 160 * i), la.rtpPort, '::1');
        b.send(rtp(0, 0x62, i, 160 * i), lb.rtpPort, '::1');
        await sleep(5);
      }
      for (let i = 0; i < 100 && (got[0].length < 3 || got[1].length < 3); i++) await sleep(10);
      const stats = await engine.stats(la.id);
      assert.equal(stats.native, true);
      assert.deepEqual(stats.rtp.latched, { address: '::1', port: a.address().port });
      assert.deepEqual([got[0].length, got[1].length], [3, 3]);
      assert.deepEqual(got[1].map((p) => p.subarray(12)), [0, 1, 2].map((i) => rtp(0, 0x61, i, 0).subarray(12)));
    } finally {
      a.close();
      b.close();
      await engine.close();
    }
  });

  test('close() with pairs still native ends the worker and frees the ports', async () => {
    const engine = await withNativeRelay(true, () => createMediaEngine({ portRange: [BASE + 200, BASE + 219], bindAddress: HOST, workers: 1 }));
    const [a, b] = [await endpoint(), await endpoint()];
    const [la, lb] = await call(engine, a, b, [pcmu(), pcmu()]);
    await play(a, la.rtpPort, [rtp(0, 0xa9, 1, 0)]);
    await b.waitFor(1);
    assert.equal((await engine.stats(la.id)).native, true);
    await engine.close();
    for (const port of [la.rtpPort, lb.rtpPort]) {
      const s = dgram.createSocket('udp4');
      s.bind(port, HOST);
      await once(s, 'listening');
      s.close();
    }
  });
});
