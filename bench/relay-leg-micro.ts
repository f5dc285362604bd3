/**
 * Micro-benchmark of the zero-decode hot path: `RelayLeg.receiveRtp` of a bridged leg with a
 * no-op socket, ns per packet (median of rounds). `node --import tsx bench/relay-leg-micro.ts`
 * `RELAY_MICRO_SRTP=<suite>` (e.g. AES_CM_128_HMAC_SHA1_80): the sink leg is SRTP, so every
 * packet is protected on its way out (plain -> SRTP bridge).
 */
import { RelayLeg, bridgeLegs } from '../src/media/relay-leg.ts';
import type { UdpPort } from '../src/media/relay-leg.ts';
import { writeRtpHeader } from '../src/media/rtp-writer.ts';
import { LegSrtp } from '../src/media/srtp/leg-srtp.ts';
import { findSrtpSuite, type SrtpSuiteName } from '../src/media/srtp/srtp-suites.ts';

const sink: UdpPort = { send: () => {} };
const a = new RelayLeg(1, 10000, sink, sink, 3000, 2000);
const b = new RelayLeg(2, 10002, sink, sink, 3000, 2000);
const codec = (pt: number) => ({ pt, name: 'PCMU', clockRate: 8000, channels: 1, fmtp: null, telephoneEventPt: 101, ptime: 20 });
a.codec = codec(0);
b.codec = codec(0);
a.setRemote({ address: '192.0.2.1', rtpPort: 4000, rtcpPort: 4001, rtcpMux: false }, 0);
b.setRemote({ address: '192.0.2.2', rtpPort: 6000, rtcpPort: 6001, rtcpMux: false }, 0);
bridgeLegs(a, b, 0);
const srtpSuite = process.env.RELAY_MICRO_SRTP ? findSrtpSuite(process.env.RELAY_MICRO_SRTP) : undefined;
if (srtpSuite) {
  const key = Buffer.alloc(srtpSuite.keyLength + srtpSuite.saltLength, 7);
  b.srtp = new LegSrtp({ suite: srtpSuite.name as SrtpSuiteName, rxKey: key, txKey: key });
}
const pkt = Buffer.alloc(172);
const N = srtpSuite ? 200_000 : 2_000_000;
const rounds: number[] = [];
let seq = 0;
for (let r = 0; r < 7; r++) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    seq = (seq + 1) & 0xffff;
    writeRtpHeader(pkt, { marker: false, payloadType: 0, sequenceNumber: seq, timestamp: (seq * 160) >>> 0, ssrc: 0x1234 });
    a.receiveRtp(pkt, '192.0.2.1', 4000, i * 0.02);
  }
  rounds.push(Number(process.hrtime.bigint() - t0) / N);
}
// The header write of the loop is measured alone and subtracted.
const t0 = process.hrtime.bigint();
for (let i = 0; i < N; i++) {
  seq = (seq + 1) & 0xffff;
  writeRtpHeader(pkt, { marker: false, payloadType: 0, sequenceNumber: seq, timestamp: (seq * 160) >>> 0, ssrc: 0x1234 });
}
const base = Number(process.hrtime.bigint() - t0) / N;
rounds.sort((x, y) => x - y);
console.log(`receiveRtp${srtpSuite ? ` (sink ${srtpSuite.name})` : ''}: median ${(rounds[3] - base).toFixed(1)} ns/packet (min ${(rounds[0] - base).toFixed(1)}, loop header write ${base.toFixed(1)} ns subtracted), packetsOut ${b.rtp.packetsOut}`);
