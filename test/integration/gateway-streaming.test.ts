/**
 * Streaming gateway (seed 000 `/start` with `rtmpDst`, seed 001 status): the room's mix goes
 * through ffmpeg to a real RTMP server (nginx + libnginx-mod-rtmp on a free port); `ffprobe`
 * reads the stream back and finds an AAC audio track. When the RTMP server goes away, ffmpeg is
 * retried with a back-off and the gateway ends `failed` with the reason; `/stop` answers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import type { GatewaySnapshot } from '../../src/gateway/index.ts';
import { RTMP_MODULE, startNginxRtmp, type NginxRtmp } from '../helpers/nginx-rtmp.ts';

const run = promisify(execFile);
const hasRtmp = existsSync(RTMP_MODULE) && existsSync('/usr/sbin/nginx');

describe('Streaming gateway to nginx-rtmp', { skip: hasRtmp ? false : 'nginx with libnginx-mod-rtmp not installed' }, () => {
  let t: TestServer;
  let rtmp: NginxRtmp;
  let key: string;
  const get = async (path: string) => {
    const res = await fetch(t.baseUrl + path, { headers: { authorization: `Bearer ${key}` } });
    return { status: res.status, text: await res.text() };
  };

  before(async () => {
    rtmp = await startNginxRtmp();
    t = await startTestServer('sqlite', { STROWGER_GATEWAY_STREAM_RETRIES: '2', STROWGER_GATEWAY_STREAM_RETRY_MS: '200' });
    key = (await t.request('POST', '/api/keys', { cookie: t.adminCookie, body: { name: 'gw', scopes: ['gateway'] } })).body.key;
  });
  after(async () => {
    await t?.close();
    await rtmp?.close();
  });

  test('the room mix reaches the RTMP server (ffprobe: AAC audio); the server going away ends in failed', async () => {
    const { media, rooms, gateways } = t.server.ctx;
    const room = rooms!.open('town-hall');
    const tone = await media!.createPlayer({ group: room.group, source: { tone: { frequencies: [600], levelDb: -14 } }, loop: true });
    await room.join({ kind: 'player', displayName: 'tone', endpoint: tone.id, hears: false });
    const dst = rtmp.url('town-hall');

    const started = await get(`/start?room=town-hall&from=Streamer&rtmpDst=${encodeURIComponent(dst)}`);
    assert.deepEqual(started, { status: 200, text: JSON.stringify({ status: 'success', details: { res: 'ok', app: 'strowger', uri: dst } }) });
    assert.deepEqual(room.participants().map((p) => [p.kind, p.display_name, p.speaks]), [['player', 'tone', true], ['rtmp', 'Streamer', false]]);

    let probe: any;
    for (let i = 0; i < 10 && probe === undefined; i++) {
      await sleep(1000);
      try {
        const { stdout } = await run('ffprobe', ['-v', 'error', '-rw_timeout', '5000000', '-show_streams', '-of', 'json', dst], { timeout: 15_000 });
        probe = JSON.parse(stdout);
      } catch { /* not published yet */ }
    }
    assert.ok(probe, 'ffprobe read the stream');
    const audio = probe.streams.filter((s: any) => s.codec_type === 'audio');
    assert.equal(audio.length, 1, JSON.stringify(probe.streams));
    assert.equal(audio[0].codec_name, 'aac');

    const gwId = 'mediagw-town-hall-1';
    const status = await gateways!.status(gwId);
    assert.deepEqual([status.processing_state, status.task, status.details.ffmpeg_running, status.details.retries], ['running', 'streaming', true, 0]);

    // The RTMP server goes away: 2 retries 200 ms and 400 ms apart, then failed.
    await rtmp.close();
    let failed: GatewaySnapshot | undefined;
    for (let i = 0; i < 100; i++) {
      const s = await gateways!.status(gwId);
      if (s.processing_state !== 'running') { failed = s; break; }
      await sleep(100);
    }
    assert.equal(failed?.processing_state, 'failed', JSON.stringify(failed));
    assert.match(failed!.error!, /^RTMP stream to rtmp:\/\/127\.0\.0\.1:\d+\/live\/town-hall failed: ffmpeg exited .*gave up after 2 retries$/);
    assert.equal(failed!.details.ffmpeg_runs, 3);
    assert.ok(!room.participants().some((p) => p.kind === 'rtmp'), 'the failed gateway left the room');
    const stopped = await get('/stop?room=town-hall');
    assert.deepEqual(stopped, { status: 200, text: '{"status":"success","details":{"res":"no gateway running in room town-hall"}}' });
    await media!.releaseLeg(tone.id);
  });

  test('/stop stops a running Streaming gateway and says what it stopped', async () => {
    const again = await startNginxRtmp();
    try {
      const dst = again.url('x');
      assert.equal((await get(`/start?room=lobby&rtmpDst=${encodeURIComponent(dst)}`)).status, 200);
      const r = await get('/stop?room=lobby');
      assert.deepEqual(r, { status: 200, text: '{"status":"success","details":{"res":"Streaming gateway mediagw-lobby-2 stopped"}}' });
      assert.equal((await t.server.ctx.gateways!.status('mediagw-lobby-2')).details.ffmpeg_running, false);
      assert.deepEqual(t.server.ctx.rooms!.get('lobby')?.participants() ?? [], []);
    } finally {
      await again.close();
    }
  });
});
