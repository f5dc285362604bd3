/**
 * WHIP/WHEP into rooms, and the WHIP/WHEP client adapter against them (our own endpoints act as
 * the "external SFU"): the adapter publishes room `gateway`'s mix to `/whip/sfu`, where an RTP
 * leg hears it (440 Hz); it pulls `/whep/sfu` into room `gateway2`, where an RTP leg hears the
 * SFU room's 1000 Hz. Then the HTTP rules: Bearer room token, 201 + Location + application/sdp,
 * DELETE leaves, 405 on PATCH, 400 on a bad offer, routes in /openapi.json.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { inLoopbackNamespace } from '../helpers/netns.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { startRtpReceiver, type RtpReceiver } from '../helpers/rtp-receiver.ts';
import { sendRtp } from '../helpers/rtp-sender.ts';
import { decodeUlaw, goertzelPower, linearToUlaw, makeTone, rms } from '../helpers/audio-analysis.ts';
import { WhipWhepAdapter } from '../../src/rooms/whip-whep-adapter.ts';
import type { Room } from '../../src/rooms/index.ts';

const HOST = '127.0.0.1';
const PCMU = { pt: 0, name: 'PCMU', clockRate: 8000, channels: 1, fmtp: null, telephoneEventPt: null, ptime: 20 } as const;

function share(rx: RtpReceiver, freq: number): { share: number; rms: number } {
  const pcm = decodeUlaw(Buffer.concat(rx.sources().flatMap((s) => s.payloads).slice(-75)));
  return { share: goertzelPower(pcm, 8000, freq, { window: 'hann' }) / Math.max(1, rms(pcm) ** 2), rms: rms(pcm) };
}

if (inLoopbackNamespace(import.meta.url)) {
  describe('WHIP/WHEP endpoints and the WHIP/WHEP client adapter', () => {
    let t: TestServer;
    let token: string;
    before(async () => {
      t = await startTestServer('sqlite', { STROWGER_WEBRTC_ADDRESSES: HOST, STROWGER_MEDIA_WORKERS: '1' });
      const r = await t.request('POST', '/api/rooms/sfu/tokens', { cookie: t.adminCookie, body: { display_name: 'Gateway' } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.body.whip_path, '/whip/sfu');
      token = r.body.token;
    });
    after(() => t.close());

    async function talkingLeg(room: Room, freq: number | null) {
      const media = t.server.ctx.media!;
      const rx = await startRtpReceiver({ capture: true });
      const leg = await media.createLeg({ group: room.group });
      await media.setCodec(leg.id, PCMU);
      await media.setRemote(leg.id, { address: HOST, rtpPort: rx.port });
      const p = await room.join({ kind: 'sip', displayName: `leg ${freq}`, endpoint: leg.id, speaks: freq !== null });
      const tone = makeTone({ freq: freq ?? 1, seconds: 1, rate: 8000, amplitude: freq === null ? 0 : 0.3 });
      const talking = sendRtp({ host: HOST, port: leg.rtpPort, socket: rx.socket, ssrc: 5, count: 200, payload: (i) => Buffer.from(Array.from(tone.subarray((i % 50) * 160, ((i % 50) + 1) * 160), linearToUlaw)) });
      return { rx, leg, p, talking, done: async () => { await talking; await room.leave(p.id); await media.releaseLeg(leg.id); await rx.close(); } };
    }

    test('the adapter publishes a room into /whip/sfu and pulls /whep/sfu into another room: tones through', async () => {
      const rooms = t.server.ctx.rooms!;
      const gateway = rooms.open('gateway');
      const gateway2 = rooms.open('gateway2');
      const sfu = rooms.open('sfu');
      const adapter = new WhipWhepAdapter({ webrtc: t.server.ctx.webrtc!, whipUrl: `${t.baseUrl}/whip/sfu`, whepUrl: `${t.baseUrl}/whep/sfu`, token });
      const a = await talkingLeg(gateway, 440);
      const b = await talkingLeg(sfu, 1000);
      const c = await talkingLeg(gateway2, null);
      const out = await adapter.publish(gateway);
      const back = await adapter.pull(gateway2);
      assert.match(out.remote, /\/whip\/sfu\/[\w-]+$/);
      assert.deepEqual(sfu.participants().map((p) => [p.kind, p.display_name]).sort(), [['sip', 'leg 1000'], ['whep', 'Gateway'], ['whip', 'Gateway']]);
      await sleep(2500);
      const atB = share(b.rx, 440);
      assert.ok(atB.rms > 500 && atB.share > 0.3, `the SFU room's leg hears the gateway room's 440 Hz through WHIP ${JSON.stringify(atB)}`);
      const atC = share(c.rx, 1000);
      assert.ok(atC.rms > 500 && atC.share > 0.3, `the pulling room's leg hears the SFU room's 1000 Hz through WHEP ${JSON.stringify(atC)}`);

      await Promise.all([out.close(), back.close()]);
      assert.equal(await out.ended, 'closed');
      assert.deepEqual(sfu.participants().map((p) => p.kind), ['sip'], 'DELETE took both sessions out of the SFU room');
      assert.equal(gateway.participants().length, 1);
      await Promise.all([a.done(), b.done(), c.done()]);
    });

    test('HTTP rules: token, content type, Location, DELETE, PATCH, bad offers, OpenAPI', async () => {
      const post = (path: string, body: string, auth?: string, type = 'application/sdp') =>
        fetch(`${t.baseUrl}${path}`, { method: 'POST', body, headers: { 'content-type': type, ...(auth ? { authorization: `Bearer ${auth}` } : {}) } });
      assert.equal((await post('/whip/sfu', 'v=0')).status, 401);
      assert.equal((await post('/whip/sfu', 'v=0', 'not-a-token')).status, 401);
      assert.equal((await post('/whip/other', 'v=0', token)).status, 401, 'a token is for one room');
      const bad = await post('/whip/sfu', 'v=0\r\nnonsense', token);
      assert.equal(bad.status, 400);
      assert.equal(((await bad.json()) as any).error.code, 'bad_request');
      assert.equal((await post('/whip/sfu', '{}', token, 'application/json')).status, 400);
      assert.equal(t.server.ctx.rooms!.get('sfu')?.size ?? 0, 0, 'nothing joined');
      assert.equal((await fetch(`${t.baseUrl}/whip/sfu/nope`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })).status, 404);
      assert.equal((await fetch(`${t.baseUrl}/whip/sfu/nope`, { method: 'PATCH', headers: { authorization: `Bearer ${token}` } })).status, 405);
      const spec = (await t.request('GET', '/openapi.json')).body;
      for (const p of ['/whip/{room}', '/whep/{room}', '/whip/{room}/{id}', '/api/rooms/{name}/tokens']) assert.ok(spec.paths[p], `${p} in /openapi.json`);
      assert.equal((await t.request('POST', '/api/rooms/sfu/tokens', { body: {} })).status, 401, 'minting needs a login');
      assert.equal((await t.request('POST', '/api/rooms/..x/tokens', { cookie: t.adminCookie, body: {} })).status, 400);
    });
  });
}
