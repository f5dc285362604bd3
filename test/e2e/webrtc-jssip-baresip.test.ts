/**
 * Issue 13 acceptance, "SIP over WebSocket phones get anchored media": JsSIP in Debian's
 * Chromium (WSS, fake microphone playing a 1000 Hz tone) calls a baresip desk phone (UDP, PCMU
 * only, playing 700 Hz) through Strowger, and the desk phone calls the browser. Strowger ends ICE
 * and DTLS-SRTP in its WebRTC endpoint and bridges to plain RTP, so each side must hear the
 * other's tone: the browser's remote track is sampled in the page (WebAudio), baresip's decoded
 * audio is written to a WAV. Before the endpoint, the browser's ICE/DTLS SDP went to baresip
 * unchanged and no audio could flow. Keys pressed in the browser (RTCDTMFSender, and SIP INFO)
 * must reach the desk phone as its own DTMF events.
 *
 * Runs in a loopback-only network namespace: Chromium and werift then only have 127.0.0.1
 * (`--allow-loopback-in-peer-connection` lets Chromium use it).
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'playwright-core';
import { inLoopbackNamespace } from '../helpers/netns.ts';
import { CHROMIUM, listenInPage, webphoneTones, startJssipBrowser, waitCallState, type JssipBrowser } from '../helpers/jssip-phone.ts';
import { assertIdle, cdrCount, nextCdr } from '../integration/call-fixtures.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { getFreePort } from '../helpers/sipp.ts';
import { dtmfReceived, startBaresip, type BaresipPhone } from '../helpers/baresip.ts';
import { startRtpCapture, type RtpCapture } from '../helpers/rtp-capture.ts';
import { readWavPcm } from '../helpers/audio-analysis.ts';
import { assertTone, ulawOf } from '../helpers/media-assert.ts';

const DOMAIN = 'strowger.test';
/** Shortest call (from baresip's answer): 2 s skipped + 1.5 s of tone checked + margin. */
const CALL_MIN_MS = 5000;
const PASSWORD = 'webphone-pass-123';
const BROWSER_TONE = 1000;
const DESK_TONE = 700;
const ARTEFACTS = path.resolve('test-artefacts');

if (inLoopbackNamespace(import.meta.url)) {
  describe('JsSIP in Chromium <-> baresip (UDP, PCMU) through Strowger\'s WebRTC endpoint', { skip: existsSync(CHROMIUM) ? false : `no ${CHROMIUM}` }, () => {
    const { dir, browserTone, deskTone } = webphoneTones('webrtc-e2e-', BROWSER_TONE, DESK_TONE);
    let t: TestServer;
    let chromium: JssipBrowser;
    let page: Page;
    let wssPort: number;

    // Every call's legs, WebRTC endpoints included, are released when it ends.
    afterEach(() => assertIdle(t));

    /** A page with a registered JsSIP UA for `username`. */
    const openPhone = (username: string): Promise<Page> => chromium.openPhone({ wssUrl: `wss://127.0.0.1:${wssPort}`, username, password: PASSWORD, domain: DOMAIN });

    before(async () => {
      wssPort = await getFreePort('tcp');
      t = await startTestServer('sqlite', {
        STROWGER_DOMAIN: DOMAIN,
        STROWGER_SIP_TLS_PORT: String(await getFreePort('tcp')),
        STROWGER_SIP_WSS_PORT: String(wssPort),
        STROWGER_WEBRTC_ADDRESSES: '127.0.0.1',
        STROWGER_MEDIA_WORKERS: '1',
      });
      for (const username of ['webphone', 'desk', 'tab']) {
        const r = await t.request('POST', '/api/devices', { cookie: t.adminCookie, body: { name: username, username, password: PASSWORD } });
        assert.equal(r.status, 201, JSON.stringify(r.body));
      }
      chromium = await startJssipBrowser(browserTone);
      page = await openPhone('webphone');
    });
    after(async () => {
      await chromium?.close();
      await t?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    interface Scenario {
      /** Who dials: the browser (the desk phone answers at once) or the desk phone (the page answers). */
      from: 'browser' | 'desk';
      /** What happens once both talk (holds); re-INVITEs restart baresip's received-audio file. */
      during?: (phone: BaresipPhone) => Promise<void>;
      screenshot?: boolean;
    }

    /** Starts capturing what our leg on `side` (the desk phone's) sends to the phone. */
    async function captureToDesk(side: 'a' | 'b', file: string): Promise<RtpCapture> {
      const calls = (await t.request('GET', '/api/calls', { cookie: t.adminCookie })).body.data as Array<{ id: string; state: string }>;
      const call = calls.find((c) => c.state === 'answered')!;
      const leg = (await t.request('GET', `/api/calls/${call.id}`, { cookie: t.adminCookie })).body.legs[side].media as { remote: string; local_port: number };
      return startRtpCapture(path.join(dir, file), Number(/:(\d+)$/.exec(leg.remote)![1]), leg.local_port);
    }

    /** One call: each side must hear the other's tone at its end. */
    async function talk(label: string, s: Scenario): Promise<void> {
      const out = path.join(dir, `${label}.wav`);
      const phone = await startBaresip({ user: 'desk', password: PASSWORD, port: t.sipPort, codecs: ['PCMU'], audioIn: deskTone, audioOut: out, autoAnswer: s.from === 'browser' });
      try {
        await phone.registered;
        await page.evaluate(`window.state = 'idle'`);
        if (s.from === 'browser') await page.evaluate(`window.call('sip:desk@${DOMAIN}')`);
        else await phone.dial(`sip:webphone@127.0.0.1:${t.sipPort}`);
        await waitCallState(page, 'confirmed', 10_000);
        await phone.waitForEvent('CALL_ESTABLISHED', 5000);
        const established = Date.now();
        await s.during?.(phone);
        await sleep(1500);
        assert.equal(await page.evaluate('window.state'), 'confirmed');
        // After re-INVITEs baresip 1.0's own recording cannot be trusted (it restarts its file per
        // stream, named by the second): then the wire to its media port is the judge.
        const capture = s.during ? await captureToDesk(s.from === 'browser' ? 'b' : 'a', `${label}.pcap`) : undefined;
        const heard = await listenInPage(page, 2500);
        // The encryption status measures the browser's leg from its endpoint: DTLS-SRTP; the desk phone's is plain.
        const enc = (await t.request('GET', '/api/system/encryption/status', { cookie: t.adminCookie })).body;
        const legs = enc.calls.list[0].legs as Array<{ leg: string; media: string; keying: string | null; dtls_state: string | null }>;
        const browserSide = s.from === 'browser' ? 'a' : 'b';
        assert.deepEqual(legs.map((l) => [l.leg, l.media, l.keying, l.dtls_state]), (['a', 'b'] as const).map((side) => (side === browserSide ? [side, 'srtp', 'dtls', 'connected'] : [side, 'rtp', null, null])));
        assert.equal(enc.calls.list[0].fully_encrypted, false);
        const wire = (await capture?.stop())?.filter((p) => p.payloadType === 0);
        if (s.screenshot) {
          mkdirSync(ARTEFACTS, { recursive: true });
          await page.screenshot({ path: path.join(ARTEFACTS, 'webrtc-jssip-baresip.png') });
        }
        // baresip's WAV starts at its answer and the check skips its first 2 s (set-up): keep
        // the call up long enough that what is left is a measurable tone on a slow machine too.
        await sleep(Math.max(0, established + CALL_MIN_MS - Date.now()));
        if (s.from === 'browser') await page.evaluate('window.hangup()');
        else await phone.hangup();
        await phone.waitForEvent('CALL_CLOSED', 5000);
        await phone.close();
        assertTone(heard, 48000, DESK_TONE, `${label}: browser heard the desk phone`);
        if (wire) {
          assertTone(ulawOf(wire), 8000, BROWSER_TONE, `${label}: RTP to the desk phone after the re-INVITEs`);
        } else {
          // The file holds the whole call: skip the set-up before the browser's first packets.
          const wav = readWavPcm(out);
          assertTone(wav.samples.subarray(wav.sampleRate * 2), wav.sampleRate, BROWSER_TONE, `${label}: desk phone heard the browser`);
        }
      } catch (err) {
        throw new Error(`${(err as Error).message}\n${phone.output().slice(-4000)}`, { cause: err });
      } finally {
        await phone.close();
      }
    }

    test('the browser calls the desk phone: each hears the other', () => talk('browser-calls', { from: 'browser', screenshot: true }));

    test('the desk phone calls the browser (we offer WebRTC over WSS): each hears the other', () => talk('desk-calls', { from: 'desk' }));

    test('the browser holds and resumes (re-INVITEs on the same ICE/DTLS session): audio flows again', () => talk('browser-holds', {
      from: 'browser',
      during: async () => {
        assert.equal(await page.evaluate('window.hold(true)'), JSON.stringify({ local: true, remote: false }));
        await sleep(1500);
        assert.equal(await page.evaluate('window.hold(false)'), JSON.stringify({ local: false, remote: false }));
      },
    }));

    test('hold towards the browser (API hold, then the desk phone\'s own hold): our re-offers keep its session', () => talk('browser-held', {
      from: 'desk',
      during: async (phone) => {
        const calls = (await t.request('GET', '/api/calls', { cookie: t.adminCookie })).body.data as Array<{ id: string; state: string }>;
        const call = calls.find((c) => c.state === 'answered')!;
        for (const hold of [true, false]) {
          const r = await t.request('POST', `/api/calls/${call.id}/hold`, { cookie: t.adminCookie, body: { hold } });
          assert.equal(r.status, 200, JSON.stringify(r.body));
          await sleep(1000);
        }
        await phone.command('hold');
        await sleep(1000);
        await phone.command('resume');
      },
    }));

    test('keys pressed in the browser reach the desk phone, from RFC 4733 in SRTP and from SIP INFO alike', async () => {
      const phone = await startBaresip({ user: 'desk', password: PASSWORD, port: t.sipPort, codecs: ['PCMU'], audioIn: deskTone, autoAnswer: true });
      try {
        await phone.registered;
        await page.evaluate(`window.state = 'idle'`);
        await page.evaluate(`window.call('sip:desk@${DOMAIN}')`);
        await waitCallState(page, 'confirmed', 10_000);
        await phone.waitForEvent('CALL_ESTABLISHED', 5000);
        await sleep(1000);
        const from = phone.events.length;
        await page.evaluate(`window.dtmf('19', 'RFC2833')`);
        await dtmfReceived(phone, from, 2, 5000);
        await page.evaluate(`window.dtmf('#', 'INFO')`);
        assert.equal(await dtmfReceived(phone, from, 3, 5000), '19#', 'the desk phone reported each key once, in order');
        await page.evaluate('window.hangup()');
        await phone.waitForEvent('CALL_CLOSED', 5000);
      } catch (err) {
        throw new Error(`${(err as Error).message}\n${phone.output().slice(-4000)}`, { cause: err });
      } finally {
        await phone.close();
      }
    });

    test('a browser tab that closes mid-call: Strowger ends the call within 10 s (BYE to the desk phone)', async () => {
      const tab = await openPhone('tab');
      const phone = await startBaresip({ user: 'desk', password: PASSWORD, port: t.sipPort, codecs: ['PCMU'], audioIn: deskTone, autoAnswer: true });
      try {
        await phone.registered;
        await tab.evaluate(`window.call('sip:desk@${DOMAIN}')`);
        await waitCallState(tab, 'confirmed', 10_000);
        await phone.waitForEvent('CALL_ESTABLISHED', 5000);
        await sleep(1000);
        const before = await cdrCount(t);
        const t0 = Date.now();
        await tab.close();
        await phone.waitForEvent('CALL_CLOSED', 12_000);
        const elapsed = Date.now() - t0;
        const cdr = await nextCdr(t, before);
        assert.ok(elapsed <= 10_000, `call ended ${elapsed} ms after the tab closed (${cdr.hangup_cause})`);
        // Chromium says nothing on SIP (JsSIP sends no BYE on unload): the endpoint notices.
        assert.match(cdr.hangup_cause ?? '', /^webrtc_/, `hangup cause after ${elapsed} ms`);
        assert.equal(cdr.disposition, 'answered');
      } catch (err) {
        throw new Error(`${(err as Error).message}\n${phone.output().slice(-3000)}`, { cause: err });
      } finally {
        await phone.close();
      }
    });
  });
}
