/**
 * Rooms over the real media engine (two workers, real UDP on loopback): each participant hears
 * every other one and never itself (mix-minus), checked on the decoded audio; a leg of another
 * worker takes part through a stand-in; mute takes a voice out of the mix; a recorder hears all;
 * a media worker that dies closes its rooms.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMediaEngine, type LegCodec, type LegInfo, type MediaEngine } from '../../src/media/index.ts';
import { RoomError, RoomRegistry } from '../../src/rooms/index.ts';
import { startRtpReceiver, type RtpReceiver } from '../helpers/rtp-receiver.ts';
import { sendRtp } from '../helpers/rtp-sender.ts';
import { decodeUlaw, goertzelPower, linearToUlaw, makeTone, readWavPcm } from '../helpers/audio-analysis.ts';

const HOST = '127.0.0.1';
const BASE = 40000 + 2 * Math.floor(Math.random() * 4000);
const PCMU: LegCodec = { pt: 0, name: 'PCMU', clockRate: 8000, channels: 1, fmtp: null, telephoneEventPt: null, ptime: 20 };

/** PCMU payload of packet i of a continuous tone. */
function tonePayloads(freq: number): (i: number) => Buffer {
  const pcm = makeTone({ freq, seconds: 4, rate: 8000, amplitude: 6000 });
  return (i) => {
    const out = Buffer.alloc(160);
    for (let k = 0; k < 160; k++) out[k] = linearToUlaw(pcm[(i * 160 + k) % pcm.length]);
    return out;
  };
}

/** Relative power of each frequency in the last `seconds` of what `rx` received. */
function heard(rx: RtpReceiver, freqs: number[], seconds = 0.6): Record<number, number> {
  const payloads = rx.sources().flatMap((s) => s.payloads);
  const tail = payloads.slice(-Math.round(seconds * 50));
  const pcm = decodeUlaw(Buffer.concat(tail));
  return Object.fromEntries(freqs.map((f) => [f, goertzelPower(pcm, 8000, f, { window: 'hann' })]));
}

describe('rooms: mix-minus over the media engine', () => {
  let engine: MediaEngine;
  let rooms: RoomRegistry;
  let dir: string;
  before(async () => {
    engine = await createMediaEngine({ portRange: [BASE, BASE + 199], bindAddress: HOST, workers: 2 });
    rooms = new RoomRegistry({ media: engine, limits: { maxRooms: 2, maxParticipants: 6, idleCloseMs: 60_000 } });
    dir = await mkdtemp(join(tmpdir(), 'rooms-'));
  });
  after(async () => {
    await rooms.close();
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A leg whose far end is a receiver that also talks (symmetric RTP from its socket). */
  async function talkingLeg(group: string): Promise<{ leg: LegInfo; rx: RtpReceiver }> {
    const rx = await startRtpReceiver({ capture: true });
    const leg = await engine.createLeg({ group });
    await engine.setCodec(leg.id, PCMU);
    await engine.setRemote(leg.id, { address: HOST, rtpPort: rx.port });
    return { leg, rx };
  }

  test('each participant hears the others and not itself; a stand-in joins from another worker; mute; recorder', async () => {
    const room = rooms.open('standup');
    const p500 = await engine.createPlayer({ group: room.group, source: { tone: { frequencies: [500], levelDb: -14 } }, loop: true });
    const a = await talkingLeg(room.group);
    // In the other worker: joins through a stand-in.
    const b = await talkingLeg('elsewhere');
    assert.notEqual(b.leg.worker, room.worker, 'the second leg lives in the other worker');
    const wav = join(dir, 'room.wav');
    const rec = await engine.createRecorder({ group: room.group, path: wav, rate: 8000 });
    const sending = [
      sendRtp({ host: HOST, port: a.leg.rtpPort, socket: a.rx.socket, ssrc: 0xa, count: 175, payload: tonePayloads(1000) }),
      sendRtp({ host: HOST, port: b.leg.rtpPort, socket: b.rx.socket, ssrc: 0xb, count: 175, payload: tonePayloads(2000) }),
    ];
    await room.join({ kind: 'player', displayName: 'music', endpoint: p500.id, hears: false });
    const pa = await room.join({ kind: 'sip', displayName: 'Alice', endpoint: a.leg.id });
    const pb = await room.join({ kind: 'sip', displayName: 'Bob', endpoint: b.leg.id });
    await room.join({ kind: 'recorder', displayName: 'rec', endpoint: rec.id, speaks: false });
    assert.equal(room.participants().length, 4);
    await sleep(1500);
    const ha = heard(a.rx, [500, 1000, 2000]);
    const hb = heard(b.rx, [500, 1000, 2000]);
    assert.ok(ha[500] > 100 * ha[1000] && ha[2000] > 100 * ha[1000], `Alice hears music and Bob, not herself: ${JSON.stringify(ha)}`);
    assert.ok(hb[500] > 100 * hb[2000] && hb[1000] > 100 * hb[2000], `Bob hears music and Alice, not himself: ${JSON.stringify(hb)}`);

    await room.setMuted(pb.id, true);
    await sleep(700);
    const muted = heard(a.rx, [500, 2000], 0.4);
    assert.ok(muted[500] > 100 * muted[2000], `Bob muted: Alice no longer hears him ${JSON.stringify(muted)}`);
    assert.equal(room.participant(pb.id)?.muted, true);
    await Promise.all(sending);

    await engine.stopRecorder(rec.id);
    const recorded = readWavPcm(wav);
    const first = recorded.samples.subarray(0, 8000);
    for (const f of [500, 1000, 2000]) assert.ok(goertzelPower(first, recorded.sampleRate, f, { window: 'hann' }) > 1e4, `the recorder heard ${f} Hz`);

    // The recorder's endpoint is gone without leaving: the next change drops it from the room.
    const gone = once(room, 'left');
    assert.equal(await room.leave(pa.id), true);
    const [left, why] = await gone;
    assert.deepEqual([left.kind, why], ['recorder', 'endpoint-gone']);
    assert.equal(await room.leave(pa.id), false, 'leaving twice');
    await assert.rejects(room.setMuted(pa.id, true), (e: unknown) => e instanceof RoomError && e.code === 'ROOM_NO_PARTICIPANT');
    await room.close('test over');
    assert.equal(rooms.get('standup'), undefined);
    await assert.rejects(room.join({ kind: 'sip', displayName: 'late', endpoint: a.leg.id }), (e: unknown) => e instanceof RoomError && e.code === 'ROOM_CLOSED');
    for (const id of [p500.id, a.leg.id, b.leg.id]) await engine.releaseLeg(id);
    await Promise.all([a.rx.close(), b.rx.close()]);
  });

  test('names are checked, the room count is capped, chat reaches listeners with history', async () => {
    assert.throws(() => rooms.open('../etc'), (e: unknown) => e instanceof RoomError && e.code === 'ROOM_BAD_NAME');
    const r1 = rooms.open('one');
    rooms.open('two');
    assert.throws(() => rooms.open('three'), (e: unknown) => e instanceof RoomError && e.code === 'ROOM_LIMIT');
    assert.equal(rooms.open('one'), r1, 'an open room is found again by name');
    const got = once(rooms, 'chat');
    r1.chat('gateway', 'hello');
    const [message] = await got;
    assert.deepEqual({ room: message.room, from: message.from, text: message.text }, { room: 'one', from: 'gateway', text: 'hello' });
    assert.equal(r1.history().length, 1);
    await rooms.close();
    assert.equal(rooms.size, 0);
  });

  test('a media worker that dies closes its rooms', async () => {
    const local = new RoomRegistry({ media: engine, limits: { maxRooms: 5, maxParticipants: 5 } });
    const room = local.open('doomed');
    const leg = await engine.createLeg({ group: room.group });
    await room.join({ kind: 'sip', displayName: 'x', endpoint: leg.id });
    const closed = once(room, 'closed');
    await engine.restartWorker(room.worker);
    const [reason] = await closed;
    assert.match(reason, /worker .* exited/);
    assert.equal(local.get('doomed'), undefined);
    await local.close();
  });
});
