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
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { inLoopbackNamespace } from '../helpers/netns.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { getFreePort } from '../helpers/sipp.ts';
import { startBaresip, type BaresipPhone } from '../helpers/baresip.ts';
import { dbfs, dominantFrequency, goertzelPower, makeToneWav, readWavPcm, rms } from '../helpers/audio-analysis.ts';

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

async function bundleJssip(): Promise<string> {
  const entry = createRequire(import.meta.url).resolve('jssip');
  const out = await build({ entryPoints: [entry], bundle: true, format: 'iife', globalName: 'JsSIP', platform: 'browser', write: false, minify: true, logLevel: 'silent' });
  return out.outputFiles[0]!.text;
}

function assertTone(samples: Int16Array, rate: number, freq: number, who: string): void {
  const context = `${who}: ${(samples.length / rate).toFixed(2)} s, ${dbfs(samples).toFixed(1)} dBFS`;
  assert.ok(samples.length / rate >= 1.5, `${context}: too little audio`);
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

    before(async () => {
      const wssPort = await getFreePort('tcp');
      t = await startTestServer('sqlite', {
        STROWGER_DOMAIN: DOMAIN,
        STROWGER_SIP_TLS_PORT: String(await getFreePort('tcp')),
        STROWGER_SIP_WSS_PORT: String(wssPort),
        STROWGER_WEBRTC_ADDRESSES: '127.0.0.1',
        STROWGER_MEDIA_WORKERS: '1',
      });
      for (const username of ['webphone', 'desk']) {
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
      page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${(pageServer.address() as { port: number }).port}/`);
      const reg = await page.evaluate(`window.start(${JSON.stringify(`wss://127.0.0.1:${wssPort}`)}, 'webphone', ${JSON.stringify(PASSWORD)}, ${JSON.stringify(DOMAIN)})`);
      assert.equal(reg, 'registered');
    });
    after(async () => {
      await browser?.close();
      await new Promise((resolve) => pageServer?.close(resolve));
      await t?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    async function desk(out: string, autoAnswer: boolean): Promise<BaresipPhone> {
      const phone = await startBaresip({ user: 'desk', password: PASSWORD, port: t.sipPort, codecs: ['PCMU'], audioIn: deskTone, audioOut: out, autoAnswer });
      await phone.registered;
      return phone;
    }

    test('the browser calls the desk phone: each hears the other', async () => {
      const out = path.join(dir, 'desk-heard-1.wav');
      const phone = await desk(out, true);
      try {
        await page.evaluate(`window.call('sip:desk@${DOMAIN}')`);
        await waitState(page, 'confirmed', 10_000);
        await phone.waitForEvent('CALL_ESTABLISHED', 5000);
        await sleep(1500);
        const heard = Int16Array.from((await page.evaluate('window.listen(3000)')) as number[]);
        mkdirSync(ARTEFACTS, { recursive: true });
        await page.screenshot({ path: path.join(ARTEFACTS, 'webrtc-jssip-baresip.png') });
        await page.evaluate('window.hangup()');
        await phone.waitForEvent('CALL_CLOSED', 5000);
        await phone.close();
        assertTone(heard, 48000, DESK_TONE, 'browser heard the desk phone');
        const wav = readWavPcm(out);
        // The file starts when the call is set up, before the browser's first packets.
        assertTone(wav.samples.subarray(wav.sampleRate * 2), wav.sampleRate, BROWSER_TONE, 'desk phone heard the browser');
      } catch (err) {
        throw new Error(`${(err as Error).message}\n${phone.output().slice(-4000)}`, { cause: err });
      } finally {
        await phone.close();
      }
    });

    test('the browser holds and resumes (re-INVITEs on the same ICE/DTLS session): audio flows again', async () => {
      const out = path.join(dir, 'desk-heard-3.wav');
      const phone = await desk(out, true);
      try {
        await page.evaluate(`window.state = 'idle'`);
        await page.evaluate(`window.call('sip:desk@${DOMAIN}')`);
        await waitState(page, 'confirmed', 10_000);
        await phone.waitForEvent('CALL_ESTABLISHED', 5000);
        await sleep(1000);
        assert.equal(await page.evaluate('window.hold(true)'), JSON.stringify({ local: true, remote: false }));
        await sleep(1500);
        assert.equal(await page.evaluate('window.hold(false)'), JSON.stringify({ local: false, remote: false }));
        await sleep(1000);
        const heard = Int16Array.from((await page.evaluate('window.listen(2500)')) as number[]);
        await page.evaluate('window.hangup()');
        await phone.waitForEvent('CALL_CLOSED', 5000);
        await phone.close();
        assertTone(heard, 48000, DESK_TONE, 'browser heard the desk phone after resuming');
        const wav = readWavPcm(out);
        // The last 2 s of what the desk phone got (after the resume): the browser's tone again.
        assertTone(wav.samples.subarray(wav.samples.length - wav.sampleRate * 2), wav.sampleRate, BROWSER_TONE, 'desk phone heard the browser after resuming');
      } catch (err) {
        throw new Error(`${(err as Error).message}\n${phone.output().slice(-4000)}`, { cause: err });
      } finally {
        await phone.close();
      }
    });

    test('the desk phone calls the browser (we offer WebRTC over WSS): each hears the other', async () => {
      const out = path.join(dir, 'desk-heard-2.wav');
      const phone = await desk(out, false);
      try {
        await page.evaluate(`window.state = 'idle'`);
        await phone.dial(`sip:webphone@127.0.0.1:${t.sipPort}`);
        await waitState(page, 'confirmed', 10_000);
        await phone.waitForEvent('CALL_ESTABLISHED', 5000);
        await sleep(1500);
        const heard = Int16Array.from((await page.evaluate('window.listen(3000)')) as number[]);
        await phone.hangup();
        await phone.waitForEvent('CALL_CLOSED', 5000);
        await phone.close();
        assertTone(heard, 48000, DESK_TONE, 'browser heard the desk phone');
        const wav = readWavPcm(out);
        // The file starts when the call is set up, before the browser's first packets.
        assertTone(wav.samples.subarray(wav.sampleRate * 2), wav.sampleRate, BROWSER_TONE, 'desk phone heard the browser');
      } catch (err) {
        throw new Error(`${(err as Error).message}\n${phone.output().slice(-4000)}`, { cause: err });
      } finally {
        await phone.close();
      }
    });
  });
}
