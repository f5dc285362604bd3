/**
 * Audio levels and the active speaker over the real media engine: two tone players 20 dB
 * apart and a talking RTP leg (real UDP on loopback) in one room. The worker's levels match
 * the players' RMS (tone peak level - 3 dB); the loudest unmuted participant is the speaker;
 * muting it hands over to the next; a leg that starts talking louder takes over; a
 * participant only slightly louder than the speaker does not (hysteresis).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMediaEngine, type LegCodec, type MediaEngine } from '../../src/media/index.ts';
import { RoomRegistry, type ParticipantSnapshot, type Room } from '../../src/rooms/index.ts';
import { startRtpReceiver, type RtpReceiver } from '../helpers/rtp-receiver.ts';
import { sendRtp } from '../helpers/rtp-sender.ts';
import { linearToUlaw, makeTone } from '../helpers/audio-analysis.ts';

const HOST = '127.0.0.1';
const BASE = 44000 + 2 * Math.floor(Math.random() * 2000);
const PCMU: LegCodec = { pt: 0, name: 'PCMU', clockRate: 8000, channels: 1, fmtp: null, telephoneEventPt: null, ptime: 20 };

/** The next `speaker` event of the room, within `ms`. */
async function nextSpeaker(room: Room, ms = 3000): Promise<ParticipantSnapshot | null> {
  const [p] = await once(room, 'speaker', { signal: AbortSignal.timeout(ms) }) as [ParticipantSnapshot | null];
  return p;
}

describe('rooms: levels and the active speaker', () => {
  let engine: MediaEngine;
  let rooms: RoomRegistry;
  const receivers: RtpReceiver[] = [];
  before(async () => {
    engine = await createMediaEngine({ portRange: [BASE, BASE + 99], bindAddress: HOST, workers: 1 });
    rooms = new RoomRegistry({ media: engine, limits: { maxRooms: 2, maxParticipants: 6 } });
  });
  after(async () => {
    await rooms.close();
    await engine.close();
    for (const r of receivers) await r.close();
  });

  async function leg(group: string): Promise<{ id: number; rtpPort: number; rx: RtpReceiver }> {
    const rx = await startRtpReceiver();
    receivers.push(rx);
    const l = await engine.createLeg({ group });
    await engine.setCodec(l.id, PCMU);
    await engine.setRemote(l.id, { address: HOST, rtpPort: rx.port });
    return { id: l.id, rtpPort: l.rtpPort, rx };
  }

  test('levels follow the players; mute, a louder talker and hysteresis decide the speaker', async () => {
    const room = rooms.open('levels');
    const talker = await leg(room.group);
    const listener = await leg(room.group);
    const loud = await engine.createPlayer({ group: room.group, source: { tone: { frequencies: [440], levelDb: -10 } }, loop: true });
    const soft = await engine.createPlayer({ group: room.group, source: { tone: { frequencies: [660], levelDb: -30 } }, loop: true });
    const pT = await room.join({ kind: 'sip', displayName: 'talker', endpoint: talker.id });
    await room.join({ kind: 'sip', displayName: 'listener', endpoint: listener.id });
    const first = nextSpeaker(room);
    const pLoud = await room.join({ kind: 'player', displayName: 'loud', endpoint: loud.id, hears: false });
    const pSoft = await room.join({ kind: 'player', displayName: 'soft', endpoint: soft.id, hears: false });
    assert.equal((await first)?.id, pLoud.id, 'the loud player speaks');
    await sleep(600);
    const levels = new Map(room.levels().map((l) => [l.id, l.level_db]));
    assert.ok(Math.abs(levels.get(pLoud.id)! - -13) < 1.5, `loud player at -13 dBFS RMS: ${levels.get(pLoud.id)}`);
    assert.ok(Math.abs(levels.get(pSoft.id)! - -33) < 1.5, `soft player at -33 dBFS RMS: ${levels.get(pSoft.id)}`);
    assert.equal(levels.get(pT.id), -100, 'the talker is silent so far');

    const handOver = nextSpeaker(room);
    await room.setMuted(pLoud.id, true);
    assert.equal((await handOver)?.id, pSoft.id, 'muted: the soft player is the loudest unmuted');

    // The talker sends a -6 dBFS-peak tone (about -9 dBFS RMS): 24 dB above the soft player.
    const pcm = makeTone({ freq: 1000, seconds: 1, rate: 8000, amplitude: 0.5 });
    const taking = nextSpeaker(room);
    const sending = sendRtp({
      host: HOST, port: talker.rtpPort, socket: talker.rx.socket, ssrc: 0x7a, count: 150,
      payload: (i) => Buffer.from(Array.from({ length: 160 }, (_, k) => linearToUlaw(pcm[(i * 160 + k) % pcm.length]))),
    });
    assert.equal((await taking)?.id, pT.id, 'the talker takes over');
    const talkerDb = new Map(room.levels().map((l) => [l.id, l.level_db])).get(pT.id)!;
    assert.ok(talkerDb > -12 && talkerDb < -6, `talker level ${talkerDb}`);

    // The loud player back (-13, a few dB under the talker): no flip.
    let flips = 0;
    room.on('speaker', () => flips++);
    await room.setMuted(pLoud.id, false);
    await sleep(1000);
    assert.equal(flips, 0, 'hysteresis: a close second does not take over');
    assert.equal(room.speaker?.id, pT.id);
    await sending;
    // The talker stops: the loud player is the speaker again.
    await eventuallySpeaker(room, pLoud.id);
    await room.close('test over');
    for (const id of [talker.id, listener.id, loud.id, soft.id]) await engine.releaseLeg(id);
  });
});

async function eventuallySpeaker(room: Room, id: string): Promise<void> {
  const deadline = Date.now() + 3000;
  while (room.speaker?.id !== id) {
    if (Date.now() > deadline) assert.fail(`speaker ${room.speaker?.display_name} instead of ${id}`);
    await sleep(50);
  }
}
