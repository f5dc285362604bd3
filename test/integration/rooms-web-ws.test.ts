/**
 * Issue 13, room page signalling: a werift peer joins room `test` over the WebSocket protocol
 * (`/rooms/test/ws`) like the page does, and exchanges audio with an RTP leg joined to the same
 * room (the SIP side's media): the leg hears the peer's 1000 Hz Opus tone as PCMU, the peer hears
 * the leg's 440 Hz. A second socket sees the participant list, mute and chat; bad messages get
 * errors and change nothing; a closed socket leaves the room at once; tokens when required.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { inLoopbackNamespace } from '../helpers/netns.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { startRtpReceiver } from '../helpers/rtp-receiver.ts';
import { sendRtp } from '../helpers/rtp-sender.ts';
import { decodeUlaw, linearToUlaw, makeTone, rms, toneShare } from '../helpers/audio-analysis.ts';
import { weriftPeer } from '../helpers/werift-peer.ts';
import { roomSocket } from '../helpers/room-socket.ts';

const HOST = '127.0.0.1';
const PCMU = { pt: 0, name: 'PCMU', clockRate: 8000, channels: 1, fmtp: null, telephoneEventPt: null, ptime: 20 } as const;

if (inLoopbackNamespace(import.meta.url)) {
  describe('room page WebSocket protocol with a werift peer', () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer('sqlite', { STROWGER_WEBRTC_ADDRESSES: HOST, STROWGER_MEDIA_WORKERS: '1' });
    });
    after(() => t.close());

    test('a werift peer joins /rooms/test/ws and exchanges tones with an RTP leg in the room', async () => {
      const rooms = t.server.ctx.rooms!;
      const media = t.server.ctx.media!;
      const watcher = await roomSocket(t.baseUrl, 'test');
      const peer = weriftPeer(HOST);
      const sock = await roomSocket(t.baseUrl, 'test');
      sock.send({ type: 'join', display_name: 'Werift', sdp: await peer.offer() });
      const joined = await sock.next((m) => m.type === 'joined');
      assert.equal(joined.room, 'test');
      assert.deepEqual(joined.participants.map((p: any) => [p.kind, p.display_name]), [['webrtc', 'Werift']]);
      assert.match(joined.sdp, /a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ host/);
      await peer.accept(joined.sdp);
      await peer.connected();

      // The SIP side's media: a PCMU leg in the room whose far end talks 440 Hz and listens.
      const room = rooms.get('test')!;
      const rx = await startRtpReceiver({ capture: true });
      const leg = await media.createLeg({ group: room.group });
      await media.setCodec(leg.id, PCMU);
      await media.setRemote(leg.id, { address: HOST, rtpPort: rx.port });
      const sipSide = await room.join({ kind: 'sip', displayName: 'Phone', endpoint: leg.id });
      const tone8 = makeTone({ freq: 440, seconds: 3, rate: 8000, amplitude: 0.25 });
      await Promise.all([
        peer.sendTone(1000, 3),
        sendRtp({ host: HOST, port: leg.rtpPort, socket: rx.socket, ssrc: 9, count: 150, payload: (i) => Buffer.from(Array.from(tone8.subarray(i * 160, (i + 1) * 160), linearToUlaw)) }),
      ]);
      await sleep(200);
      const atPhone = decodeUlaw(Buffer.concat(rx.sources().flatMap((s) => s.payloads).slice(25)));
      assert.ok(atPhone.length >= 8000, `phone got ${atPhone.length} samples`);
      assert.ok(rms(atPhone) > 1000 && toneShare(atPhone, 1000, 8000) > 0.5, `phone hears the peer's 1000 Hz (rms ${rms(atPhone).toFixed(0)}, share ${toneShare(atPhone, 1000, 8000).toFixed(2)})`);
      const atPeer = peer.heard(25);
      assert.ok(atPeer.length >= 48000, `peer got ${atPeer.length} samples`);
      assert.ok(rms(atPeer) > 1000 && toneShare(atPeer, 440, 48000) > 0.5, `peer hears the phone's 440 Hz (rms ${rms(atPeer).toFixed(0)}, share ${toneShare(atPeer, 440, 48000).toFixed(2)})`);
      assert.ok(toneShare(atPeer, 1000, 48000) < 0.01, 'and not itself (mix-minus)');

      // The list, mute and chat reach the other socket (which has not joined: it sees nothing until it does).
      assert.equal(watcher.inbox.length, 0, 'a socket that has not joined is told nothing');
      const sock2Peer = weriftPeer(HOST);
      watcher.send({ type: 'join', display_name: 'Watcher', sdp: await sock2Peer.offer() });
      const w = await watcher.next((m) => m.type === 'joined');
      assert.deepEqual(w.participants.map((p: any) => p.display_name).sort(), ['Phone', 'Watcher', 'Werift']);
      const seen = await sock.next((m) => m.type === 'participant_joined' && m.participant.display_name === 'Watcher');
      assert.equal(seen.participant.kind, 'webrtc');
      sock.send({ type: 'mute', muted: true });
      const upd = await watcher.next((m) => m.type === 'participant_updated');
      assert.deepEqual([upd.participant.display_name, upd.participant.muted], ['Werift', true]);
      assert.equal(room.participant(joined.id)?.muted, true);
      sock.send({ type: 'chat', text: 'hello room' });
      const chat = await watcher.next((m) => m.type === 'chat');
      assert.deepEqual([chat.message.from, chat.message.text, chat.message.room], ['Werift', 'hello room', 'test']);
      assert.equal(room.history().at(-1)?.text, 'hello room');

      // Bad input: errors, nothing changed, the socket stays usable.
      sock.send('not json');
      assert.equal((await sock.next((m) => m.type === 'error')).code, 'bad_message');
      sock.send({ type: 'chat', text: '' });
      assert.equal((await sock.next((m) => m.type === 'error')).code, 'bad_message');
      sock.send({ type: 'join', display_name: 'Again', sdp: 'v=0' });
      assert.equal((await sock.next((m) => m.type === 'error')).code, 'already_joined');
      assert.equal(room.size, 3);

      // A socket that goes away leaves at once (the page closed).
      const t0 = Date.now();
      watcher.ws.terminate();
      const gone = await sock.next((m) => m.type === 'participant_left');
      assert.equal(gone.participant.display_name, 'Watcher');
      assert.ok(Date.now() - t0 < 2000, `left after ${Date.now() - t0} ms`);
      await sock2Peer.close();

      // Leave: the server confirms and closes; the endpoint's leg is released.
      const legsBefore = room.participants().length;
      sock.send({ type: 'leave' });
      assert.equal((await sock.next((m) => m.type === 'left')).reason, 'left');
      await sock.closed;
      assert.equal(room.participants().length, legsBefore - 1);
      assert.deepEqual(room.participants().map((p) => p.id), [sipSide.id]);
      await peer.close();
      await room.leave(sipSide.id);
      await media.releaseLeg(leg.id);
      await rx.close();
    });

    test('a peer that vanishes without closing its socket leaves within 10 s', async () => {
      const peer = weriftPeer(HOST);
      const sock = await roomSocket(t.baseUrl, 'vanish');
      sock.send({ type: 'join', display_name: 'Ghost', sdp: await peer.offer() });
      const joined = await sock.next((m) => m.type === 'joined');
      await peer.accept(joined.sdp);
      await peer.connected();
      await sleep(500); // the server's side of DTLS too
      const room = t.server.ctx.rooms!.get('vanish')!;
      const t0 = Date.now();
      type Protocols = { protocols: { close(): Promise<void> }[] };
      for (const ice of peer.pc.iceTransports) for (const p of (ice.connection as unknown as Protocols).protocols) await p.close();
      const left = await sock.next((m) => m.type === 'left', 12_000);
      assert.match(left.reason, /^media: (no-media|ice-failed|ice-disconnected|connect-timeout)$/);
      assert.ok(Date.now() - t0 <= 10_000, `left after ${Date.now() - t0} ms`);
      assert.equal(room.size, 0);
      await sock.closed;
      await peer.close().catch(() => undefined);
    });

    test('bad SDP and bad room names are refused without leaving anything behind', async () => {
      const sock = await roomSocket(t.baseUrl, 'badsdp');
      sock.send({ type: 'join', display_name: 'X', sdp: 'v=0\r\nnot really' });
      assert.equal((await sock.next((m) => m.type === 'error')).code, 'bad_sdp');
      assert.equal(t.server.ctx.rooms!.get('badsdp')?.size ?? 0, 0);
      sock.send({ type: 'mute', muted: true });
      assert.equal((await sock.next((m) => m.type === 'error')).code, 'not_joined');
      sock.ws.close();
      const bad = await roomSocket(t.baseUrl, '..bad');
      assert.equal((await bad.next((m) => m.type === 'error')).code, 'bad_room');
      await bad.closed;
      const page = await fetch(`${t.baseUrl}/rooms/..bad`);
      assert.equal(page.status, 404);
      const ok = await fetch(`${t.baseUrl}/rooms/test`);
      assert.equal(ok.status, 200);
      assert.match(await ok.text(), /<body data-room="test">/);
      const js = await fetch(`${t.baseUrl}/rooms/_assets/room.js`);
      assert.equal(js.status, 200);
      assert.match(await js.text(), /rooms\//);
    });
  });
}
