/**
 * Issue 13 acceptance, "SIP over WebSocket phones get anchored media": JsSIP in Debian's
 * Chromium (WSS, fake microphone playing a 1000 Hz tone) calls a baresip desk phone (UDP, PCMU
 * only, playing 700 Hz) through Strowger, and the desk phone calls the browser. Strowger ends ICE
 * and DTLS-SRTP in its WebRTC endpoint and bridges to plain RTP, so each side must hear the
 * other's tone: the browser's remote track is sampled in the page (WebAudio), baresip's decoded
 * audio is written to a WAV. Before the endpoint, the browser's ICE/DTLS SDP went to baresip
 * unchanged and no audio could flow.
 *
 * Runs in a loopback-only network namespace: Chromium and werift then only have 127.0.0.1
 * (`--allow-loopback-in-peer-connection` lets Chromium use it).
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type Browser, type Page } from 'playwright-core';
import { inLoopbackNamespace } from '../helpers/netns.ts';
import { bundleJssip } from '../helpers/jssip-bundle.ts';
import { assertIdle, cdrCount, nextCdr } from '../integration/call-fixtures.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { getFreePort } from '../helpers/sipp.ts';
import { startBaresip, type BaresipPhone } from '../helpers/baresip.ts';
import { startRtpCapture, type RtpCapture } from '../helpers/rtp-capture.ts';
import { dbfs, decodeUlaw, dominantFrequency, goertzelPower, makeToneWav, readWavPcm, rms } from '../helpers/audio-analysis.ts';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const DOMAIN = 'strowger.test';
const PASSWORD = 'webphone-pass-123';
const BROWSER_TONE = 1000;
const DESK_TONE = 700;
const TOLERANCE_HZ = 15;
const ARTEFACTS = path.resolve('test-artefacts');

/**
 * The page: a JsSIP UA over WSS that auto-answers, `call(uri)`, `hangup()`, and `listen(ms)`,
 * which records the remote audio (48 kHz mono) through WebAudio and returns it as 16-bit samples.
 * Plain JavaScript (no tsx helpers in the page).
 */
const PAGE_SCRIPT = `
let ua, session, remote = null;
// No echo canceller, noise suppressor or gain control: a steady tone is what they remove.
const media = { mediaConstraints: { audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false }, video: false }, pcConfig: { iceServers: [] } };
function track(s) {
  session = s;
  s.on('peerconnection', (e) => e.peerconnection.addEventListener('track', (ev) => { remote = ev.streams[0] || new MediaStream([ev.track]); }));
  if (s.connection) s.connection.addEventListener('track', (ev) => { remote = ev.streams[0] || new MediaStream([ev.track]); });
  s.on('confirmed', () => { window.state = 'confirmed'; });
  s.on('ended', () => { window.state = 'ended'; });
  s.on('failed', (e) => { window.state = 'failed: ' + e.cause; });
}
window.state = 'idle';
window.start = (url, username, password, domain) => new Promise((resolve) => {
  ua = new JsSIP.UA({ sockets: [new JsSIP.WebSocketInterface(url)], uri: 'sip:' + username + '@' + domain, password, register: true });
  ua.on('registered', () => resolve('registered'));
  ua.on('registrationFailed', (e) => resolve('failed: ' + e.cause));
  ua.on('newRTCSession', (e) => {
    if (e.originator !== 'remote') return;
    track(e.session);
    e.session.answer(media);
  });
  ua.start();
});
window.call = (uri) => { window.state = 'calling'; track(ua.call(uri, media)); };
window.hangup = () => { if (session && !session.isEnded()) session.terminate(); };
// JsSIP's hold/unhold are re-INVITEs (sendonly, then sendrecv) on the same RTCPeerConnection.
window.hold = (on) => new Promise((resolve) => {
  const done = () => resolve(JSON.stringify(session.isOnHold()));
  if (on) session.hold({}, done); else session.unhold({}, done);
  setTimeout(() => resolve('timeout'), 8000);
});
window.listen = (ms) => new Promise((resolve, reject) => {
  if (!remote) { reject(new Error('no remote stream')); return; }
  // Chromium plays a remote WebRTC stream into WebAudio only while a media element holds it.
  const el = new Audio(); el.muted = true; el.srcObject = remote; el.play().catch(() => {});
  const ctx = new AudioContext({ sampleRate: 48000 });
  const src = ctx.createMediaStreamSource(remote);
  const proc = ctx.createScriptProcessor(4096, 1, 1);
  const mute = ctx.createGain(); mute.gain.value = 0;
  const chunks = [];
  proc.onaudioprocess = (e) => chunks.push(new Float32Array(e.inputBuffer.getChannelData(0)));
  src.connect(proc); proc.connect(mute); mute.connect(ctx.destination);
  ctx.resume();
  setTimeout(() => {
    src.disconnect(); proc.disconnect(); ctx.close();
    const out = [];
    for (const c of chunks) for (const x of c) out.push(Math.max(-32768, Math.min(32767, Math.round(x * 32767))));
    resolve(out);
  }, ms);
});`;


function assertTone(samples: Int16Array, rate: number, freq: number, who: string, minSeconds = 1.5): void {
  const context = `${who}: ${(samples.length / rate).toFixed(2)} s, ${dbfs(samples).toFixed(1)} dBFS`;
  assert.ok(samples.length / rate >= minSeconds, `${context}: too little audio`);
  assert.ok(dbfs(samples) > -35, `${context}: near silence`);
  const f = dominantFrequency(samples, rate, { min: 200, max: 3400 });
  assert.ok(Math.abs(f - freq) <= TOLERANCE_HZ, `${context}: dominant ${f.toFixed(1)} Hz, want ${freq} ± ${TOLERANCE_HZ}`);
  const share = goertzelPower(samples, rate, f, { window: 'hann' }) / rms(samples) ** 2;
  assert.ok(share > 0.5, `${context}: only ${(share * 100).toFixed(0)} % of the energy at ${f.toFixed(1)} Hz`);
}

async function waitState(page: Page, want: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  let state = '';
  while (Date.now() < until) {
    state = (await page.evaluate('window.state')) as string;
    if (state === want) return;
    if (state.startsWith('failed')) break;
    await sleep(100);
  }
  assert.fail(`browser call state "${state}", want "${want}"`);
}

if (inLoopbackNamespace(import.meta.url)) {
  describe('JsSIP in Chromium <-> baresip (UDP, PCMU) through Strowger\'s WebRTC endpoint', { skip: existsSync(CHROMIUM) ? false : `no ${CHROMIUM}` }, () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'webrtc-e2e-'));
    const browserTone = path.join(dir, 'browser-tone.wav');
    const deskTone = path.join(dir, 'desk-tone.wav');
    makeToneWav(browserTone, { freq: BROWSER_TONE, seconds: 30, rate: 48000, amplitude: 0.4 });
    makeToneWav(deskTone, { freq: DESK_TONE, seconds: 30, rate: 8000, amplitude: 0.4 });
    let t: TestServer;
    let browser: Browser;
    let page: Page;
    let pageServer: Server;
    let wssPort: number;

    // Every call's legs, WebRTC endpoints included, are released when it ends.
    afterEach(() => assertIdle(t));

    /** A page with a registered JsSIP UA for `username`. */
    async function openPhone(username: string): Promise<Page> {
      const p = await browser.newPage();
      await p.goto(`http://127.0.0.1:${(pageServer.address() as { port: number }).port}/`);
      const reg = await p.evaluate(`window.start(${JSON.stringify(`wss://127.0.0.1:${wssPort}`)}, ${JSON.stringify(username)}, ${JSON.stringify(PASSWORD)}, ${JSON.stringify(DOMAIN)})`);
      assert.equal(reg, 'registered');
      return p;
    }

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
      const script = await bundleJssip();
      pageServer = createServer((req, res) => {
        if (req.url === '/jssip.js') { res.writeHead(200, { 'content-type': 'text/javascript' }); res.end(script); return; }
        if (req.url === '/phone.js') { res.writeHead(200, { 'content-type': 'text/javascript' }); res.end(PAGE_SCRIPT); return; }
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<!doctype html><title>webphone</title><h1>Strowger webphone (JsSIP)</h1><script src="/jssip.js"></script><script src="/phone.js"></script>');
      });
      await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--no-sandbox', '--ignore-certificate-errors', '--autoplay-policy=no-user-gesture-required',
          '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${browserTone}`,
          '--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns',
        ],
      });
      page = await openPhone('webphone');
    });
    after(async () => {
      await browser?.close();
      await new Promise((resolve) => pageServer?.close(resolve));
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
        await waitState(page, 'confirmed', 10_000);
        await phone.waitForEvent('CALL_ESTABLISHED', 5000);
        await s.during?.(phone);
        await sleep(1500);
        assert.equal(await page.evaluate('window.state'), 'confirmed');
        // After re-INVITEs baresip 1.0's own recording cannot be trusted (it restarts its file per
        // stream, named by the second): then the wire to its media port is the judge.
        const capture = s.during ? await captureToDesk(s.from === 'browser' ? 'b' : 'a', `${label}.pcap`) : undefined;
        const heard = Int16Array.from((await page.evaluate('window.listen(2500)')) as number[]);
        const wire = (await capture?.stop())?.filter((p) => p.payloadType === 0);
        if (s.screenshot) {
          mkdirSync(ARTEFACTS, { recursive: true });
          await page.screenshot({ path: path.join(ARTEFACTS, 'webrtc-jssip-baresip.png') });
        }
        if (s.from === 'browser') await page.evaluate('window.hangup()');
        else await phone.hangup();
        await phone.waitForEvent('CALL_CLOSED', 5000);
        await phone.close();
        assertTone(heard, 48000, DESK_TONE, `${label}: browser heard the desk phone`);
        if (wire) {
          assertTone(decodeUlaw(Buffer.concat(wire.map((p) => p.payload))), 8000, BROWSER_TONE, `${label}: RTP to the desk phone after the re-INVITEs`);
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

    test('a browser tab that closes mid-call: Strowger ends the call within 10 s (BYE to the desk phone)', async () => {
      const tab = await openPhone('tab');
      const phone = await startBaresip({ user: 'desk', password: PASSWORD, port: t.sipPort, codecs: ['PCMU'], audioIn: deskTone, autoAnswer: true });
      try {
        await phone.registered;
        await tab.evaluate(`window.call('sip:desk@${DOMAIN}')`);
        await waitState(tab, 'confirmed', 10_000);
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
