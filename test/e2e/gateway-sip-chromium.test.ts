/**
 * Issue 13 acceptance, "a SIP caller in a browser room through a gateway": headless Chromium
 * (fake microphone: 1000 Hz) joins `/rooms/test`; a SIP gateway is started for room `test`
 * through the seed 000 API (`GET /start?room=test`, gateway-scoped key, no `dial`) and a sipp
 * device dials the URI it returned (`sip:<prefix>test@<domain>`), playing a 700 Hz PCMU tone
 * (play_pcap_audio). The page's remote audio (WebAudio) must be 700 Hz; what reached sipp's
 * media port (tcpdump on lo) must be the browser's 1000 Hz. Screenshot in
 * test-artefacts/gateway-sip-room.png. Runs in a loopback-only network namespace.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { inLoopbackNamespace } from '../helpers/netns.ts';
import type { TestServer } from '../helpers/server.ts';
import { getFreePort, spawnSipp } from '../helpers/sipp.ts';
import { startRtpCapture } from '../helpers/rtp-capture.ts';
import { writeRtpPcap, ulawFrames } from '../helpers/rtp-pcap.ts';
import { recordPageAudio } from '../helpers/page-audio.ts';
import { CHROMIUM, joinRoomPage, roomBrowserHooks } from '../helpers/room-browser.ts';
import { dbfs, decodeUlaw, dominantFrequency, makeTone, makeToneWav } from '../helpers/audio-analysis.ts';
import { device, deviceCall, eventually, startCallServer } from '../integration/call-fixtures.ts';

const HOST = '127.0.0.1';
const ARTEFACTS = path.resolve('test-artefacts');
const BROWSER_HZ = 1000;
const CALLER_HZ = 700;

if (inLoopbackNamespace(import.meta.url)) {
  describe('SIP gateway into a browser room', { skip: existsSync(CHROMIUM) ? false : `no ${CHROMIUM}` }, () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gw-sip-room-'));
    const browserTone = path.join(dir, 'browser-tone.wav');
    makeToneWav(browserTone, { freq: BROWSER_HZ, seconds: 30, rate: 48000, amplitude: 0.4 });
    writeRtpPcap(path.join(dir, 'tone.pcap'), ulawFrames(makeTone({ freq: CALLER_HZ, seconds: 8, rate: 8000, amplitude: 0.4 })), { payloadType: 0 });
    const browser = roomBrowserHooks(browserTone);
    let t: TestServer;
    let key: string;
    before(async () => {
      t = await startCallServer(33600, { STROWGER_WEBRTC_ADDRESSES: HOST });
      await device(t, '1001');
      key = (await t.request('POST', '/api/keys', { cookie: t.adminCookie, body: { name: 'gw', scopes: ['gateway'] } })).body.key;
    });
    after(async () => {
      await t?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test('GET /start?room=test, sipp dials the returned URI: browser and caller hear each other', async () => {
      const page = browser.page();
      await joinRoomPage(page, t.baseUrl, 'test', 'Chromium');
      const res = await fetch(`${t.baseUrl}/start?room=test`, { headers: { authorization: `Bearer ${key}` } });
      const started = await res.json() as { status: string; details: { res: string; app: string; uri: string } };
      assert.equal(res.status, 200, JSON.stringify(started));
      const m = /^sip:([^@]+)@(.+)$/.exec(started.details.uri);
      assert.ok(m, `a SIP URI: ${started.details.uri}`);
      assert.deepEqual(started, { status: 'success', details: { res: 'ok', app: 'strowger', uri: `sip:test@${m[2]}` } });

      const mediaPort = await getFreePort('udp');
      const capture = await startRtpCapture(path.join(dir, 'at-caller.pcap'), mediaPort);
      const sipp = await spawnSipp(deviceCall(t, '1001', m[1]!, { scenario: 'uac-room-tone.xml', cwd: dir, mediaPort, timeoutMs: 30_000 }));
      const room = t.server.ctx.rooms!.get('test')!;
      await eventually('the caller in room test', () => room.participants().some((p) => p.kind === 'sip'), 10_000);
      await page.waitForSelector('#participants li:nth-child(2)', { timeout: 5000 });
      await sleep(1500);
      const heard = await recordPageAudio(page, 'window.strowgerRoom.remote', 3000);
      mkdirSync(ARTEFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTEFACTS, 'gateway-sip-room.png') });

      const done = await sipp.done;
      assert.equal(done.stats.successful, 1, `sipp hung up cleanly: ${done.errors}\n${done.messages.slice(-1500)}`);
      const packets = await capture.stop();
      const fromPage = dominantFrequency(heard, 48000, { min: 200, max: 3400 });
      assert.ok(dbfs(heard) > -40, `the page hears the room (${dbfs(heard).toFixed(1)} dBFS)`);
      assert.ok(Math.abs(fromPage - CALLER_HZ) <= 15, `the page hears the caller's ${CALLER_HZ} Hz, got ${fromPage.toFixed(1)} Hz`);

      const pcmu = packets.filter((p) => p.payloadType === 0);
      assert.ok(pcmu.length > 100, `RTP reached the caller (${pcmu.length} PCMU packets)`);
      const atCaller = decodeUlaw(Buffer.concat(pcmu.slice(-150, -25).map((p) => p.payload)));
      assert.ok(dbfs(atCaller) > -40, `the caller hears the browser (${dbfs(atCaller).toFixed(1)} dBFS)`);
      const fromBrowser = dominantFrequency(atCaller, 8000, { min: 200, max: 3400 });
      assert.ok(Math.abs(fromBrowser - BROWSER_HZ) <= 15, `the caller hears the browser's ${BROWSER_HZ} Hz, got ${fromBrowser.toFixed(1)} Hz`);

      await eventually('the caller left the room', () => !room.participants().some((p) => p.kind === 'sip'), 5000);
      const stop = await fetch(`${t.baseUrl}/stop?room=test`, { headers: { authorization: `Bearer ${key}` } });
      assert.deepEqual(await stop.json(), { status: 'success', details: { res: 'SIP gateway mediagw-test-1 stopped' } });
    });
  });
}
