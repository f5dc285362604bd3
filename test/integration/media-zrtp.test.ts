/**
 * ZRTP through the media worker over real UDP, with a second in-process ZRTP endpoint as the
 * phone (the interop with a real phone is phone-linphone-zrtp.test.ts): the worker hands the
 * phone's ZRTP packets to the main thread, the handshake sets the leg's SRTP keys, and then the
 * phone's SRTP is relayed to a plain leg in clear and the plain leg's RTP reaches the phone as
 * SRTP that the phone's own keys open.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMediaEngine, type MediaEngine } from '../../src/media/media-engine.ts';
import { MemoryZrtpCache, ZrtpEndpoint, ZrtpService, isZrtpPacket, type ZrtpSecure, type ZrtpTimers } from '../../src/media/zrtp/index.ts';
import { SrtpContext } from '../../src/media/srtp/srtp-context.ts';
import { findSrtpSuite } from '../../src/media/srtp/srtp-suites.ts';
import { writeRtpHeader } from '../../src/media/rtp-writer.ts';

const timers: ZrtpTimers = { now: () => Date.now(), setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };
let engine: MediaEngine;
before(async () => { engine = await createMediaEngine({ portRange: [25600, 25699], bindAddress: '127.0.0.1', workers: 1 }); });
after(() => engine.close());

async function socket(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  return s;
}

function rtp(seq: number, fill: number): Buffer {
  const b = Buffer.alloc(12 + 160, fill);
  writeRtpHeader(b, { marker: false, payloadType: 0, sequenceNumber: seq, timestamp: seq * 160, ssrc: 0xabc });
  return b;
}

test('phone endpoint <-> Strowger over the relay worker: same SAS, then SRTP one side, RTP the other', async () => {
  const [a, b] = await engine.createLegPair();
  const phoneA = await socket();
  const phoneB = await socket();
  const portOf = (s: dgram.Socket) => s.address().port;
  await engine.setRemote(a.id, { address: '127.0.0.1', rtpPort: portOf(phoneA) });
  await engine.setRemote(b.id, { address: '127.0.0.1', rtpPort: portOf(phoneB) });
  await engine.bridge(a.id, b.id);
  const service = new ZrtpService({ engine, cache: new MemoryZrtpCache(), zid: randomBytes(12), timers });
  let phoneResult: ZrtpSecure | undefined;
  const received: Buffer[] = [];
  const phone = new ZrtpEndpoint({
    zid: randomBytes(12), cache: new MemoryZrtpCache(), timers, keyAgreements: ['EC25'],
    send: (p) => phoneA.send(p, a.rtpPort, '127.0.0.1'),
    onSecure: (r) => { phoneResult = r; },
    onFailed: (reason) => assert.fail(reason),
  });
  phoneA.on('message', (m) => { if (isZrtpPacket(m)) void phone.receive(m); else received.push(m); });
  const atB: Buffer[] = [];
  phoneB.on('message', (m) => atB.push(m));
  try {
    phone.start();
    await service.start(a.id, { callId: 'c1', side: 'a' });
    const ours = await (async () => {
      for (let i = 0; i < 100; i++) {
        const s = service.sessions()[0];
        if (s?.state === 'secure' && s.sas !== null && phoneResult) return s;
        await sleep(50);
      }
      assert.fail(`not secure: ${JSON.stringify(service.sessions())}`);
    })();
    assert.equal(ours.sas, phoneResult!.sas);
    assert.equal(ours.keyAgreement, 'EC25');
    const stats = await engine.stats(a.id);
    assert.equal(stats.srtp?.suite, 'AES_CM_128_HMAC_SHA1_80');
    assert.ok(stats.zrtp && stats.zrtp.packetsIn >= 3 && stats.zrtp.packetsOut >= 3, JSON.stringify(stats.zrtp));

    const suite = findSrtpSuite(phoneResult!.srtp.suite)!;
    const tx = SrtpContext.fromMasterKey(suite, Buffer.from(phoneResult!.srtp.txKey).subarray(0, 16), Buffer.from(phoneResult!.srtp.txKey).subarray(16));
    const rx = SrtpContext.fromMasterKey(suite, Buffer.from(phoneResult!.srtp.rxKey).subarray(0, 16), Buffer.from(phoneResult!.srtp.rxKey).subarray(16));
    for (let i = 1; i <= 20; i++) {
      phoneA.send(tx.protectRtp(rtp(i, 0x55)), a.rtpPort, '127.0.0.1');
      phoneB.send(rtp(i, 0x66), b.rtpPort, '127.0.0.1');
      await sleep(5);
    }
    await sleep(200);
    const plainAtB = atB.filter((m) => m[0]! >= 0x80);
    assert.ok(plainAtB.length >= 18, `B got ${plainAtB.length}`);
    assert.ok(plainAtB.every((m) => m.length === 172 && m.subarray(12).every((x) => x === 0x55)), 'B hears A in clear');
    const srtpAtA = received.filter((m) => m[0]! >= 0x80);
    assert.ok(srtpAtA.length >= 18);
    assert.ok(srtpAtA.every((m) => m.length === 172 + suite.tagLength && !m.subarray(12, 172).every((x) => x === 0x66)), 'A gets SRTP, not the payload in clear');
    const opened = srtpAtA.map((m) => rx.unprotectRtp(m));
    assert.ok(opened.every((p) => p !== null && p.subarray(12).every((x) => x === 0x66)), 'the phone\'s ZRTP keys open what Strowger sends');
    assert.equal((await engine.stats(a.id)).srtp?.authFailures, 0);
  } finally {
    phone.stop();
    service.close();
    phoneA.close();
    phoneB.close();
    await engine.releaseLeg(a.id);
    await engine.releaseLeg(b.id);
  }
});
