/**
 * Issue 13, "video from browsers is forwarded between browsers (SFU style)": werift peers join a
 * room over the page's WebSocket protocol with a VP8 camera and receive-only slots.
 * - B's slot gets A's packets with the slot's own SSRC (the one our answer declared) and payload
 *   type, starting at a key frame, with continuous sequence numbers — also when the slot switches
 *   from A (who leaves) to C;
 * - B's PLI on the slot reaches A; A never receives its own video;
 * - the slot stops when its last publisher leaves; the page is told whom each slot shows;
 * - the room's API snapshot counts packets and key-frame requests; the publisher cap refuses a
 *   camera beyond it; nothing is left in the router after everyone leaves.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { inLoopbackNamespace } from '../helpers/netns.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { roomSocket } from '../helpers/room-socket.ts';
import { answerSsrc, weriftVideoPeer } from '../helpers/werift-video-peer.ts';

const HOST = '127.0.0.1';

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting: ${what}`);
    await sleep(25);
  }
}

if (inLoopbackNamespace(import.meta.url)) {
  describe('room video forwarding between werift peers', () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer('sqlite', { STROWGER_WEBRTC_ADDRESSES: HOST, STROWGER_MEDIA_WORKERS: '1', STROWGER_ROOMS_VIDEO_PUBLISHERS: '2' });
    });
    const opened: { close(): Promise<void> }[] = [];
    // Peers are closed even when an assertion fails (their sockets would keep the run alive).
    after(async () => {
      await Promise.all(opened.map((p) => p.close()));
      await t.close();
    });

    async function join(name: string, opts: { camera: boolean; slots: number }) {
      const peer = weriftVideoPeer(name, { ...opts, host: HOST });
      opened.push(peer);
      const sock = await roomSocket(t.baseUrl, 'vid');
      sock.send({ type: 'join', display_name: name, sdp: await peer.offer() });
      const joined = await sock.next((m) => m.type === 'joined');
      await peer.accept(joined.sdp);
      await peer.connected();
      return { peer, sock, id: joined.id as string, answer: joined.sdp as string };
    }

    test('A publishes VP8 to B on a slot; B switches to C when A leaves; PLI reaches A; nobody sees itself', async () => {
      const a = await join('A', { camera: true, slots: 1 });
      const b = await join('B', { camera: false, slots: 1 });
      const bVideo = await b.sock.next((m) => m.type === 'video' && m.slots[0]?.participant === a.id);
      assert.equal(bVideo.publishing, false, 'B has no camera');
      const mid = bVideo.slots[0].mid as string;
      const slotSsrc = answerSsrc(b.answer, mid);
      assert.ok(slotSsrc !== null, 'the answer declares the slot SSRC');

      a.peer.startCamera(1000); // one key frame at the start, then only on PLI
      await until('B receives A', () => (b.peer.received.get(mid)?.length ?? 0) >= 30);
      const got = b.peer.received.get(mid)!;
      assert.ok(got[0]!.keyframe, 'the slot starts at a key frame');
      assert.ok(got.every((p) => p.tag.startsWith('A:')), 'B gets A\'s packets');
      assert.ok(got.every((p) => p.ssrc === slotSsrc && p.ssrc !== a.peer.camera!.sender.ssrc), `SSRC rewritten to the slot's ${slotSsrc}`);
      assert.ok(got.every((p) => p.pt === 100), 'payload type of B\'s negotiation');
      for (let i = 1; i < got.length; i++) assert.equal(got[i]!.seq, (got[i - 1]!.seq + 1) & 0xffff, `continuous sequence at ${i}`);

      // B's PLI reaches A (at least 500 ms after the request the mapping made).
      await sleep(600);
      const plisBefore = a.peer.pliReceived;
      await b.peer.pli(mid);
      await until('A gets B\'s PLI', () => a.peer.pliReceived > plisBefore);
      // The room's API snapshot carries the counters.
      const api = await t.request('GET', '/api/rooms/vid', { cookie: t.adminCookie });
      assert.equal(api.status, 200);
      const stats = api.body.video;
      assert.ok(stats.keyframe_requests_received >= 1 && stats.keyframe_requests_sent >= 1, JSON.stringify(stats));
      assert.ok(stats.packets_forwarded >= 30, JSON.stringify(stats));

      // C publishes too (B's only slot is taken: C waits); A receives C on its slot, never itself.
      const c = await join('C', { camera: true, slots: 1 });
      const cVideo = await c.sock.next((m) => m.type === 'video' && m.slots[0]?.participant === a.id);
      assert.equal(cVideo.publishing, true);
      c.peer.startCamera(1000);
      const aVideo = await a.sock.next((m) => m.type === 'video' && m.slots[0]?.participant === c.id);
      await until('A receives C', () => (a.peer.received.get(aVideo.slots[0].mid)?.length ?? 0) >= 10);
      for (const list of a.peer.received.values()) assert.ok(list.every((p) => !p.tag.startsWith('A:')), 'A never gets its own video');

      // The publisher cap (2): D's camera is refused, D still sees the others.
      const d = await join('D', { camera: true, slots: 2 });
      const dVideo = await d.sock.next((m) => m.type === 'video');
      assert.equal(dVideo.publishing, false, 'a third camera is over STROWGER_ROOMS_VIDEO_PUBLISHERS=2');
      assert.equal(t.server.ctx.rooms!.get('vid')!.snapshot().video.publishers_refused, 1);

      // A leaves: B's slot switches to C, with the same SSRC and sequence numbers going on.
      const before = got.length;
      a.sock.send({ type: 'leave' });
      await b.sock.next((m) => m.type === 'video' && m.slots[0]?.participant === c.id);
      await until('B receives C', () => got.slice(before).some((p) => p.tag.startsWith('C:')) && got.length - before >= 20);
      const firstC = got.findIndex((p) => p.tag.startsWith('C:'));
      assert.ok(got[firstC]!.keyframe, 'C is shown from a key frame');
      assert.ok(got.every((p) => p.ssrc === slotSsrc), 'same slot SSRC across publishers');
      for (let i = 1; i < got.length; i++) assert.equal(got[i]!.seq, (got[i - 1]!.seq + 1) & 0xffff, `sequence continues across the switch at ${i}`);
      assert.ok(got[firstC]!.ts !== got[firstC - 1]!.ts, 'timestamps move on');

      // C leaves: B's slot goes empty and stops.
      c.sock.send({ type: 'leave' });
      const empty = await b.sock.next((m) => m.type === 'video' && m.slots[0]?.participant === null);
      assert.equal(empty.slots.length, 1);
      await sleep(300);
      const stopped = got.length;
      await sleep(700);
      assert.equal(got.length, stopped, 'no packets on the slot after its publisher left');

      for (const p of [b, d]) p.sock.send({ type: 'leave' });
      await until('room empty', () => (t.server.ctx.rooms!.get('vid')?.size ?? 0) === 0);
      const last = t.server.ctx.rooms!.get('vid')?.snapshot().video;
      if (last) assert.deepEqual([last.publishers, last.subscribers], [0, 0], 'nothing left in the router');
    });
  });
}
