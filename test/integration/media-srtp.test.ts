/**
 * SRTP legs of the relay engine over real UDP on 127.0.0.1: a plain RTP endpoint bridged to an
 * SRTP endpoint. What reaches the SRTP side must decrypt with the leg's transmit key to the
 * payload sent in plain; what the SRTP side sends (with its own key) must arrive in plain;
 * tampered or replayed packets are dropped and counted, never relayed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createMediaEngine, MediaError, SRTP_SUITES } from '../../src/media/index.ts';
import type { MediaEngine, SrtpSuiteName } from '../../src/media/index.ts';
import { SrtpContext } from '../../src/media/srtp/srtp-context.ts';
import { Endpoint, receiverReport, rtpPacket } from '../helpers/udp-endpoint.ts';

const HOST = '127.0.0.1';
const BASE = 26000 + 2 * Math.floor(Math.random() * 1500);

function context(suite: SrtpSuiteName, keySalt: Buffer): SrtpContext {
  const s = SRTP_SUITES[suite];
  return SrtpContext.fromMasterKey(s, keySalt.subarray(0, s.keyLength), keySalt.subarray(s.keyLength));
}

const payloads = (pkts: Buffer[]): string[] => pkts.map((p) => p.subarray(12).toString('hex'));

describe('SRTP legs over UDP', () => {
  let engine: MediaEngine;
  const endpoints: Endpoint[] = [];

  before(async () => {
    engine = await createMediaEngine({ portRange: [BASE, BASE + 99], bindAddress: HOST, workers: 1, tickMs: 100 });
  });
  after(async () => {
    for (const e of endpoints) e.close();
    await engine.close();
  });

  for (const suite of ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32', 'AEAD_AES_128_GCM'] as const) {
    test(`${suite}: plain -> SRTP and SRTP -> plain, tampering dropped and counted`, async () => {
      const s = SRTP_SUITES[suite];
      const plain = await Endpoint.open();
      const secure = await Endpoint.open();
      endpoints.push(plain, secure);
      const [lp, ls] = await engine.createLegPair();
      const ourKey = randomBytes(s.keyLength + s.saltLength);
      const phoneKey = randomBytes(s.keyLength + s.saltLength);
      await engine.setSrtp(ls.id, { suite, rxKey: phoneKey, txKey: ourKey });
      await engine.setRemote(lp.id, { address: HOST, rtpPort: plain.port, rtcpPort: plain.port });
      await engine.setRemote(ls.id, { address: HOST, rtpPort: secure.port, rtcpMux: true });
      await engine.bridge(lp.id, ls.id);

      // Plain in, SRTP out: ciphertext on the wire, our key opens it to the same payload.
      const sent = Array.from({ length: 5 }, (_, i) => rtpPacket(0x1111, i));
      for (const p of sent) await plain.send(p, lp.rtpPort);
      await secure.waitFor(5);
      assert.equal(secure.received.length, 5);
      for (const p of secure.received) {
        assert.equal(p.length, 172 + s.tagLength, 'payload plus the suite\'s tag');
        assert.ok(!p.includes(sent[0]!.subarray(12, 40)), 'no plaintext on the wire');
      }
      const opener = context(suite, ourKey);
      const opened = secure.received.map((p) => opener.unprotectRtp(p));
      assert.ok(opened.every((p) => p !== null), 'authenticates with our key');
      assert.deepEqual(payloads(opened as Buffer[]), payloads(sent));
      assert.equal(context(suite, phoneKey).unprotectRtp(secure.received[0]!), null, 'not with the phone\'s key');

      // SRTP in (the phone's key), plain out.
      const sealer = context(suite, phoneKey);
      const back = Array.from({ length: 4 }, (_, i) => rtpPacket(0x2222, 100 + i));
      const sealed = back.map((p) => sealer.protectRtp(p));
      for (const p of sealed) await secure.send(p, ls.rtpPort);
      await plain.waitFor(4);
      assert.deepEqual(payloads(plain.received), payloads(back));

      // Tampered, replayed and foreign-key packets: dropped, counted, nothing relayed.
      const tampered = Buffer.from(sealer.protectRtp(rtpPacket(0x2222, 104)));
      tampered[20] ^= 1;
      await secure.send(tampered, ls.rtpPort);
      await secure.send(sealed[0]!, ls.rtpPort);
      await secure.send(context(suite, ourKey).protectRtp(rtpPacket(0x2222, 105)), ls.rtpPort);
      // SRTCP both ways over rtcp-mux: a sealed RR arrives in plain; a plain RR goes out sealed.
      await secure.send(sealer.protectRtcp(receiverReport(0x2222)), ls.rtpPort);
      await plain.waitFor(5);
      await plain.send(receiverReport(0x1111), lp.rtpPort + 1);
      await secure.waitFor(6);
      assert.equal(plain.received.length, 5, 'only the RR got through');
      assert.equal(plain.received[4]!.subarray(0, 4).toString('hex'), '80c90001');
      const rtcp = opener.unprotectRtcp(secure.received[5]!);
      assert.ok(rtcp !== null && rtcp.readUInt32BE(4) !== 0 && rtcp[1] === 0xc9, 'SRTCP RR opens with our key');

      const stats = await engine.stats(ls.id);
      assert.deepEqual(stats.srtp && { suite: stats.srtp.suite, auth: stats.srtp.authFailures, replays: stats.srtp.replays },
        { suite, auth: 2, replays: 1 });
      assert.equal(stats.srtp!.unprotected, 5);
      assert.equal(stats.srtp!.protected, 6);
      assert.equal(stats.rtp.latched?.port, secure.port);
      assert.equal((await engine.stats(lp.id)).srtp, null);
      await engine.releaseLeg(lp.id);
      await engine.releaseLeg(ls.id);
    });
  }

  test('a packet failing authentication does not latch the leg', async () => {
    const s = SRTP_SUITES.AES_CM_128_HMAC_SHA1_80;
    const plain = await Endpoint.open();
    const secure = await Endpoint.open();
    const intruder = await Endpoint.open();
    endpoints.push(plain, secure, intruder);
    const [lp, ls] = await engine.createLegPair();
    const phoneKey = randomBytes(30);
    await engine.setSrtp(ls.id, { suite: s.name, rxKey: phoneKey, txKey: randomBytes(30) });
    await engine.setRemote(lp.id, { address: HOST, rtpPort: plain.port });
    await engine.setRemote(ls.id, { address: HOST, rtpPort: secure.port });
    await engine.bridge(lp.id, ls.id);
    await intruder.send(context(s.name, randomBytes(30)).protectRtp(rtpPacket(7, 1)), ls.rtpPort);
    await secure.send(context(s.name, phoneKey).protectRtp(rtpPacket(8, 1)), ls.rtpPort);
    await plain.waitFor(1);
    const stats = await engine.stats(ls.id);
    assert.equal(stats.rtp.latched?.port, secure.port);
    assert.equal(stats.srtp?.authFailures, 1);
    assert.equal(plain.received.length, 1);
    await engine.releaseLeg(lp.id);
    await engine.releaseLeg(ls.id);
  });

  test('bad keys are refused', async () => {
    const [l] = await engine.createLegPair();
    await assert.rejects(engine.setSrtp(l.id, { suite: 'AES_CM_128_HMAC_SHA1_80', rxKey: randomBytes(10), txKey: randomBytes(30) }),
      (err) => err instanceof MediaError && err.code === 'MEDIA_ERR_BAD_OPTION');
    await assert.rejects(engine.setSrtp(l.id, { suite: 'NULL' as SrtpSuiteName, rxKey: randomBytes(30), txKey: randomBytes(30) }),
      (err) => err instanceof MediaError && err.code === 'MEDIA_ERR_BAD_OPTION');
    assert.equal((await engine.stats(l.id)).srtp, null);
  });
});

describe('SRTP authentication failure timeout', () => {
  let engine: MediaEngine;
  const endpoints: Endpoint[] = [];
  const timeouts: Array<{ legId: number; reason: string; at: number }> = [];

  before(async () => {
    engine = await createMediaEngine({ portRange: [BASE + 200, BASE + 299], bindAddress: HOST, workers: 1, tickMs: 100, srtpAuthTimeoutMs: 800 });
    engine.on('timeout', (legId, reason) => timeouts.push({ legId, reason, at: Date.now() }));
  });
  after(async () => {
    for (const e of endpoints) e.close();
    await engine.close();
  });

  /** Sends `count` packets 40 ms apart from `from` to the leg; `seal(i)` makes each one. */
  async function stream(from: Endpoint, port: number, count: number, seal: (i: number) => Buffer): Promise<void> {
    for (let i = 0; i < count; i++) {
      await from.send(seal(i), port);
      await new Promise((r) => setTimeout(r, 40));
    }
  }

  test('a leg whose packets all fail authentication for the timeout emits timeout(srtp_auth) once; good packets in between keep it alive', async () => {
    const s = SRTP_SUITES.AES_CM_128_HMAC_SHA1_80;
    const plain = await Endpoint.open();
    const phone = await Endpoint.open();
    endpoints.push(plain, phone);
    const [lp, ls] = await engine.createLegPair();
    const phoneKey = randomBytes(30);
    await engine.setSrtp(ls.id, { suite: s.name, rxKey: phoneKey, txKey: randomBytes(30) });
    await engine.setRemote(lp.id, { address: HOST, rtpPort: plain.port });
    await engine.setRemote(ls.id, { address: HOST, rtpPort: phone.port });
    await engine.bridge(lp.id, ls.id);
    const good = context(s.name, phoneKey);
    const wrong = context(s.name, randomBytes(30));

    // 1.6 s of failures with a good packet every 200 ms: never 800 ms of failures only.
    await stream(phone, ls.rtpPort, 40, (i) => (i % 5 === 0 ? good : wrong).protectRtp(rtpPacket(9, i)));
    assert.deepEqual(timeouts.filter((t) => t.legId === ls.id), []);

    // Then the wrong key only: the timeout fires after about 800 ms, once.
    const start = Date.now();
    await stream(phone, ls.rtpPort, 45, (i) => wrong.protectRtp(rtpPacket(9, 100 + i)));
    const fired = timeouts.filter((t) => t.legId === ls.id);
    assert.equal(fired.length, 1, JSON.stringify(fired));
    assert.equal(fired[0]!.reason, 'srtp_auth');
    assert.ok(fired[0]!.at - start >= 700, `fired after ${fired[0]!.at - start} ms`);
    const stats = await engine.stats(ls.id);
    assert.ok(stats.srtp!.authFailures >= 70, `${stats.srtp!.authFailures} failures counted`);
    assert.equal(plain.received.length, 8, 'only the packets that passed were relayed');
    await engine.releaseLeg(lp.id);
    await engine.releaseLeg(ls.id);
  });
});
