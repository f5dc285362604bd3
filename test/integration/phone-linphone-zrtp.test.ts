/**
 * ZRTP (RFC 6189) with a real phone: linphonec (Debian `linphone-cli`, libbzrtp 5.1) calls a
 * plain baresip through Strowger with ZRTP enabled. Strowger is the ZRTP endpoint of the
 * caller's leg (it anchors the media), so the SAS linphone shows is the one our API reports.
 *
 * Asserted: the same SAS on both ends; the leg to linphone carries SRTP both ways after the
 * handshake (every RTP packet is 160 octets of PCMU + the 10-octet HS80 tag, the tones are not
 * readable as µ-law) while the plain leg carries linphone's tone in clear; each phone hears the
 * other's tone (so our SRTP keys are the ones linphone derived); the SAS verdict is stored and
 * the second call finds the retained secret (cache match rs1). Routes: success, validation
 * and auth errors. Strict mode ends a call whose device sends no ZRTP (cause zrtp_failed).
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestServer, createUserSession, type TestServer } from '../helpers/server.ts';
import { startBaresip, type BaresipPhone } from '../helpers/baresip.ts';
import { hasLinphonec, readLinphoneWav, startLinphone, type LinphonePhone } from '../helpers/linphone.ts';
import { decodeUlaw, dominantFrequency, makeToneWav, readWavPcm, toneShare } from '../helpers/audio-analysis.ts';
import { startRtpCapture, type CapturedRtp } from '../helpers/rtp-capture.ts';
import { api, assertIdle, cdrCount, DEVICE_PASSWORD, eventually, nextCdr } from './call-fixtures.ts';

const TONE_LIN = 1000;
const TONE_BOB = 700;
const dir = mkdtempSync(path.join(tmpdir(), 'phone-zrtp-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const toneLin = path.join(dir, 'tone-lin.wav');
const toneBob = path.join(dir, 'tone-bob.wav');
makeToneWav(toneLin, { freq: TONE_LIN, seconds: 30, rate: 8000, amplitude: 0.4 });
makeToneWav(toneBob, { freq: TONE_BOB, seconds: 30, rate: 8000, amplitude: 0.4 });

const rtpOnly = (pkts: CapturedRtp[]) => pkts.filter((p) => p.raw[0]! >= 0x80 && p.raw[0]! < 0xc0 && (p.raw[1]! & 0x7f) === 0);
const ulaw = (pkts: CapturedRtp[], strip = 0) => decodeUlaw(Buffer.concat(pkts.map((p) => p.payload.subarray(0, p.payload.length - strip))));

interface Session { session_id: string; call_id: string; leg: string; state: string; sas: string | null; cache_matched: string | null; sas_verified: boolean; both_verified: boolean; peer_client_id: string | null; key_agreement: string | null; role: string | null; srtp_suite: string | null }

describe('ZRTP with linphonec', { skip: !hasLinphonec() && 'linphonec (Debian linphone-cli) not installed' }, () => {
  let t: TestServer;

  before(async () => {
    t = await startTestServer('sqlite', { STROWGER_RTP_PORTS: '25400-25599', STROWGER_MEDIA_WORKERS: '1' });
    await api(t, 'POST', '/api/devices', { name: 'lin', username: 'lin', password: DEVICE_PASSWORD });
    await api(t, 'POST', '/api/devices', { name: 'bob', username: 'bob', password: DEVICE_PASSWORD });
  });
  after(() => t.close());
  afterEach(() => assertIdle(t));

  test('routes: authentication and admin role required; bad bodies refused with nothing changed', async () => {
    for (const [method, url] of [['GET', '/api/system/zrtp/status'], ['PUT', '/api/system/zrtp/config'], ['GET', '/api/system/zrtp/sessions'], ['GET', '/api/system/zrtp/sas'], ['POST', '/api/system/zrtp/sas/verify']] as const) {
      const anon = await t.request(method, url, { body: method === 'GET' ? undefined : { enabled: true } });
      assert.equal(anon.status, 401, `${method} ${url}`);
      assert.equal(anon.body.error.code, 'authentication_error');
    }
    const user = await createUserSession(t);
    const forbidden = await t.request('GET', '/api/system/zrtp/status', { cookie: user });
    assert.equal(forbidden.status, 403);
    for (const body of [{}, { enabled: 'yes' }, { enabled: true, bogus: 1 }, { strict_mode: 'maybe' }]) {
      const r = await t.request('PUT', '/api/system/zrtp/config', { cookie: t.adminCookie, body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.error.code, 'validation_error');
    }
    const status = await api(t, 'GET', '/api/system/zrtp/status');
    assert.equal(status.enabled, false, 'default off, unchanged by the refused bodies');
    assert.match(status.zid, /^[0-9a-f]{24}$/);
    assert.deepEqual(status.algorithms, { hash: ['S256'], cipher: ['AES1'], auth_tag: ['HS80', 'HS32'], key_agreement: ['EC25', 'DH3k'], sas: ['B32'] });
    const v1 = await t.request('POST', '/api/system/zrtp/sas/verify', { cookie: t.adminCookie, body: { verified: true } });
    assert.equal(v1.status, 400);
    const v2 = await t.request('POST', '/api/system/zrtp/sas/verify', { cookie: t.adminCookie, body: { session_id: 'no-such-session', verified: true } });
    assert.equal(v2.status, 404);
    const s404 = await t.request('GET', '/api/system/zrtp/sas?session_id=no-such-session', { cookie: t.adminCookie });
    assert.equal(s404.status, 404);
    assert.deepEqual(await api(t, 'PUT', '/api/system/zrtp/config', { enabled: true }), { enabled: true, strict_mode: false });
    assert.deepEqual((await api(t, 'GET', '/api/system/zrtp/sessions')).data, []);
  });

  test('linphonec calls a plain phone: same SAS, SRTP both ways on its leg, tones heard; second call uses the retained secret', async () => {
    await api(t, 'PUT', '/api/system/zrtp/config', { enabled: true });
    const recLin = path.join(dir, 'lin-heard.wav');
    const outBob = path.join(dir, 'bob-heard.wav');
    let bob: BaresipPhone | undefined;
    let lin: LinphonePhone | undefined;
    const captures: Array<{ stop(): Promise<CapturedRtp[]> }> = [];
    try {
      bob = await startBaresip({ user: 'bob', password: DEVICE_PASSWORD, port: t.sipPort, codecs: ['PCMU'], audioIn: toneBob, audioOut: outBob, autoAnswer: true });
      await bob.registered;
      lin = await startLinphone({ user: 'lin', password: DEVICE_PASSWORD, sipPort: t.sipPort, domain: 'strowger.test', playFile: toneLin, recordFile: recLin });
      await lin.call(`sip:bob@127.0.0.1:${t.sipPort}`);
      const fromLin = await lin.sas(0);
      const session = await eventually('the secure session of the caller leg', async () => ((await api(t, 'GET', '/api/system/zrtp/sessions')).data as Session[]).find((s) => s.leg === 'a' && s.state === 'secure'));
      assert.equal(session.sas, fromLin.sas, 'linphone and Strowger show the same SAS');
      assert.equal(fromLin.verified, false);
      assert.equal(session.peer_client_id, 'BZRTPv1.1');
      assert.equal(session.key_agreement, 'DH3k', 'linphone offers DH3k (and Mult) only');
      assert.equal(session.srtp_suite, 'AES_CM_128_HMAC_SHA1_80');
      assert.equal(session.cache_matched, null, 'first call');
      const sasList = (await api(t, 'GET', `/api/system/zrtp/sas?session_id=${session.session_id}`)).data;
      assert.deepEqual(sasList.map((s: { sas: string }) => s.sas), [fromLin.sas]);
      assert.deepEqual((await api(t, 'GET', '/api/system/zrtp/sas')).data.map((s: { session_id: string }) => s.session_id), [session.session_id], 'only secure sessions have a SAS');
      // bob (baresip) speaks no ZRTP: its leg's session has no SAS to show or verify.
      const plainLeg = ((await api(t, 'GET', '/api/system/zrtp/sessions')).data as Session[]).find((s) => s.leg === 'b')!;
      assert.ok(plainLeg && plainLeg.sas === null && plainLeg.state !== 'secure', JSON.stringify(plainLeg));
      const early = await t.request('POST', '/api/system/zrtp/sas/verify', { cookie: t.adminCookie, body: { session_id: plainLeg.session_id, verified: true } });
      assert.equal(early.status, 409);
      assert.equal(early.body.error.code, 'conflict');
      assert.equal((await t.request('GET', `/api/system/zrtp/sas?session_id=${plainLeg.session_id}`, { cookie: t.adminCookie })).status, 409);

      const view = await api(t, 'GET', `/api/calls/${session.call_id}`);
      const legA = view.legs.a.media;
      const legB = view.legs.b.media;
      assert.equal(legA.srtp?.suite, 'AES_CM_128_HMAC_SHA1_80', 'the relay leg itself runs SRTP');
      assert.equal(legB.srtp, null);
      const linPort = Number(/:(\d+)$/.exec(legA.remote)![1]);
      const toLin = await startRtpCapture(path.join(dir, 'to-lin.pcap'), linPort, legA.local_port);
      captures.push(toLin);
      const fromLinCap = await startRtpCapture(path.join(dir, 'from-lin.pcap'), legA.local_port, linPort);
      captures.push(fromLinCap);
      const toBob = await startRtpCapture(path.join(dir, 'to-bob.pcap'), Number(/:(\d+)$/.exec(legB.remote)![1]), legB.local_port);
      captures.push(toBob);
      await sleep(2500);
      const during = await api(t, 'GET', `/api/calls/${session.call_id}`);
      // A packet or two sent in clear while the two ends switch to SRTP may fail; none after.
      assert.ok(legA.srtp.auth_failures <= 2, `switch-over: ${legA.srtp.auth_failures} failures`);
      assert.equal(during.legs.a.media.srtp.auth_failures, legA.srtp.auth_failures, 'every packet from linphone authenticated with the ZRTP keys');

      const verified = await api(t, 'POST', '/api/system/zrtp/sas/verify', { session_id: session.session_id, verified: true });
      assert.equal(verified.sas_verified, true);
      const status = await api(t, 'GET', '/api/system/zrtp/status');
      assert.deepEqual(status.cache, { peers: 1, verified: 1 });
      assert.equal(status.sessions.secure, 1, 'one leg encrypted by ZRTP now (the plain phone sent no Hello)');

      const secure = rtpOnly(await toLin.stop());
      const secureIn = rtpOnly(await fromLinCap.stop());
      const plain = rtpOnly(await toBob.stop());
      captures.length = 0;
      assert.ok(secure.length >= 50 && secureIn.length >= 50 && plain.length >= 50, `captured ${secure.length} / ${secureIn.length} / ${plain.length}`);
      for (const [list, who] of [[secure, 'to linphone'], [secureIn, 'from linphone']] as const) {
        assert.ok(list.every((p) => p.payload.length === 160 + 10), `${who}: each SRTP packet is 160 octets + the 80-bit tag`);
      }
      assert.ok(toneShare(ulaw(secure, 10), TONE_BOB) < 0.05, 'bob\'s tone is not readable on the wire to linphone');
      assert.ok(toneShare(ulaw(secureIn, 10), TONE_LIN) < 0.05, 'linphone\'s tone is not readable on the wire from it');
      assert.ok(toneShare(ulaw(plain), TONE_LIN) > 0.5, 'the plain leg carries linphone\'s tone in clear (Strowger decrypted it)');

      await lin.hangup();
      await bob.waitForEvent('CALL_CLOSED', 5000);
      await assertIdle(t);

      // Second call: both ends cached rs1 from the first; ours still says verified.
      const before = (await api(t, 'GET', '/api/system/zrtp/status')).sessions.secured_total;
      await lin.call(`sip:bob@127.0.0.1:${t.sipPort}`);
      const second = await lin.sas(1);
      const s2 = await eventually('the second secure session', async () => ((await api(t, 'GET', '/api/system/zrtp/sessions')).data as Session[]).find((s) => s.leg === 'a' && s.state === 'secure'));
      assert.equal(s2.sas, second.sas);
      assert.equal(s2.cache_matched, 'rs1', 'the retained secret of the first call was used');
      assert.equal(s2.sas_verified, true, 'our verdict on this peer carried over');
      assert.equal(s2.both_verified, false, 'linphone never marked the SAS verified, so it still shows it');
      assert.equal((await api(t, 'GET', '/api/system/zrtp/status')).sessions.secured_total, before + 1);
      await sleep(1000);
      await lin.hangup();
      await bob.waitForEvent('CALL_CLOSED', 5000);
      await lin.close();
      await bob.close();

      const heardByLin = readLinphoneWav(recLin);
      const tail = heardByLin.samples.subarray(Math.max(0, heardByLin.samples.length - heardByLin.sampleRate * 2));
      const fLin = dominantFrequency(tail, heardByLin.sampleRate, { min: 200, max: 3400 });
      assert.ok(Math.abs(fLin - TONE_BOB) <= 15, `linphone heard ${fLin.toFixed(1)} Hz through SRTP, want ${TONE_BOB}`);
      const heardByBob = readWavPcm(outBob);
      const fBob = dominantFrequency(heardByBob.samples, heardByBob.sampleRate, { min: 200, max: 3400 });
      assert.ok(Math.abs(fBob - TONE_LIN) <= 15, `bob heard ${fBob.toFixed(1)} Hz, want ${TONE_LIN}`);
    } finally {
      for (const c of captures) await c.stop().catch(() => {});
      await lin?.close();
      await bob?.close();
    }
  });

  test('strict mode: a device that sends no ZRTP Hello gets its call ended (zrtp_failed)', async () => {
    assert.deepEqual(await api(t, 'PUT', '/api/system/zrtp/config', { strict_mode: true }), { enabled: true, strict_mode: true });
    const phones: BaresipPhone[] = [];
    try {
      const bob = await startBaresip({ user: 'bob', password: DEVICE_PASSWORD, port: t.sipPort, codecs: ['PCMU'], autoAnswer: true });
      phones.push(bob);
      const lin = await startBaresip({ user: 'lin', password: DEVICE_PASSWORD, port: t.sipPort, codecs: ['PCMU'] });
      phones.push(lin);
      await Promise.all([bob.registered, lin.registered]);
      const cdrs = await cdrCount(t);
      await lin.dial(`sip:bob@127.0.0.1:${t.sipPort}`);
      await lin.waitForEvent('CALL_ESTABLISHED', 5000);
      // Our Hellos go unanswered for ~4 s (T1: 20 tries), then the call ends.
      await lin.waitForEvent('CALL_CLOSED', 8000);
      const cdr = await nextCdr(t, cdrs);
      assert.equal(cdr.hangup_cause, 'zrtp_failed');
      assert.ok((await api(t, 'GET', '/api/system/zrtp/status')).sessions.failed_total >= 0);
    } finally {
      await Promise.all(phones.map((p) => p.close()));
      await api(t, 'PUT', '/api/system/zrtp/config', { enabled: false, strict_mode: false });
    }
  });
});
