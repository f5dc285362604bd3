/**
 * ZRTP packets on a relay leg's RTP port (RFC 6189 §5): handed to the leg's handler only when
 * ZRTP runs on it, never relayed, never through SRTP; a flood is cut in the worker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RelayLeg, bridgeLegs, type UdpPort } from '../../../../src/media/relay-leg.ts';
import { LegSrtp } from '../../../../src/media/srtp/leg-srtp.ts';
import { framePacket } from '../../../../src/media/zrtp/zrtp-packet.ts';
import { encodeSimple } from '../../../../src/media/zrtp/zrtp-messages.ts';

class RecordingPort implements UdpPort {
  readonly sent: { msg: Uint8Array; port: number; address: string }[] = [];
  send(msg: Uint8Array, port: number, address: string): void { this.sent.push({ msg, port, address }); }
}

function legs() {
  const aRtp = new RecordingPort();
  const bRtp = new RecordingPort();
  const a = new RelayLeg(1, 10000, aRtp, new RecordingPort(), 3000, 2000);
  const b = new RelayLeg(2, 10002, bRtp, new RecordingPort(), 3000, 2000);
  a.setRemote({ address: '192.0.2.1', rtpPort: 4000, rtcpPort: 4001, rtcpMux: false }, 0);
  b.setRemote({ address: '192.0.2.2', rtpPort: 6000, rtcpPort: 6001, rtcpMux: false }, 0);
  bridgeLegs(a, b, 0);
  return { a, b, aRtp, bRtp };
}

const zrtp = (): Buffer => framePacket(encodeSimple('HelloACK'), 1, 0x1234);

test('without ZRTP on the leg a ZRTP packet is an invalid datagram, not relayed', () => {
  const { a, bRtp } = legs();
  a.receiveRtp(zrtp(), '192.0.2.1', 4000, 0);
  assert.equal(a.rtp.droppedInvalid, 1);
  assert.equal(bRtp.sent.length, 0);
});

test('with ZRTP on: handed to the handler (even under SRTP, which it must not pass), not relayed; ours leave unprotected', () => {
  const { a, aRtp, bRtp } = legs();
  const got: Buffer[] = [];
  a.zrtp = (m) => got.push(m);
  a.srtp = new LegSrtp({ suite: 'AES_CM_128_HMAC_SHA1_80', rxKey: Buffer.alloc(30, 1), txKey: Buffer.alloc(30, 2) });
  const p = zrtp();
  a.receiveRtp(p, '192.0.2.1', 4000, 0);
  assert.equal(got.length, 1);
  assert.ok(got[0]!.equals(p));
  assert.equal(a.srtp.rx.stats.authFailures, 0, 'never offered to SRTP');
  assert.equal(bRtp.sent.length, 0);
  assert.ok(a.transmitZrtp(p));
  assert.deepEqual(aRtp.sent.map((s) => [Buffer.from(s.msg).equals(p), s.address, s.port]), [[true, '192.0.2.1', 4000]]);
  assert.equal(a.snapshot(0, 0, null as never).zrtp?.packetsIn, 1);
});

test('a flood of ZRTP packets is cut at the burst, then at 32 per second', () => {
  const { a } = legs();
  let handed = 0;
  a.zrtp = () => { handed++; };
  for (let i = 0; i < 500; i++) a.receiveRtp(zrtp(), '192.0.2.1', 4000, 0);
  assert.equal(handed, 64);
  assert.equal(a.zrtpDropped, 500 - 64);
  for (let i = 0; i < 100; i++) a.receiveRtp(zrtp(), '192.0.2.1', 4000, 1000);
  assert.equal(handed, 64 + 32, 'one second later: 32 more');
});
