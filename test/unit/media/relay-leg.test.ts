import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RelayLeg, bridgeLegs, unbridgeLeg } from '../../../src/media/relay-leg.ts';
import type { UdpPort } from '../../../src/media/relay-leg.ts';
import { writeRtpHeader } from '../../../src/media/rtp-writer.ts';
import type { MediaDirection } from '../../../src/media/relay-protocol.ts';

/** Records what a leg sends, as sipgo's fakes do for transports. */
class RecordingPort implements UdpPort {
  readonly sent: { msg: Uint8Array; port: number; address: string }[] = [];
  send(msg: Uint8Array, port: number, address: string): void {
    this.sent.push({ msg, port, address });
  }
}

interface Fixture {
  a: RelayLeg;
  b: RelayLeg;
  aRtp: RecordingPort;
  aRtcp: RecordingPort;
  bRtp: RecordingPort;
  bRtcp: RecordingPort;
}

function fixture(): Fixture {
  const aRtp = new RecordingPort();
  const aRtcp = new RecordingPort();
  const bRtp = new RecordingPort();
  const bRtcp = new RecordingPort();
  const a = new RelayLeg(1, 10000, aRtp, aRtcp, 3000, 2000);
  const b = new RelayLeg(2, 10002, bRtp, bRtcp, 3000, 2000);
  a.setRemote({ address: '192.0.2.1', rtpPort: 4000, rtcpPort: 4001, rtcpMux: false }, 0);
  b.setRemote({ address: '192.0.2.2', rtpPort: 6000, rtcpPort: 6001, rtcpMux: false }, 0);
  bridgeLegs(a, b, 0);
  return { a, b, aRtp, aRtcp, bRtp, bRtcp };
}

function rtp(ssrc: number, seq: number): Buffer {
  const buf = Buffer.alloc(172, seq & 0xff);
  writeRtpHeader(buf, { marker: false, payloadType: 0, sequenceNumber: seq, timestamp: seq * 160, ssrc });
  return buf;
}

const rr = (ssrc: number): Buffer => Buffer.from(`80c90001${ssrc.toString(16).padStart(8, '0')}`, 'hex');

describe('RelayLeg forwarding', () => {
  test('RTP from A leaves B\'s RTP socket towards B\'s SDP address: same Buffer, payload as received, header in B\'s stream', () => {
    const f = fixture();
    const pkt = rtp(0x1111, 1);
    const original = Buffer.from(pkt);
    f.a.receiveRtp(pkt, '192.0.2.1', 4000, 10);
    assert.equal(f.bRtp.sent.length, 1);
    assert.equal(f.bRtp.sent[0].msg, pkt, 'rewritten in place, no copy');
    assert.deepEqual(pkt.subarray(12), original.subarray(12), 'payload untouched');
    assert.equal(pkt[0], original[0]);
    assert.equal(pkt[1], original[1] | 0x80, 'same PT, marker: first packet of B\'s stream');
    assert.equal(pkt.readUInt32BE(8), f.b.out.ssrc, 'B\'s SSRC, not the caller\'s');
    assert.equal(pkt.readUInt16BE(2), f.b.out.seq);
    assert.equal(pkt.readUInt32BE(4), f.b.out.ts);
    assert.deepEqual([f.bRtp.sent[0].address, f.bRtp.sent[0].port], ['192.0.2.2', 6000]);
    assert.deepEqual([f.a.rtp.packetsIn, f.a.rtp.bytesIn, f.b.rtp.packetsOut, f.b.rtp.bytesOut], [1, 172, 1, 172]);
  });

  test('after B sends from a NATed port, A\'s packets go to that latched port', () => {
    const f = fixture();
    f.b.receiveRtp(rtp(0x2222, 1), '203.0.113.9', 40000, 5);
    f.a.receiveRtp(rtp(0x1111, 1), '192.0.2.1', 4000, 10);
    assert.deepEqual([f.bRtp.sent[0].address, f.bRtp.sent[0].port], ['203.0.113.9', 40000]);
    assert.deepEqual([f.aRtp.sent[0].address, f.aRtp.sent[0].port], ['192.0.2.1', 4000]);
  });

  test('a hijacker with another SSRC is dropped once A is latched', () => {
    const f = fixture();
    f.a.receiveRtp(rtp(0x1111, 1), '192.0.2.1', 4000, 0);
    f.a.receiveRtp(rtp(0x6666, 1), '198.51.100.66', 9999, 20);
    assert.equal(f.bRtp.sent.length, 1);
    assert.equal(f.a.rtp.latch.dropped, 1);
    assert.equal(f.a.rtp.packetsIn, 2);
  });

  test('an SR relayed to B gets B\'s SSRC and its RTP timestamp in B\'s timeline; other RTCP as sent', () => {
    const f = fixture();
    const pkt = rtp(0x1111, 1); // timestamp 160
    f.a.receiveRtp(pkt, '192.0.2.1', 4000, 10);
    const relayedTs = pkt.readUInt32BE(4);
    // SR: V=2 PT=200 length 6, SSRC 0x1111, NTP (8 octets), RTP ts 480, packet and octet counts.
    const sr = Buffer.from('80c80006' + '00001111' + '0102030405060708' + '000001e0' + '00000001' + '000000ac', 'hex');
    f.a.receiveRtcp(sr, '192.0.2.1', 4001, 20);
    const out = f.bRtcp.sent[0].msg as Buffer;
    assert.equal(out.readUInt32BE(4), f.b.out.ssrc);
    assert.equal(out.readUInt32BE(16), (relayedTs + 320) >>> 0, 'same offset from the relayed RTP as in the source');
    assert.equal(out.subarray(8, 16).toString('hex'), '0102030405060708', 'NTP time as sent');
    const foreign = Buffer.from(sr);
    foreign.writeUInt32BE(0x9999, 4);
    const before = Buffer.from(foreign);
    f.a.receiveRtcp(foreign, '192.0.2.1', 4001, 30);
    assert.deepEqual(f.bRtcp.sent[1].msg, before, 'an SR of another SSRC is not ours to map');
    const r = rr(0x1111);
    f.a.receiveRtcp(r, '192.0.2.1', 4001, 40);
    assert.equal((f.bRtcp.sent[2].msg as Buffer).readUInt32BE(4), 0x1111, 'RR left as sent');
  });

  test('RTCP goes RTCP socket to RTCP port; rtcp-mux RTCP arriving on the RTP port too', () => {
    const f = fixture();
    f.a.receiveRtcp(rr(0x1111), '192.0.2.1', 4001, 0);
    assert.deepEqual([f.bRtcp.sent.length, f.bRtcp.sent[0].port], [1, 6001]);
    f.a.receiveRtp(rr(0x1111), '192.0.2.1', 4001, 1); // demultiplexed by packet type
    assert.equal(f.bRtcp.sent.length, 2);
    assert.equal(f.bRtp.sent.length, 0);
    assert.deepEqual([f.a.rtcp.packetsIn, f.b.rtcp.packetsOut, f.a.rtp.packetsIn], [2, 2, 0]);
  });

  test('with rtcp-mux on B, RTCP leaves B\'s RTP socket to the RTP latch', () => {
    const f = fixture();
    f.b.setRemote({ address: '192.0.2.2', rtpPort: 6000, rtcpPort: 6000, rtcpMux: true }, 0);
    f.b.receiveRtp(rtp(0x2222, 1), '203.0.113.9', 40000, 1);
    f.a.receiveRtcp(rr(0x1111), '192.0.2.1', 4001, 2);
    assert.equal(f.bRtcp.sent.length, 0);
    assert.deepEqual(f.bRtp.sent.map((s) => [s.address, s.port]), [['203.0.113.9', 40000]]);
  });

  test('invalid packets are counted and not forwarded', () => {
    const f = fixture();
    f.a.receiveRtp(Buffer.from('not rtp at all'), '192.0.2.1', 4000, 0);
    f.a.receiveRtcp(Buffer.from('0001'), '192.0.2.1', 4001, 0);
    assert.deepEqual([f.a.rtp.droppedInvalid, f.a.rtcp.droppedInvalid], [1, 1]);
    assert.equal(f.bRtp.sent.length + f.bRtcp.sent.length, 0);
    assert.equal(f.a.rtp.latch.latched, false);
  });

  test('unbridged or remote-less peers count as unrouted', () => {
    const f = fixture();
    unbridgeLeg(f.a);
    assert.equal(f.b.peer, null);
    f.a.receiveRtp(rtp(1, 1), '192.0.2.1', 4000, 0);
    assert.equal(f.a.rtp.droppedUnrouted, 1);
    const c = new RelayLeg(3, 10004, new RecordingPort(), new RecordingPort(), 3000, 2000);
    bridgeLegs(f.a, c, 0);
    f.a.receiveRtp(rtp(1, 2), '192.0.2.1', 4000, 1);
    assert.equal(f.a.rtp.droppedUnrouted, 2);
  });

  test('RTP from an endpoint whose SDP has not been seen is not relayed (a callee sending before its 200 is processed)', () => {
    const out = new RecordingPort();
    const early = new RelayLeg(3, 10004, new RecordingPort(), new RecordingPort(), 3000, 2000);
    const c = new RelayLeg(4, 10006, out, new RecordingPort(), 3000, 2000);
    c.setRemote({ address: '192.0.2.3', rtpPort: 7000, rtcpPort: 7001, rtcpMux: false }, 0);
    bridgeLegs(early, c, 0);
    early.receiveRtp(rtp(5, 1), '192.0.2.9', 5000, 0);
    assert.deepEqual([out.sent.length, early.rtp.droppedUnrouted, early.rtp.latch.latched], [0, 1, false]);
    early.setRemote({ address: '192.0.2.9', rtpPort: 5000, rtcpPort: 5001, rtcpMux: false }, 1);
    early.receiveRtp(rtp(5, 2), '192.0.2.9', 5000, 2);
    assert.equal(out.sent.length, 1, 'relayed once the SDP is known');
  });

  test('re-bridging detaches the old partner (transfer)', () => {
    const f = fixture();
    const c = new RelayLeg(3, 10004, new RecordingPort(), new RecordingPort(), 3000, 2000);
    bridgeLegs(f.a, c, 0);
    assert.deepEqual([f.a.peer, c.peer, f.b.peer], [c, f.a, null]);
  });

  // RFC 3264 §6.1 directions from the engine's side: X -> Y needs X receiving and Y sending.
  const table: [MediaDirection, MediaDirection, boolean][] = [
    ['sendrecv', 'sendrecv', true],
    ['recvonly', 'sendonly', true],
    ['sendonly', 'sendrecv', false],
    ['sendrecv', 'recvonly', false],
    ['inactive', 'sendrecv', false],
    ['sendrecv', 'inactive', false],
  ];
  for (const [da, db, forwarded] of table) {
    test(`direction A=${da}, B=${db}: A->B RTP ${forwarded ? 'forwarded' : 'dropped'}, RTCP always`, () => {
      const f = fixture();
      f.a.setDirection(da, 0);
      f.b.setDirection(db, 0);
      f.a.receiveRtp(rtp(1, 1), '192.0.2.1', 4000, 0);
      f.a.receiveRtcp(rr(1), '192.0.2.1', 4001, 0);
      assert.equal(f.bRtp.sent.length, forwarded ? 1 : 0);
      assert.equal(f.bRtcp.sent.length, 1);
    });
  }

  test('setRemote with the same SDP keeps the latch (session refresh), a new address resets it', () => {
    const f = fixture();
    f.a.receiveRtp(rtp(1, 1), '203.0.113.1', 50000, 0);
    f.a.setRemote({ address: '192.0.2.1', rtpPort: 4000, rtcpPort: 4001, rtcpMux: false }, 10);
    assert.equal(f.a.rtp.latch.latched, true);
    f.a.setRemote({ address: '192.0.2.77', rtpPort: 4000, rtcpPort: 4001, rtcpMux: false }, 20);
    assert.equal(f.a.rtp.latch.latched, false);
  });
});

describe('RelayLeg timeout', () => {
  test('fires once after timeoutMs of silence on a bridged leg, again only after RTP resumed', () => {
    const f = fixture();
    assert.equal(f.a.checkTimeout(999, 1000), false);
    assert.equal(f.a.checkTimeout(1000, 1000), true);
    assert.equal(f.a.checkTimeout(1500, 1000), false);
    f.a.receiveRtp(rtp(1, 1), '192.0.2.1', 4000, 1600);
    assert.equal(f.a.checkTimeout(2000, 1000), false);
    assert.equal(f.a.checkTimeout(2600, 1000), true);
  });

  test('no timeout for an unbridged leg or one we do not receive from (held)', () => {
    const f = fixture();
    f.b.setDirection('sendonly', 0);
    assert.equal(f.b.checkTimeout(10_000, 1000), false);
    unbridgeLeg(f.a);
    assert.equal(f.a.checkTimeout(10_000, 1000), false);
  });
});
