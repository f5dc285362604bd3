/**
 * Debian's Chromium (playwright-core) as a room-page participant: launched with a fake
 * microphone playing a WAV file and WebRTC allowed on the loopback (call it inside
 * `inLoopbackNamespace`), and joined to `/rooms/{name}` through the page's own form.
 *
 * @example
 * const browser = roomBrowserHooks('/tmp/tone-1000.wav');   // inside a describe()
 * await joinRoomPage(browser.page(), t.baseUrl, 'test', 'Chromium');
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startTestServer, type TestServer } from './server.ts';
import { makeToneWav } from './audio-analysis.ts';

export const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

export function launchRoomBrowser(microphoneWav: string): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${microphoneWav}`, '--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns'],
  });
}

/** Registers before/after hooks of the current suite: one browser and page, closed at the end. */
export function roomBrowserHooks(microphoneWav: string): { page(): Page } {
  let browser: Browser | undefined;
  let page: Page | undefined;
  before(async () => {
    browser = await launchRoomBrowser(microphoneWav);
    page = await browser.newPage();
  });
  after(async () => { await browser?.close(); });
  return { page: () => page! };
}

/**
 * Hooks of a Chromium room suite: a test server (WebRTC on `host`, one media worker) and one
 * browser per microphone tone (Hz, 30 s WAVs in a temp dir removed at the end).
 */
export function chromiumRoomSuite(host: string, tonesHz: readonly number[]): { server(): TestServer; page(i?: number): Page } {
  const dir = mkdtempSync(path.join(tmpdir(), 'room-browser-'));
  const browsers = tonesHz.map((freq) => {
    const wav = path.join(dir, `tone-${freq}.wav`);
    makeToneWav(wav, { freq, seconds: 30, rate: 48000, amplitude: 0.4 });
    return roomBrowserHooks(wav);
  });
  let t: TestServer | undefined;
  before(async () => {
    t = await startTestServer('sqlite', { STROWGER_WEBRTC_ADDRESSES: host, STROWGER_MEDIA_WORKERS: '1' });
  });
  after(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { server: () => t!, page: (i = 0) => browsers[i]!.page() };
}

/**
 * Opens the room page (raw audio: no browser echo cancelling of the test tones), joins (with the
 * fake camera when `camera`), waits for `joined`.
 */
export async function joinRoomPage(page: Page, baseUrl: string, room: string, displayName: string, options: { camera?: boolean } = {}): Promise<void> {
  await page.goto(`${baseUrl}/rooms/${encodeURIComponent(room)}?audio=raw`);
  await page.fill('#display-name', displayName);
  if (options.camera) await page.check('#with-camera');
  await page.click('#join');
  const until = Date.now() + 10_000;
  while ((await page.evaluate('window.strowgerRoom.state')) !== 'joined' && Date.now() < until) await sleep(100);
  assert.equal(await page.evaluate('window.strowgerRoom.state'), 'joined', String(await page.evaluate('window.strowgerRoom.lastError')));
}
