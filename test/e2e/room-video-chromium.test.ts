/**
 * Issue 13, "video from browsers is forwarded between browsers (SFU style)": two Chromiums (fake
 * camera, fake microphones at 1000 Hz and 700 Hz) join /rooms/video-e2e with the camera. Each page
 * shows the other's video in a tile labelled with its name — the <video> has a size and the
 * page's getStats() counts decoded video frames that keep growing — and still hears the other's
 * tone (mix-minus audio untouched). The room's API snapshot counts the forwarded packets.
 * Screenshots in test-artefacts/room-video-{a,b}.png. Runs in a loopback-only network namespace.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'playwright-core';
import { inLoopbackNamespace } from '../helpers/netns.ts';
import type { TestServer } from '../helpers/server.ts';
import { recordPageAudio } from '../helpers/page-audio.ts';
import { CHROMIUM, chromiumRoomSuite, joinRoomPage } from '../helpers/room-browser.ts';
import { dbfs, dominantFrequency } from '../helpers/audio-analysis.ts';

const HOST = '127.0.0.1';
const ARTEFACTS = path.resolve('test-artefacts');

/** The remote video the page shows: the visible tile's caption, its video size, frames decoded so far. */
async function remoteVideo(page: Page): Promise<{ caption: string; width: number; framesDecoded: number }> {
  return page.evaluate(`(async () => {
    const tile = document.querySelector('#videos figure.tile:not(.hidden)');
    let framesDecoded = 0;
    (await window.strowgerRoom.pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') framesDecoded += s.framesDecoded ?? 0; });
    return { caption: tile?.querySelector('figcaption')?.textContent ?? '', width: tile?.querySelector('video')?.videoWidth ?? 0, framesDecoded };
  })()`);
}

async function waitFor<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > end) assert.fail(`${what}: last ${JSON.stringify(v)}`);
    await sleep(200);
  }
}

if (inLoopbackNamespace(import.meta.url)) {
  describe('room video between two Chromiums', { skip: existsSync(CHROMIUM) ? false : `no ${CHROMIUM}` }, () => {
    const suite = chromiumRoomSuite(HOST, [1000, 700]);
    let t: TestServer;
    before(() => { t = suite.server(); });

    test('each page shows the other\'s camera, labelled, decoding frames; audio still flows both ways', async () => {
      const a = suite.page(0);
      const b = suite.page(1);
      await joinRoomPage(a, t.baseUrl, 'video-e2e', 'Alice', { camera: true });
      await joinRoomPage(b, t.baseUrl, 'video-e2e', 'Bob', { camera: true });

      const routerStats = () => JSON.stringify(t.server.ctx.rooms!.get('video-e2e')?.snapshot().video);
      const atA = await waitFor('Alice sees Bob', () => remoteVideo(a), (v) => v.width > 0 && v.framesDecoded > 0);
      const atB = await waitFor('Bob sees Alice', () => remoteVideo(b), (v) => v.width > 0 && v.framesDecoded > 0).catch((err: Error) => assert.fail(`${err.message} ${routerStats()}`));
      assert.equal(atA.caption, 'Bob');
      assert.equal(atB.caption, 'Alice');
      assert.equal(await a.locator('#videos figure.tile:not(.hidden)').count(), 1, 'one remote tile: nobody sees itself');
      await sleep(2000);
      const laterA = await remoteVideo(a);
      const laterB = await remoteVideo(b);
      assert.ok(laterA.framesDecoded > atA.framesDecoded + 10, `Alice keeps decoding (${atA.framesDecoded} → ${laterA.framesDecoded})`);
      assert.ok(laterB.framesDecoded > atB.framesDecoded + 10, `Bob keeps decoding (${atB.framesDecoded} → ${laterB.framesDecoded})`);

      const [heardA, heardB] = await Promise.all([
        recordPageAudio(a, 'window.strowgerRoom.remote', 3000),
        recordPageAudio(b, 'window.strowgerRoom.remote', 3000),
      ]);
      mkdirSync(ARTEFACTS, { recursive: true });
      await a.screenshot({ path: path.join(ARTEFACTS, 'room-video-a.png') });
      await b.screenshot({ path: path.join(ARTEFACTS, 'room-video-b.png') });
      const fA = dominantFrequency(heardA, 48000, { min: 200, max: 3400 });
      const fB = dominantFrequency(heardB, 48000, { min: 200, max: 3400 });
      assert.ok(dbfs(heardA) > -40 && Math.abs(fA - 700) <= 15, `Alice hears Bob's 700 Hz (${fA.toFixed(1)} Hz, ${dbfs(heardA).toFixed(1)} dBFS)`);
      assert.ok(dbfs(heardB) > -40 && Math.abs(fB - 1000) <= 15, `Bob hears Alice's 1000 Hz (${fB.toFixed(1)} Hz, ${dbfs(heardB).toFixed(1)} dBFS)`);

      const stats = t.server.ctx.rooms!.get('video-e2e')!.snapshot().video;
      assert.equal(stats.publishers, 2);
      assert.ok(stats.packets_forwarded > 100, JSON.stringify(stats));

      // Bob leaves: Alice's tile goes away.
      assert.equal(await b.evaluate('window.strowgerRoom.state'), 'joined', `Bob is still in the room: ${await b.textContent('#status')}`);
      await b.click('#leave');
      await waitFor('Alice hides Bob\'s tile', () => a.locator('#videos figure.tile:not(.hidden)').count(), (n) => n === 0, 5000);
    });
  });
}
