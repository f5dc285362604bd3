/**
 * A gateway in an external conference system: `/gateway/start` with a `webrtc_domain` naming
 * WHIP/WHEP URLs (our own `/whip/sfu` and `/whep/sfu`: room `sfu` on the same server acts as the
 * external SFU). A sipp caller dials the SIP gateway's URI (700 Hz); an RTP leg in room `sfu`
 * talks 1000 Hz. The leg must hear the caller through WHIP, the caller (tcpdump on its media
 * port) the leg through WHEP; stop takes both sessions out of `sfu` and closes the bridge room.
 * A malformed `webrtc_domain` → 400, a system that refuses (bad token) → 503, nothing left open.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { inLoopbackNamespace } from '../helpers/netns.ts';
import type { TestServer } from '../helpers/server.ts';
import { getFreePort, spawnSipp } from '../helpers/sipp.ts';
import { startRtpCapture } from '../helpers/rtp-capture.ts';
import { talkingRoomLeg } from '../helpers/room-leg.ts';
import { ulawFrames, writeRtpPcap } from '../helpers/rtp-pcap.ts';
import { decodeUlaw, goertzelPower, makeTone, rms } from '../helpers/audio-analysis.ts';
import { device, deviceCall, eventually, startCallServer } from './call-fixtures.ts';

const HOST = '127.0.0.1';

/** Share of `freq` in the signal's power, and its RMS. */
function share(pcm: Int16Array, freq: number): { share: number; rms: number } {
  return { share: goertzelPower(pcm, 8000, freq, { window: 'hann' }) / Math.max(1, rms(pcm) ** 2), rms: rms(pcm) };
}

if (inLoopbackNamespace(import.meta.url)) {
  describe('gateways in an external WHIP/WHEP room', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gw-external-'));
    writeRtpPcap(path.join(dir, 'tone.pcap'), ulawFrames(makeTone({ freq: 700, seconds: 8, rate: 8000, amplitude: 0.4 })), { payloadType: 0 });
    let t: TestServer;
    let key: string;
    let token: string;
    const start = async (body: unknown) => {
      const res = await fetch(`${t.baseUrl}/gateway/start`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, body: await res.json() as any };
    };
    const sfuDomain = (extra: Record<string, unknown> = {}) => ({ sfu: { name: 'SFU', domain: 'sfu.test', whip: `${t.baseUrl}/whip/sfu`, whep: `${t.baseUrl}/whep/sfu`, token, ...extra } });

    before(async () => {
      t = await startCallServer(33800, { STROWGER_WEBRTC_ADDRESSES: HOST });
      await device(t, '1001');
      key = (await t.request('POST', '/api/keys', { cookie: t.adminCookie, body: { name: 'gw', scopes: ['gateway'] } })).body.key;
      token = (await t.request('POST', '/api/rooms/sfu/tokens', { cookie: t.adminCookie, body: { display_name: 'Gateway' } })).body.token;
    });
    after(async () => {
      await t?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test('a SIP gateway joins the external room: caller and SFU-room leg hear each other', async () => {
      const sfu = t.server.ctx.rooms!.open('sfu');
      const member = await talkingRoomLeg(t.server.ctx.media!, sfu, { freq: 1000, packets: 700, amplitude: 0.3, displayName: 'SFU member' });
      const rx = member.rx;

      const r = await start({ type: 'SIP', room: 'ext-test', gw_id: 'ext', webrtc_domain: sfuDomain() });
      assert.deepEqual(r, { status: 200, body: { gw_id: 'ext', processing_state: 'running', task: 'sip', room: 'ext-test' } });
      assert.equal(t.server.ctx.rooms!.get('ext-test'), undefined, 'no built-in room of that name');
      assert.deepEqual(sfu.participants().map((x) => x.kind).sort(), ['sip', 'whep', 'whip'], 'WHIP and WHEP sessions in the external room');
      const status = await t.server.ctx.gateways!.status('ext');
      assert.deepEqual((status.details.external as Array<{ kind: string }>).map((l) => l.kind), ['whip', 'whep']);

      const mediaPort = await getFreePort('udp');
      const capture = await startRtpCapture(path.join(dir, 'at-caller.pcap'), mediaPort);
      const sipp = await spawnSipp(deviceCall(t, '1001', 'ext-test', { scenario: 'uac-room-tone.xml', cwd: dir, mediaPort, timeoutMs: 30_000 }));
      const bridge = t.server.ctx.rooms!.get('ext.ext')!;
      await eventually('the caller in the bridge room', () => bridge.participants().some((x) => x.kind === 'sip'), 10_000);
      await sleep(3000);
      const atLeg = share(decodeUlaw(Buffer.concat(rx.sources().flatMap((s) => s.payloads).slice(-75))), 700);
      assert.ok(atLeg.rms > 500 && atLeg.share > 0.3, `the SFU room's leg hears the caller's 700 Hz through WHIP ${JSON.stringify(atLeg)}`);
      const done = await sipp.done;
      assert.equal(done.stats.successful, 1, `${done.errors}\n${done.messages.slice(-1500)}`);
      const pcmu = (await capture.stop()).filter((x) => x.payloadType === 0);
      const atCaller = share(decodeUlaw(Buffer.concat(pcmu.slice(-150, -25).map((x) => x.payload))), 1000);
      // The pulled mix also carries the caller's own voice back (our WHEP plays the whole room): 1000 Hz need not be alone.
      assert.ok(atCaller.rms > 300 && atCaller.share > 0.15, `the caller hears the SFU room's 1000 Hz through WHEP ${JSON.stringify(atCaller)}`);

      const stopped = await fetch(`${t.baseUrl}/gateway/stop`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ gw_id: 'ext' }) });
      assert.equal((await stopped.json() as any).processing_state, 'stopped');
      await eventually('the sessions left the external room', () => sfu.participants().length === 1, 5000);
      assert.equal(bridge.closed, true, 'the bridge room is closed');
      await member.close();
    });

    test('seed 000: /start with a domain the operator configured puts the gateway in that system; /stop takes it out', async () => {
      // A second server, the gateway node: STROWGER_CONFERENCE_SYSTEMS names the first one's
      // WHIP/WHEP endpoints as the system of domain "sfu.test", with a {room} template.
      const systems = { 'SFU.test': { whip: `${t.baseUrl}/whip/{room}`, whep: `${t.baseUrl}/whep/{room}`, token } };
      const gw = await startCallServer(34000, { STROWGER_WEBRTC_ADDRESSES: HOST, STROWGER_DOMAIN: 'gw.test', STROWGER_CONFERENCE_SYSTEMS: JSON.stringify(systems) });
      try {
        const gwKey = (await gw.request('POST', '/api/keys', { cookie: gw.adminCookie, body: { name: 'gw', scopes: ['gateway'] } })).body.key;
        const get = async (q: string) => {
          const res = await fetch(`${gw.baseUrl}${q}`, { headers: { authorization: `Bearer ${gwKey}` } });
          return { status: res.status, body: await res.json() as any };
        };
        const sfu = t.server.ctx.rooms!.open('sfu');
        const r = await get('/start?room=sfu&domain=sfu.test&prefix=gw-');
        assert.deepEqual(r, { status: 200, body: { status: 'success', details: { res: 'ok', app: 'strowger', uri: 'sip:gw-sfu@gw.test' } } });
        assert.equal(gw.server.ctx.rooms!.get('sfu'), undefined, 'no built-in room on the gateway node');
        await eventually('WHIP and WHEP sessions in the external room', () => sfu.participants().map((x) => x.kind).sort().join() === 'whep,whip', 10_000);

        const stopped = await get('/stop?room=sfu');
        assert.equal(stopped.status, 200);
        assert.match(stopped.body.details.res, /^SIP gateway mediagw-sfu-1 stopped$/);
        await eventually('the sessions left the external room', () => sfu.participants().length === 0, 5000);

        // Any other domain only names the SIP URI's domain: the built-in room, as before.
        const local = await get('/start?room=local1&domain=other.test');
        assert.deepEqual(local.body.details.uri, 'sip:local1@other.test');
        assert.notEqual(gw.server.ctx.rooms!.get('local1'), undefined, 'the built-in room');
        await get('/stop?room=local1');
      } finally {
        await gw.close();
      }
    });

    test('a malformed webrtc_domain is a 400, a refusing system a 503; nothing is left open', async () => {
      const bad = await start({ type: 'Record', room: 'r', gw_id: 'bad', webrtc_domain: { sfu: { whip: 'ftp://x' } } });
      assert.deepEqual(bad, { status: 400, body: { gw_id: 'bad', processing_state: 'bad gateway request: webrtc_domain whip must be an http(s) URL', detail: 'bad gateway request: webrtc_domain whip must be an http(s) URL' } });
      const refused = await start({ type: 'Record', room: 'r', gw_id: 'refused', webrtc_domain: sfuDomain({ token: 'wrong' }) });
      assert.equal(refused.status, 503);
      assert.match(refused.body.processing_state, /^gateways need .*: the external conference system: WHIP .* answered 401/);
      assert.equal(t.server.ctx.rooms!.get('ext.refused'), undefined, 'the bridge room is closed');
      assert.deepEqual(t.server.ctx.rooms!.get('sfu')?.participants() ?? [], []);
    });
  });
}
