/**
 * Issue 16, "bridges between SDES and the DTLS-SRTP of WebRTC legs": baresip registers over TLS
 * with `mediaenc=srtp-mand` (SDES keys in `a=crypto`, device policy `required`) and talks to
 * JsSIP in Chromium over WSS (ICE + DTLS-SRTP, ended in Strowger's WebRTC endpoint). Both
 * directions: baresip calls the browser, the browser calls baresip.
 *
 * Asserted per call: each side hears the other's tone (the browser through WebAudio on its remote
 * track, baresip in its decoded WAV); tcpdump on baresip's leg sees only SRTP both ways (every
 * PCMU packet is 160 octets + the suite's tag, and neither tone is readable as µ-law); and
 * `GET /api/system/encryption/status` shows baresip's leg as TLS + SRTP keyed by SDES and the
 * browser's as WSS + SRTP keyed by DTLS, with the profile werift negotiated — the call fully
 * encrypted. The media to the browser is never plain on the wire: the only plain hop is the
 * loopback shim inside Strowger.
 *
 * Runs in a loopback-only network namespace (Chromium's WebRTC then has only 127.0.0.1).
 */
import { after, afterEach, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { inLoopbackNamespace } from '../helpers/netns.ts';
import { CHROMIUM, listenInPage, webphoneTones, startJssipBrowser, waitCallState, type JssipBrowser } from '../helpers/jssip-phone.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { getFreePort } from '../helpers/sipp.ts';
import { hasBaresipModule, startBaresip } from '../helpers/baresip.ts';
import { startRtpCapture } from '../helpers/rtp-capture.ts';
import { readWavPcm } from '../helpers/audio-analysis.ts';
import { assertSealedPcmu, assertTone } from '../helpers/media-assert.ts';
import { api, assertIdle, eventually } from '../integration/call-fixtures.ts';

const DOMAIN = 'strowger.test';
/** Shortest call (from baresip's answer): 2 s skipped + 1.5 s of tone checked + margin. */
const CALL_MIN_MS = 5000;
const PASSWORD = 'webphone-pass-123';
const BROWSER_TONE = 1000;
const DESK_TONE = 700;
/** The profiles werift offers in DTLS `use_srtp` (RFC 5764, RFC 7714). */
const DTLS_PROFILES = ['AEAD_AES_128_GCM', 'AES_CM_128_HMAC_SHA1_80'];

interface EncryptionLeg { leg: string; signalling: string; signalling_encrypted: boolean; media: string; keying: string | null; dtls_state: string | null; suite: string | null; packets_in: number }

const skip = !existsSync(CHROMIUM) ? `no ${CHROMIUM}` : !hasBaresipModule('srtp') && 'baresip srtp module not installed';

if (inLoopbackNamespace(import.meta.url)) {
  describe('SDES-SRTP baresip (TLS, srtp-mand) <-> JsSIP in Chromium (WSS, DTLS-SRTP)', { skip }, () => {
    const { dir, browserTone, deskTone } = webphoneTones('srtp-dtls-e2e-', BROWSER_TONE, DESK_TONE);
    let t: TestServer;
    let tlsPort: number;
    let chromium: JssipBrowser;
    let page: Page;

    afterEach(() => assertIdle(t));

    before(async () => {
      tlsPort = await getFreePort('tcp');
      const wssPort = await getFreePort('tcp');
      t = await startTestServer('sqlite', {
        STROWGER_DOMAIN: DOMAIN,
        STROWGER_SIP_TLS_PORT: String(tlsPort),
        STROWGER_SIP_WSS_PORT: String(wssPort),
        STROWGER_WEBRTC_ADDRESSES: '127.0.0.1',
        STROWGER_MEDIA_WORKERS: '1',
      });
      await api(t, 'POST', '/api/devices', { name: 'webphone', username: 'webphone', password: PASSWORD });
      await api(t, 'POST', '/api/devices', { name: 'desk', username: 'desk', password: PASSWORD, srtp: 'required' });
      chromium = await startJssipBrowser(browserTone);
      page = await chromium.openPhone({ wssUrl: `wss://127.0.0.1:${wssPort}`, username: 'webphone', password: PASSWORD, domain: DOMAIN });
    });
    after(async () => {
      await chromium?.close();
      await t?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    async function talk(ctx: TestContext, label: string, from: 'browser' | 'desk'): Promise<void> {
      const out = path.join(dir, `${label}.wav`);
      const phone = await startBaresip({
        user: 'desk', password: PASSWORD, port: tlsPort, transport: 'tls', mediaenc: 'srtp-mand',
        codecs: ['PCMU'], audioIn: deskTone, audioOut: out, autoAnswer: from === 'browser',
      });
      const captures: Array<{ stop(): Promise<unknown> }> = [];
      try {
        await phone.registered;
        await page.evaluate(`window.state = 'idle'`);
        if (from === 'browser') await page.evaluate(`window.call('sip:desk@${DOMAIN}')`);
        else await phone.dial(`sip:webphone@127.0.0.1:${tlsPort}`);
        await waitCallState(page, 'confirmed', 10_000);
        await phone.waitForEvent('CALL_ESTABLISHED', 5000);
        const established = Date.now();

        const call = await eventually('the answered call', async () => ((await api(t, 'GET', '/api/calls')).data as Array<{ id: string; state: string }>).find((c) => c.state === 'answered'));
        const desk = from === 'browser' ? 'b' : 'a';
        const browser = desk === 'a' ? 'b' : 'a';
        const deskMedia = (await api(t, 'GET', `/api/calls/${call.id}`)).legs[desk].media as { remote: string; local_port: number; srtp: { suite: string } | null };
        assert.ok(deskMedia.srtp, `baresip's leg runs SDES-SRTP: ${JSON.stringify(deskMedia)}`);
        const deskPort = Number(/:(\d+)$/.exec(deskMedia.remote)![1]);
        const toDesk = await startRtpCapture(path.join(dir, `${label}-to-desk.pcap`), deskPort, deskMedia.local_port);
        captures.push(toDesk);
        const fromDesk = await startRtpCapture(path.join(dir, `${label}-from-desk.pcap`), deskMedia.local_port, deskPort);
        captures.push(fromDesk);

        const heard = await listenInPage(page, 2500);

        const enc = await api(t, 'GET', '/api/system/encryption/status');
        const encCall = enc.calls.list.find((c: { call_id: string }) => c.call_id === call.id);
        const byLeg = Object.fromEntries((encCall.legs as EncryptionLeg[]).map((l) => [l.leg, l])) as Record<'a' | 'b', EncryptionLeg>;
        const d = byLeg[desk];
        const w = byLeg[browser];
        assert.deepEqual([d.signalling, d.signalling_encrypted, d.media, d.keying, d.suite, d.dtls_state], ['tls', true, 'srtp', 'sdes', deskMedia.srtp.suite, null], `baresip's leg: ${JSON.stringify(d)}`);
        assert.deepEqual([w.signalling, w.signalling_encrypted, w.media, w.keying, w.dtls_state], ['wss', true, 'srtp', 'dtls', 'connected'], `browser leg: ${JSON.stringify(w)}`);
        assert.ok(DTLS_PROFILES.includes(w.suite!), `browser leg profile ${w.suite}`);
        ctx.diagnostic(`${label}: baresip's leg ${d.suite} (SDES), the browser's ${w.suite} (DTLS)`);
        assert.ok(d.packets_in >= 100 && w.packets_in >= 100, `packets in: desk ${d.packets_in}, browser ${w.packets_in}`);
        assert.equal(encCall.fully_encrypted, true);
        assert.equal(enc.calls.encrypted, 1);

        // baresip's WAV starts at its answer and the check skips its first 2 s (set-up): keep
        // the call up long enough that what is left is a measurable tone on a slow machine too.
        await sleep(Math.max(0, established + CALL_MIN_MS - Date.now()));
        if (from === 'browser') await page.evaluate('window.hangup()');
        else await phone.hangup();
        await phone.waitForEvent('CALL_CLOSED', 5000);
        await waitCallState(page, 'ended', 5000);
        await phone.close();
        const sent = (await toDesk.stop()).filter((p) => p.payloadType === 0);
        const received = (await fromDesk.stop()).filter((p) => p.payloadType === 0);
        captures.length = 0;

        assertTone(heard, 48000, DESK_TONE, `${label}: the browser heard baresip`);
        const wav = readWavPcm(out);
        // The file holds the whole call: skip the set-up before the browser's first packets.
        assertTone(wav.samples.subarray(wav.sampleRate * 2), wav.sampleRate, BROWSER_TONE, `${label}: baresip heard the browser`);
        assertSealedPcmu(sent, deskMedia.srtp.suite, BROWSER_TONE, `${label}: our RTP to baresip`);
        assertSealedPcmu(received, deskMedia.srtp.suite, DESK_TONE, `${label}: baresip's RTP to us`);
      } catch (err) {
        throw new Error(`${(err as Error).message}\n${phone.output().slice(-4000)}`, { cause: err });
      } finally {
        for (const c of captures) await c.stop().catch(() => {});
        await phone.close();
      }
    }

    test('baresip (SDES-SRTP over TLS) calls the browser: tones both ways, SRTP on baresip\'s leg, status sdes + dtls', (ctx) => talk(ctx, 'desk-calls', 'desk'));

    test('the browser calls baresip (we offer RTP/SAVP with our keys): tones both ways, SRTP on baresip\'s leg, status sdes + dtls', (ctx) => talk(ctx, 'browser-calls', 'browser'));
  });
}
