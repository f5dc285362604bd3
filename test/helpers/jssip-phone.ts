/**
 * A JsSIP web phone in Debian's Chromium: a page server (JsSIP bundle + a small phone script),
 * Chromium with a fake microphone playing a WAV, and pages that register over WSS. The phone
 * auto-answers, `window.call(uri)`, `window.hangup()`, `window.hold(on)`; the remote stream is
 * `window.remote` (record it with `recordPageAudio`), the session state `window.state`.
 *
 * WebRTC needs Chromium's loopback candidates: use it inside `inLoopbackNamespace`.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { makeToneWav } from './audio-analysis.ts';
import { bundleJssip } from './jssip-bundle.ts';
import { recordPageAudio } from './page-audio.ts';

export const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

/** Plain JavaScript (no tsx helpers in the page). */
const PAGE_SCRIPT = `
let ua, session;
window.remote = null;
// No echo canceller, noise suppressor or gain control: a steady tone is what they remove.
const media = { mediaConstraints: { audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false }, video: false }, pcConfig: { iceServers: [] } };
const keep = (ev) => { window.remote = ev.streams[0] || new MediaStream([ev.track]); };
function track(s) {
  session = s;
  s.on('peerconnection', (e) => e.peerconnection.addEventListener('track', keep));
  if (s.connection) s.connection.addEventListener('track', keep);
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
// Keys: 'RFC2833' through the RTCDTMFSender (RFC 4733 in the SRTP stream), 'INFO' as SIP INFO (application/dtmf-relay).
window.dtmf = (tones, transportType) => { session.sendDTMF(tones, { transportType, duration: 120, interToneGap: 150 }); };
// JsSIP's hold/unhold are re-INVITEs (sendonly, then sendrecv) on the same RTCPeerConnection.
window.hold = (on) => new Promise((resolve) => {
  const done = () => resolve(JSON.stringify(session.isOnHold()));
  if (on) session.hold({}, done); else session.unhold({}, done);
  setTimeout(() => resolve('timeout'), 8000);
});`;

/**
 * A temporary directory with 30 s tones: `browserTone` (48 kHz, Chromium's fake microphone) and
 * `deskTone` (8 kHz, a SIP phone's audio source).
 */
export function webphoneTones(prefix: string, browserHz: number, deskHz: number): { dir: string; browserTone: string; deskTone: string } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const browserTone = path.join(dir, 'browser-tone.wav');
  const deskTone = path.join(dir, 'desk-tone.wav');
  makeToneWav(browserTone, { freq: browserHz, seconds: 30, rate: 48000, amplitude: 0.4 });
  makeToneWav(deskTone, { freq: deskHz, seconds: 30, rate: 8000, amplitude: 0.4 });
  return { dir, browserTone, deskTone };
}

export interface JssipBrowser {
  browser: Browser;
  /** A new page whose JsSIP UA registered `username` at `wssUrl`. */
  openPhone(opts: { wssUrl: string; username: string; password: string; domain: string }): Promise<Page>;
  close(): Promise<void>;
}

/** Chromium whose fake microphone plays `micWav` (48 kHz mono WAV), and the page server. */
export async function startJssipBrowser(micWav: string): Promise<JssipBrowser> {
  const script = await bundleJssip();
  const server: Server = createServer((req, res) => {
    if (req.url === '/jssip.js') { res.writeHead(200, { 'content-type': 'text/javascript' }); res.end(script); return; }
    if (req.url === '/phone.js') { res.writeHead(200, { 'content-type': 'text/javascript' }); res.end(PAGE_SCRIPT); return; }
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>webphone</title><h1>Strowger webphone (JsSIP)</h1><script src="/jssip.js"></script><script src="/phone.js"></script>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const closeServer = () => new Promise<void>((resolve) => server.close(() => resolve()));
  let browser: Browser;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox', '--ignore-certificate-errors', '--autoplay-policy=no-user-gesture-required',
        '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${micWav}`,
        '--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns',
      ],
    });
  } catch (err) {
    await closeServer();
    throw err;
  }
  const pageUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  return {
    browser,
    async openPhone({ wssUrl, username, password, domain }) {
      const page = await browser.newPage();
      await page.goto(pageUrl);
      const reg = await page.evaluate(`window.start(${JSON.stringify(wssUrl)}, ${JSON.stringify(username)}, ${JSON.stringify(password)}, ${JSON.stringify(domain)})`);
      assert.equal(reg, 'registered');
      return page;
    },
    async close() {
      await browser.close();
      await closeServer();
    },
  };
}

/** Waits until the page's call state is `want`; fails at once on `failed: …`. */
export async function waitCallState(page: Page, want: string, ms: number): Promise<void> {
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

/** What the page's phone hears from its remote stream for `ms` (48 kHz). */
export function listenInPage(page: Page, ms: number): Promise<Int16Array> {
  return recordPageAudio(page, 'window.remote', ms);
}
