/**
 * Issue 14, a call's audio beyond our endpoint (loopback netns: werift peers): a sipp caller
 * of an app number Accepted with `stream` talks with a werift peer in the room (recorded: the
 * WAV's path comes in `ended`); an outgoing call with `streaming` joins its room as the given
 * peer; a `webrtc_offer` on call_ws lets a werift peer talk with the sipp callee. sipp does the
 * signalling; the SIP side's media is a UDP socket of the test (the SDP points there), which
 * sends a 440 Hz PCMU tone and decodes what it gets (Goertzel); the peer sends 1000 Hz Opus.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { inLoopbackNamespace } from '../helpers/netns.ts';
import type { TestServer } from '../helpers/server.ts';
import { spawnSipp, startSippServer } from '../helpers/sipp.ts';
import { startRtpReceiver, type RtpReceiver } from '../helpers/rtp-receiver.ts';
import { sendRtp } from '../helpers/rtp-sender.ts';
import { decodeUlaw, linearToUlaw, makeTone, readWavPcm, rms, toneShare } from '../helpers/audio-analysis.ts';
import { weriftPeer, type WeriftPeer } from '../helpers/werift-peer.ts';
import { startHookReceiver, type HookReceiver } from '../helpers/hook-receiver.ts';
import { api, eventually, startCallServer, target } from './call-fixtures.ts';
import { joinWithOffer } from '../../src/rooms/webrtc-member.ts';

const HOST = '127.0.0.1';

/**
 * 3 s of tones both ways: the SIP side (socket `rx`, sending to our leg `legPort`) says
 * 440 Hz, the peer 1000 Hz; each must hear the other's.
 */
async function exchangeTones(rx: RtpReceiver, legPort: number, peer: WeriftPeer): Promise<void> {
  const fromSip = rx.total();
  const fromPeer = peer.received.length;
  const tone8 = makeTone({ freq: 440, seconds: 3, rate: 8000, amplitude: 0.25 });
  await Promise.all([
    peer.sendTone(1000, 3),
    sendRtp({ host: HOST, port: legPort, socket: rx.socket, ssrc: 9, count: 150, payload: (i) => Buffer.from(Array.from(tone8.subarray(i * 160, (i + 1) * 160), linearToUlaw)) }),
  ]);
  await sleep(200);
  const atSip = decodeUlaw(Buffer.concat(rx.sources().flatMap((s) => s.payloads).slice(fromSip + 25)));
  assert.ok(atSip.length >= 8000, `the SIP side got ${atSip.length} samples`);
  assert.ok(rms(atSip) > 1000 && toneShare(atSip, 1000, 8000) > 0.5, `the SIP side hears the peer's 1000 Hz (rms ${rms(atSip).toFixed(0)}, share ${toneShare(atSip, 1000, 8000).toFixed(2)})`);
  const atPeer = peer.heard(fromPeer + 25);
  assert.ok(atPeer.length >= 48000, `the peer got ${atPeer.length} samples`);
  assert.ok(rms(atPeer) > 1000 && toneShare(atPeer, 440, 48000) > 0.5, `the peer hears the SIP side's 440 Hz (rms ${rms(atPeer).toFixed(0)}, share ${toneShare(atPeer, 440, 48000).toFixed(2)})`);
}

interface Socket { ws: WebSocket; frames: any[]; closed: Promise<void> }

async function callSocket(url: string): Promise<Socket> {
  const ws = new WebSocket(url);
  const s: Socket = { ws, frames: [], closed: new Promise((r) => ws.once('close', () => r())) };
  ws.on('message', (d: Buffer) => s.frames.push(JSON.parse(d.toString())));
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  return s;
}

if (inLoopbackNamespace(import.meta.url)) {
  describe('call gateway: rooms and WebRTC for a call\'s audio', () => {
    let t: TestServer;
    let hooks: HookReceiver;
    let secret: string;
    let appId: string;
    const receivers: RtpReceiver[] = [];
    const call = (method: string, path: string, body?: unknown) => t.request(method, path, { token: secret, body });
    const legPort = async (callId: string) => (await t.server.ctx.media!.stats(t.server.ctx.callGateway!.find(appId, callId)!.legId!)).rtpPort;
    const rtpSocket = async () => { const rx = await startRtpReceiver({ host: HOST, capture: true }); receivers.push(rx); return rx; };
    // Closed in after() too: a peer left open by a failed assertion kept the process alive.
    const peers: WeriftPeer[] = [];
    const newPeer = () => { const p = weriftPeer(HOST); peers.push(p); return p; };

    before(async () => {
      t = await startCallServer(26600, { STROWGER_WEBRTC_ADDRESSES: HOST });
      hooks = await startHookReceiver();
      const a = await api(t, 'POST', '/api/apps', { name: 'Media', app_id: 'media' });
      secret = a.app_secret;
      appId = a.app_id;
    });
    after(async () => {
      for (const p of peers) await p.close().catch(() => undefined);
      for (const r of receivers) await r.close();
      await hooks?.close();
      await t?.close();
    });

    test('incoming: hook answers Accept with stream (record) → the sipp caller and a werift peer in the room hear each other; ended reports the recording', async () => {
      await api(t, 'POST', '/api/call-numbers', { number: '+15558881001', app_id: appId, subnets: ['127.0.0.1/32'], hook: hooks.url, hook_content_type: 'Json' });
      hooks.respond = (req) => (JSON.parse(req.body.toString()).event === 'incoming'
        ? { status: 200, body: JSON.stringify({ action: 'Accept', stream: { room: 'support-1', peer: 'Caller', record: true } }) }
        : { status: 200 });
      const room = t.server.ctx.rooms!.open('support-1');
      const peer = newPeer();
      const member = await joinWithOffer(room, t.server.ctx.webrtc!, { offer: await peer.offer(), kind: 'webrtc', displayName: 'Agent' });
      await peer.accept(member.answer);
      await peer.connected();
      const rx = await rtpSocket();
      const caller = await spawnSipp({ scenario: 'uac-media-wait-bye.xml', target: target(t), service: '+15558881001', calls: 1, vars: { rtpport: rx.port }, injection: { rows: [['+15550100200', '-', 'strowger.test', '']] }, timeoutMs: 60000 });
      const accepted = await eventually('accepted hook', () => hooks.requests.map((h) => JSON.parse(h.body.toString())).find((e) => e.event === 'accepted'), 8000);
      assert.deepEqual(room.participants().map((p) => [p.kind, p.display_name]).sort(), [['recorder', 'recorder Caller'], ['sip', 'Caller'], ['webrtc', 'Agent']]);
      assert.match(JSON.stringify(await api(t, 'GET', '/api/rooms/support-1')), /"display_name":"Caller"/, 'the room API lists the caller');
      await exchangeTones(rx, await legPort(accepted.call_id), peer);

      assert.equal((await call('DELETE', `/call/${accepted.call_id}`)).status, 200);
      const r = await caller.done;
      assert.equal(r.exitCode, 0, r.errors);
      const ended = await eventually('ended hook', () => hooks.requests.map((h) => JSON.parse(h.body.toString())).find((e) => e.event === 'ended' && e.call_id === accepted.call_id), 8000);
      assert.equal(ended.reason, 'bye-local');
      assert.match(ended.recording, /media\/calls\/[0-9a-f]+\.wav$/);
      await eventually('the caller and recorder left the room', () => room.participants().length === 1);
      assert.deepEqual(room.participants().map((p) => p.display_name), ['Agent']);
      await eventually('recording closed', () => existsSync(ended.recording) && statSync(ended.recording).size > 44 + 16000 * 2);
      const wav = readWavPcm(ended.recording);
      assert.ok(toneShare(wav.samples, 440, wav.sampleRate) > 0.1 || toneShare(wav.samples, 1000, wav.sampleRate) > 0.1, 'the recording has the call\'s tones');
      await member.leave();
      await peer.close();
      hooks.respond = () => ({ status: 200 });
    });

    test('outgoing: streaming joins the room as the given peer once answered; tones through; DELETE leaves the room', async () => {
      const rx = await rtpSocket();
      const uas = await startSippServer({ scenario: 'uas-media-wait-bye.xml', vars: { rtpport: rx.port }, calls: 1 });
      const room = t.server.ctx.rooms!.open('sales');
      const peer = newPeer();
      const member = await joinWithOffer(room, t.server.ctx.webrtc!, { offer: await peer.offer(), kind: 'webrtc', displayName: 'Seller' });
      await peer.accept(member.answer);
      await peer.connected();
      const r = await call('POST', '/call/outgoing', { sip_server: uas.address, from_number: '+15550001111', to_number: '300', streaming: { room: 'sales', peer: 'Bob' } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const ws = await callSocket(r.body.data.call_ws);
      await eventually('accepted', () => ws.frames.some((f) => f.event === 'accepted'), 8000);
      await eventually('Bob in the room', () => room.participants().some((p) => p.kind === 'sip' && p.display_name === 'Bob'), 5000);
      assert.match(JSON.stringify(await api(t, 'GET', '/api/rooms/sales')), /"kind":"sip","display_name":"Bob"/, 'the room API lists the call as Bob');
      await exchangeTones(rx, await legPort(r.body.data.call_id), peer);
      assert.equal((await call('DELETE', `/call/${r.body.data.call_id}`)).status, 200);
      await eventually('ended', () => ws.frames.some((f) => f.event === 'ended'));
      assert.equal(ws.frames.find((f) => f.event === 'ended').recording, undefined, 'not recorded');
      await eventually('Bob left', () => room.participants().length === 1);
      assert.equal((await uas.process.done).exitCode, 0);
      await member.leave();
      await peer.close();
    });

    test('call_ws webrtc_offer → webrtc_answer; the werift peer and the sipp callee hear each other; bad offers get error frames', async () => {
      const rx = await rtpSocket();
      const uas = await startSippServer({ scenario: 'uas-media-wait-bye.xml', vars: { rtpport: rx.port }, calls: 1 });
      const r = await call('POST', '/call/outgoing', { sip_server: uas.address, from_number: '+15550001111', to_number: '301' });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const ws = await callSocket(r.body.data.call_ws);
      await eventually('accepted', () => ws.frames.some((f) => f.event === 'accepted'), 8000);
      ws.ws.send(JSON.stringify({ action: 'webrtc_offer', sdp: 'hello' }));
      ws.ws.send(JSON.stringify({ action: 'webrtc_offer', sdp: 'v=0\r\nnot an offer\r\n' }));
      await eventually('two error frames', () => ws.frames.filter((f) => f.error).length === 2);
      assert.match(ws.frames.filter((f) => f.error).map((f) => f.error).join('|'), /webrtc_offer needs "sdp"/);
      const peer = newPeer();
      ws.ws.send(JSON.stringify({ action: 'webrtc_offer', sdp: await peer.offer() }));
      const answer = await eventually('webrtc_answer', () => ws.frames.find((f) => f.event === 'webrtc_answer'), 8000);
      assert.equal(answer.call_id, r.body.data.call_id);
      assert.match(answer.sdp, /a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ host/);
      await peer.accept(answer.sdp);
      await peer.connected();
      await exchangeTones(rx, await legPort(r.body.data.call_id), peer);
      // The socket goes: the peer is closed, the call goes on.
      ws.ws.close();
      await ws.closed;
      await sleep(500);
      const before = peer.received.length;
      await sleep(1000);
      assert.ok(peer.received.length - before < 5, `the peer gets no more audio once its WebSocket closed (${peer.received.length - before} packets)`);
      assert.equal(t.server.ctx.callGateway!.find(appId, r.body.data.call_id)!.ended, false, 'the call survives its WebSocket');
      assert.equal((await call('DELETE', `/call/${r.body.data.call_id}`)).status, 200);
      assert.equal((await uas.process.done).exitCode, 0);
      await peer.close();
    });
  });
}
