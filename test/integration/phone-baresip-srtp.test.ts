/**
 * SDES-SRTP interop with a real phone: baresip (its `srtp` module, `mediaenc=srtp-mand`: offers
 * RTP/SAVP with `a=crypto` keys and refuses plain media) registers over TLS as a device whose
 * policy is `required` and calls a plain-RTP baresip over UDP (policy `off`). Strowger answers
 * the SRTP side with its own key and relays decrypt → relay → encrypt.
 *
 * Asserted: each phone decodes the other's tone; the RTP our leg sends to the SRTP phone is not
 * plaintext (the tone is not in the payloads as µ-law, and every packet carries the suite's tag)
 * yet opens, with the key we put in our answer (read from baresip's SIP trace), to the callee's
 * tone; the plain side carries the caller's tone in clear (so the check can fail); the call's
 * API view reports the suite measured from the leg. An SRTP offer over UDP signalling (keys in
 * clear) is refused with 488 and a Warning.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { hasBaresipModule, startBaresip, type BaresipPhone } from '../helpers/baresip.ts';
import { decodeUlaw, dominantFrequency, makeToneWav, readWavPcm, toneShare } from '../helpers/audio-analysis.ts';
import { assertSealedPcmu, ulawOf } from '../helpers/media-assert.ts';
import { startRtpCapture, type CapturedRtp } from '../helpers/rtp-capture.ts';
import { getFreePort } from '../helpers/sipp.ts';
import { api, assertIdle, DEVICE_PASSWORD, eventually } from './call-fixtures.ts';
import { SrtpContext } from '../../src/media/srtp/srtp-context.ts';
import { findSrtpSuite } from '../../src/media/srtp/srtp-suites.ts';

const TONE_A = 1000;
const TONE_B = 700;
const dir = mkdtempSync(path.join(tmpdir(), 'phone-srtp-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const toneA = path.join(dir, 'tone-a.wav');
const toneB = path.join(dir, 'tone-b.wav');
makeToneWav(toneA, { freq: TONE_A, seconds: 10, rate: 8000, amplitude: 0.4 });
makeToneWav(toneB, { freq: TONE_B, seconds: 10, rate: 8000, amplitude: 0.4 });

function assertHeard(file: string, freq: number, who: string): void {
  const wav = readWavPcm(file);
  assert.ok(wav.samples.length / wav.sampleRate >= 1.5, `${who}: too little audio`);
  const f = dominantFrequency(wav.samples, wav.sampleRate, { min: 200, max: 3400 });
  assert.ok(Math.abs(f - freq) <= 15, `${who}: dominant ${f.toFixed(1)} Hz, want ${freq}`);
}

describe('SDES-SRTP with baresip', { skip: !hasBaresipModule('srtp') && 'baresip srtp module not installed' }, () => {
  let t: TestServer;
  let tlsPort: number;

  before(async () => {
    tlsPort = await getFreePort('tcp');
    t = await startTestServer('sqlite', { STROWGER_SIP_TLS_PORT: String(tlsPort), STROWGER_RTP_PORTS: '22400-22599', STROWGER_MEDIA_WORKERS: '1' });
    await api(t, 'POST', '/api/devices', { name: 'alice', username: 'alice', password: DEVICE_PASSWORD, srtp: 'required' });
    await api(t, 'POST', '/api/devices', { name: 'bob', username: 'bob', password: DEVICE_PASSWORD, srtp: 'off' });
  });
  after(() => t.close());
  afterEach(() => assertIdle(t));

  test('srtp-mand phone over TLS calls a plain phone: tones both ways, no plaintext on the SRTP leg', async () => {
    const outA = path.join(dir, 'a.wav');
    const outB = path.join(dir, 'b.wav');
    const phones: BaresipPhone[] = [];
    const captures: Array<{ stop(): Promise<CapturedRtp[]> }> = [];
    try {
      const b = await startBaresip({ user: 'bob', password: DEVICE_PASSWORD, port: t.sipPort, codecs: ['PCMU'], audioIn: toneB, audioOut: outB, autoAnswer: true });
      phones.push(b);
      const a = await startBaresip({ user: 'alice', password: DEVICE_PASSWORD, port: tlsPort, transport: 'tls', codecs: ['PCMU'], audioIn: toneA, audioOut: outA, mediaenc: 'srtp-mand' });
      phones.push(a);
      await Promise.all([a.registered, b.registered]);
      await a.dial(`sip:bob@127.0.0.1:${tlsPort}`);
      await a.waitForEvent('CALL_ESTABLISHED', 5000);
      const call = await eventually('the answered call', async () => ((await api(t, 'GET', '/api/calls')).data as Array<{ id: string; state: string }>).find((c) => c.state === 'answered'));
      const view = await api(t, 'GET', `/api/calls/${call.id}`);
      const legA = view.legs.a.media;
      const legB = view.legs.b.media;
      assert.ok(legA.srtp && findSrtpSuite(legA.srtp.suite), `caller leg runs SRTP: ${JSON.stringify(legA)}`);
      assert.equal(legB.srtp, null);
      const toAlice = await startRtpCapture(path.join(dir, 'to-alice.pcap'), Number(/:(\d+)$/.exec(legA.remote)![1]), legA.local_port);
      captures.push(toAlice);
      const toBob = await startRtpCapture(path.join(dir, 'to-bob.pcap'), Number(/:(\d+)$/.exec(legB.remote)![1]), legB.local_port);
      captures.push(toBob);
      await sleep(2500);
      const during = await api(t, 'GET', `/api/calls/${call.id}`);
      assert.equal(during.legs.a.media.srtp.auth_failures, 0, 'every packet of the phone authenticated');
      const status = await api(t, 'GET', '/api/system/srtp/status');
      assert.deepEqual(status.devices, { off: 1, optional: 0, required: 1 });
      assert.equal(status.insecure_signalling_allowed, false);
      assert.deepEqual(status.suites, ['AEAD_AES_128_GCM', 'AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32']);
      const { unprotected, protected: sealed, ...leg } = status.calls.legs[0];
      assert.deepEqual({ ...status.calls, legs: [leg] }, { active: 1, encrypted: 1, legs: [{ call_id: call.id, leg: 'a', suite: legA.srtp.suite, auth_failures: 0, replays: 0 }] });
      assert.ok(unprotected >= 100 && sealed >= 100, `2.5 s of 20 ms packets each way: ${unprotected} opened, ${sealed} sealed`);
      // The aggregated view: alice's leg is TLS + SRTP (what baresip negotiated), bob's UDP + plain RTP.
      const enc = await api(t, 'GET', '/api/system/encryption/status');
      assert.deepEqual(enc.signalling.listeners.map((l: { protocol: string; port: number }) => `${l.protocol}:${l.port}`), [`tls:${tlsPort}`]);
      assert.equal(enc.signalling.certificate.fingerprint256, (await api(t, 'GET', '/api/system/tls/status')).certificate.fingerprint256);
      const encCall = enc.calls.list.find((c: { call_id: string }) => c.call_id === call.id);
      const byLeg = Object.fromEntries(encCall.legs.map((l: { leg: string }) => [l.leg, l]));
      assert.deepEqual([byLeg.a.signalling, byLeg.a.signalling_encrypted, byLeg.a.media, byLeg.a.suite], ['tls', true, 'srtp', legA.srtp.suite]);
      assert.deepEqual([byLeg.b.signalling, byLeg.b.signalling_encrypted, byLeg.b.media, byLeg.b.suite], ['udp', false, 'rtp', null]);
      assert.ok(byLeg.a.packets_in >= 100 && byLeg.b.packets_in >= 100);
      assert.equal(encCall.fully_encrypted, false, 'bob\'s leg is plain');
      assert.deepEqual([enc.calls.active, enc.calls.encrypted], [1, 0]);
      assert.deepEqual([byLeg.a.keying, byLeg.a.zrtp_state, byLeg.b.keying], ['sdes', null, null]);
      assert.equal(enc.media.zrtp.secure, 0);
      await a.hangup();
      await Promise.all([a.waitForEvent('CALL_CLOSED', 3000), b.waitForEvent('CALL_CLOSED', 3000)]);
      await Promise.all(phones.map((p) => p.close()));
      assertHeard(outB, TONE_A, 'bob heard alice');
      assertHeard(outA, TONE_B, 'alice heard bob');

      const secure = (await toAlice.stop()).filter((p) => p.payloadType === 0);
      const plain = (await toBob.stop()).filter((p) => p.payloadType === 0);
      captures.length = 0;
      assert.ok(plain.length >= 50, `captured ${plain.length} plain packets`);
      assertSealedPcmu(secure, legA.srtp.suite, TONE_B, 'the SRTP leg to alice');
      const suite = findSrtpSuite(legA.srtp.suite)!;
      assert.ok(toneShare(ulawOf(plain), TONE_A) > 0.5, 'the plain leg carries the caller\'s tone in clear');

      // Our answer's key (from alice's SIP trace: the a=crypto of the 200 OK she received) opens the packets.
      const lines = [...a.output().matchAll(/a=crypto:(\d+) (\S+) inline:([A-Za-z0-9+/=]+)/g)].filter((m) => m[2] === suite.name);
      const opened = lines.map((m) => {
        const key = Buffer.from(m[3]!, 'base64');
        const ctx = SrtpContext.fromMasterKey(suite, key.subarray(0, suite.keyLength), key.subarray(suite.keyLength));
        return secure.map((p) => ctx.unprotectRtp(p.raw));
      }).find((list) => list.every((p) => p !== null));
      assert.ok(opened, `one of the keys in the trace (${lines.length}) opens every packet`);
      assert.ok(toneShare(decodeUlaw(Buffer.concat(opened.map((p) => p!.subarray(12)))), TONE_B) > 0.5, 'decrypted: the callee\'s tone');
    } finally {
      for (const c of captures) await c.stop().catch(() => {});
      await Promise.all(phones.map((p) => p.close()));
    }
  });

  test('GET /api/system/srtp/status: authentication required; no calls, nothing encrypted', async () => {
    const anon = await t.request('GET', '/api/system/srtp/status');
    assert.equal(anon.status, 401);
    assert.equal(anon.body.error.code, 'authentication_error');
    const status = await api(t, 'GET', '/api/system/srtp/status');
    assert.deepEqual(status.calls, { active: 0, encrypted: 0, legs: [] });
  });

  test('an SRTP offer over UDP signalling is refused (488, Warning): keys would travel in clear', async () => {
    const phones: BaresipPhone[] = [];
    try {
      const b = await startBaresip({ user: 'bob', password: DEVICE_PASSWORD, port: t.sipPort, codecs: ['PCMU'], autoAnswer: true });
      phones.push(b);
      const a = await startBaresip({ user: 'alice', password: DEVICE_PASSWORD, port: t.sipPort, codecs: ['PCMU'], mediaenc: 'srtp-mand' });
      phones.push(a);
      await Promise.all([a.registered, b.registered]);
      await a.dial(`sip:bob@127.0.0.1:${t.sipPort}`);
      const closed = await a.waitForEvent('CALL_CLOSED', 5000);
      assert.match(String(closed.param), /488/);
      assert.match(a.output(), /Warning: 305 [^\r\n]*"Incompatible media format"/);
      assert.equal(b.events.some((e) => e.type === 'CALL_INCOMING'), false, 'the callee never rang');
    } finally {
      await Promise.all(phones.map((p) => p.close()));
    }
  });
});

