/**
 * The media graph over real UDP on loopback: placement by group, IPv4 <-> IPv6 legs, payload
 * type rules, and (with the codecs of `src/media/codec/`) transcoding checked on the decoded
 * audio itself.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { createMediaEngine } from '../../src/media/index.ts';
import type { LegCodec, MediaEngine } from '../../src/media/index.ts';
import { sendRtp } from '../helpers/rtp-sender.ts';
import { startRtpReceiver } from '../helpers/rtp-receiver.ts';

const HOST = '127.0.0.1';
const BASE = 30000 + 2 * Math.floor(Math.random() * 4000);

const settings = (name: string, pt: number, clockRate: number, te: number | null = null): LegCodec => ({
  pt, name, clockRate, channels: 1, fmtp: null, telephoneEventPt: te, ptime: 20,
});
const PCMU = settings('PCMU', 0, 8000, 101);

async function ipv6Available(): Promise<boolean> {
  const s = dgram.createSocket('udp6');
  try {
    s.bind(0, '::1');
    await once(s, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    s.close();
  }
}

describe('media graph placement and payload types', () => {
  let engine: MediaEngine;
  before(async () => {
    engine = await createMediaEngine({ portRange: [BASE, BASE + 199], bindAddress: HOST, workers: 2 });
  });
  after(() => engine.close());

  test('endpoints of a group meet in one worker; the group is forgotten with its last endpoint', async () => {
    const a = await engine.createLeg({ group: 'call-1' });
    const other = await engine.createLeg({ group: 'call-2' });
    const b = await engine.createLeg({ group: 'call-1' });
    const c = await engine.createLeg({ group: 'call-1' });
    assert.deepEqual([b.worker, c.worker], [a.worker, a.worker]);
    assert.notEqual(other.worker, a.worker, 'least loaded worker for a new group');
    await engine.connect(c.id, [a.id, b.id]);
    for (const leg of [a, b, c]) await engine.releaseLeg(leg.id);
    // call-1 is gone: a new call-1 goes to the least loaded worker again (the one without call-2).
    const again = await engine.createLeg({ group: 'call-1' });
    assert.equal(again.worker, a.worker);
    await engine.releaseLeg(again.id);
    await engine.releaseLeg(other.id);
  });

  test('RTP of a payload type the leg did not negotiate is dropped and counted', async () => {
    const rx = await startRtpReceiver({ capture: true });
    try {
      const [la, lb] = [await engine.createLeg({ group: 'pt' }), await engine.createLeg({ group: 'pt' })];
      await engine.setCodec(la.id, PCMU);
      await engine.setCodec(lb.id, { ...PCMU, pt: 0, telephoneEventPt: 96 });
      await engine.setRemote(lb.id, { address: HOST, rtpPort: rx.port });
      await engine.bridge(la.id, lb.id);
      await sendRtp({ host: HOST, port: la.rtpPort, ssrc: 1, payloadType: 8, count: 5, ptimeMs: 0 });
      await sendRtp({ host: HOST, port: la.rtpPort, ssrc: 1, payloadType: 0, count: 5, ptimeMs: 0 });
      await sendRtp({ host: HOST, port: la.rtpPort, ssrc: 1, payloadType: 101, count: 2, ptimeMs: 0, samplesPerPacket: 4 });
      await rx.waitFor(7);
      const st = await engine.stats(la.id);
      assert.equal(st.media.droppedUnknownPt, 5);
      assert.equal(st.media.mode, 'relay');
      assert.deepEqual([...rx.source(1)!.payloadTypes].sort((x, y) => x - y), [0, 96], 'telephone-event PT rewritten 101 -> 96');
      await engine.releaseLeg(la.id);
      await engine.releaseLeg(lb.id);
    } finally {
      await rx.close();
    }
  });

  test('an IPv6 caller bridges to an IPv4 callee', async (t) => {
    if (!(await ipv6Available())) return t.skip('no ::1 on this host');
    const rx4 = await startRtpReceiver({ host: HOST });
    const rx6 = await startRtpReceiver({ host: '::1' });
    try {
      const l6 = await engine.createLeg({ group: 'v6', family: 6 });
      const l4 = await engine.createLeg({ group: 'v6' });
      assert.deepEqual([l6.address, l6.family, l4.address, l4.family], ['::1', 6, HOST, 4]);
      await engine.setRemote(l6.id, { address: '::1', rtpPort: rx6.port });
      await engine.setRemote(l4.id, { address: HOST, rtpPort: rx4.port });
      await engine.bridge(l6.id, l4.id);
      // Symmetric RTP: each side sends from the socket it receives on (the latch follows it).
      await sendRtp({ host: '::1', port: l6.rtpPort, socket: rx6.socket, ssrc: 6, count: 5, ptimeMs: 0 });
      await sendRtp({ host: HOST, port: l4.rtpPort, socket: rx4.socket, ssrc: 4, count: 5, ptimeMs: 0 });
      await Promise.all([rx4.waitFor(5), rx6.waitFor(5)]);
      assert.equal(rx4.source(6)!.packets, 5);
      assert.equal(rx6.source(4)!.packets, 5);
      await engine.releaseLeg(l6.id);
      await engine.releaseLeg(l4.id);
    } finally {
      await rx4.close();
      await rx6.close();
    }
  });
});
