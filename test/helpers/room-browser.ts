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
import { after, before } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type Browser, type Page } from 'playwright-core';

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
