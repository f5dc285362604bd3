/**
 * Issue 13 acceptance, "browsers join rooms": Debian's Chromium opens `/rooms/test`, types a name,
 * joins with its (fake) microphone playing 1000 Hz; the SIP side's media — a PCMU RTP leg joined
 * to the room, talking 700 Hz — is there too. The page's remote audio (sampled with WebAudio in
 * the page) must be the 700 Hz tone, the leg must receive the browser's 1000 Hz; the page lists
 * both participants, shows chat, and leaving removes it from the room. Screenshot in
 * test-artefacts/room-page.png. Runs in a loopback-only network namespace.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { inLoopbackNamespace } from '../helpers/netns.ts';
import type { TestServer } from '../helpers/server.ts';
import { talkingRoomLeg } from '../helpers/room-leg.ts';
import { recordPageAudio } from '../helpers/page-audio.ts';
import { CHROMIUM, chromiumRoomSuite, joinRoomPage } from '../helpers/room-browser.ts';
import { decodeUlaw, dbfs, dominantFrequency } from '../helpers/audio-analysis.ts';

const HOST = '127.0.0.1';
const ARTEFACTS = path.resolve('test-artefacts');


if (inLoopbackNamespace(import.meta.url)) {
  describe('room page in Chromium', { skip: existsSync(CHROMIUM) ? false : `no ${CHROMIUM}` }, () => {
    const suite = chromiumRoomSuite(HOST, [1000]);
    let t: TestServer;
    before(() => { t = suite.server(); });

    test('Chromium joins /rooms/test with its microphone and exchanges tones with an RTP leg in the room', async () => {
      const page = suite.page();
      const room = t.server.ctx.rooms!.open('test');
      const desk = await talkingRoomLeg(t.server.ctx.media!, room, { freq: 700, packets: 400, displayName: 'Desk phone' });
      const { rx, participant: phone } = desk;

      await joinRoomPage(page, t.baseUrl, 'test', 'Chromium');
      await page.waitForSelector('#participants li:nth-child(2)', { timeout: 5000 });
      assert.deepEqual((await page.locator('#participants li').allTextContents()).sort(), ['Chromium (you)', 'Desk phone']);
      room.chat('Desk phone', 'welcome');
      await page.waitForSelector('#chat-log li', { timeout: 5000 });
      assert.equal(await page.locator('#chat-log li').first().textContent(), 'Desk phone: welcome');
      await sleep(1500);
      const heard = await recordPageAudio(page, 'window.strowgerRoom.remote', 3000);
      mkdirSync(ARTEFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTEFACTS, 'room-page.png') });
      const fromPage = dominantFrequency(heard, 48000, { min: 200, max: 3400 });
      assert.ok(dbfs(heard) > -40, `page hears the room (${dbfs(heard).toFixed(1)} dBFS)`);
      assert.ok(Math.abs(fromPage - 700) <= 15, `page hears the phone's 700 Hz, got ${fromPage.toFixed(1)} Hz`);

      const atPhone = decodeUlaw(Buffer.concat(rx.sources().flatMap((s) => s.payloads).slice(-100)));
      assert.ok(dbfs(atPhone) > -40, `phone hears the browser (${dbfs(atPhone).toFixed(1)} dBFS)`);
      const fromBrowser = dominantFrequency(atPhone, 8000, { min: 200, max: 3400 });
      assert.ok(Math.abs(fromBrowser - 1000) <= 15, `phone hears the browser's 1000 Hz, got ${fromBrowser.toFixed(1)} Hz`);

      await page.click('#mute');
      const mutedUntil = Date.now() + 3000;
      while (!room.participants().find((p) => p.kind === 'webrtc')?.muted && Date.now() < mutedUntil) await sleep(50);
      assert.equal(room.participants().find((p) => p.kind === 'webrtc')?.muted, true, 'mute reaches the room');
      await page.click('#leave');
      const leftUntil = Date.now() + 3000;
      while (room.size > 1 && Date.now() < leftUntil) await sleep(50);
      assert.deepEqual(room.participants().map((p) => p.id), [phone.id], 'the browser left');
      await desk.close();
    });
  });
}
