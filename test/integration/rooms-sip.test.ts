/**
 * SIP callers into rooms with real components on loopback: a sipp device dials a user part of
 * the room dial plan (registered entry, the configured prefix, the IVR number) and ends up a
 * `sip` participant; a tone player in the room reaches the caller's RTP (decoded, Goertzel);
 * the caller's INFO key reaches the room as `dtmf`; the IVR refuses a short number with an
 * error prompt and takes the retry, and hangs up after three wrong entries; closing the room
 * or kicking the caller hangs it up (BYE). Two media workers: a caller whose leg lives in the
 * other worker than its room joins through a stand-in.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestServer } from '../helpers/server.ts';
import { spawnSipp, type SippResult } from '../helpers/sipp.ts';
import { startRtpReceiver, type RtpReceiver } from '../helpers/rtp-receiver.ts';
import { dbfs, decodeUlaw, goertzelPower } from '../helpers/audio-analysis.ts';
import { assertIdle, cdrCount, device, deviceCall, eventually, nextCdr, startCallServer } from './call-fixtures.ts';
import type { Room } from '../../src/rooms/index.ts';

const TONE_HZ = 700;

/** Relative power of `freq` against a far-off control frequency in the last `seconds` received. */
function toneRatio(rx: RtpReceiver, freq: number, seconds = 0.6): { tone: number; other: number; packets: number } {
  const payloads = rx.sources().flatMap((s) => s.payloads);
  const pcm = decodeUlaw(Buffer.concat(payloads.slice(-Math.round(seconds * 50))));
  return { tone: goertzelPower(pcm, 8000, freq, { window: 'hann' }), other: goertzelPower(pcm, 8000, 1900, { window: 'hann' }), packets: payloads.length };
}

describe('SIP callers into rooms (sipp, dial plan, IVR)', () => {
  let t: TestServer;
  const receivers: RtpReceiver[] = [];

  before(async () => {
    t = await startCallServer(31400, { STROWGER_ROOM_PREFIX: 'room-', STROWGER_IVR_DIGIT_TIMEOUT_SECONDS: '3', STROWGER_MEDIA_WORKERS: '2' });
    await device(t, '1001');
  });
  after(async () => {
    for (const r of receivers) await r.close();
    await t?.close();
  });
  afterEach(() => assertIdle(t));

  /** A room with a looping tone player in it (a participant that only speaks). */
  async function roomWithTone(name: string): Promise<Room> {
    const room = t.server.ctx.rooms!.open(name);
    const player = await t.server.ctx.media!.createPlayer({ group: room.group, source: { tone: { frequencies: [TONE_HZ], levelDb: -12 } }, loop: true });
    await room.join({ kind: 'player', displayName: 'tone', endpoint: player.id, hears: false });
    room.once('closed', () => void t.server.ctx.media!.releaseLeg(player.id).catch(() => {}));
    return room;
  }

  async function call(dialed: string, scenario: string): Promise<{ rx: RtpReceiver; done: Promise<SippResult> }> {
    const rx = await startRtpReceiver({ capture: true });
    receivers.push(rx);
    const sipp = await spawnSipp(deviceCall(t, '1001', dialed, { scenario, timeoutMs: 60000, vars: { rtpport: rx.port } }));
    return { rx, done: sipp.done };
  }

  const sipParticipant = (room: Room) => room.participants().find((p) => p.kind === 'sip');

  test('a registered dial-plan entry: the caller joins, hears the room, its key reaches the room, the room closing hangs it up', async () => {
    assert.equal(t.server.ctx.roomDialPlan!.register('gw-standup', 'standup'), true);
    assert.equal(t.server.ctx.roomDialPlan!.register('gw-standup', 'other'), false, 'a user part leads to one room');
    const room = await roomWithTone('standup');
    const cdrs = await cdrCount(t);
    const key = once(room, 'dtmf');
    const { rx, done } = await call('gw-standup', 'uac-room.xml');
    const p = await eventually('the caller in the room', () => sipParticipant(room), 10000);
    assert.equal(p.display_name, '1001');
    const [who, digit] = await key;
    assert.deepEqual([who.id, digit], [p.id, '7']);
    await sleep(1200);
    const heard = toneRatio(rx, TONE_HZ);
    assert.ok(heard.tone > 100 * heard.other, `the caller hears the room's ${TONE_HZ} Hz tone: ${JSON.stringify(heard)}`);
    await room.close('test over');
    const r = await done;
    assert.equal(r.stats.successful, 1, `the PBX hung up the caller: ${r.errors}\n${r.messages.slice(-2000)}`);
    const cdr = await nextCdr(t, cdrs);
    assert.deepEqual([cdr.callee, cdr.disposition, cdr.hangup_by], ['gw-standup', 'answered', 'system'], 'a normal answered call in the CDRs');
    assert.equal(t.server.ctx.roomDialPlan!.unregister('gw-standup'), true);
  });

  test('the configured prefix: room-<name> joins <name>; a caller kicked through the API is hung up', async () => {
    const { done } = await call('room-daily', 'uac-room.xml');
    const room = await eventually('room daily opened', () => t.server.ctx.rooms!.get('daily'), 10000);
    const p = await eventually('the caller in the room', () => sipParticipant(room), 10000);
    await once(room, 'dtmf'); // the scenario's key: it now waits for the BYE
    const kicked = await t.request('DELETE', `/api/rooms/daily/participants/${p.id}`, { cookie: t.adminCookie });
    assert.equal(kicked.status, 200, JSON.stringify(kicked.body));
    const r = await done;
    assert.equal(r.stats.successful, 1, `${r.errors}\n${r.messages.slice(-2000)}`);
    await room.close('test over');
  });

  test('the IVR: a short number is refused, the retry joins room 12345 and hears it', async () => {
    const room = await roomWithTone('12345');
    const { rx, done } = await call('0', 'uac-room-ivr.xml');
    await eventually('the IVR caller in room 12345', () => sipParticipant(room), 30000);
    assert.equal(t.server.ctx.rooms!.get('12'), undefined, 'the short number opened no room');
    await sleep(1200);
    const heard = toneRatio(rx, TONE_HZ);
    assert.ok(heard.tone > 100 * heard.other, `the IVR caller hears room 12345: ${JSON.stringify(heard)}`);
    await room.close('test over');
    const r = await done;
    assert.equal(r.stats.successful, 1, `${r.errors}\n${r.messages.slice(-2000)}`);
  });

  test('the IVR: three wrong entries, then goodbye and the PBX hangs up', async () => {
    const { rx, done } = await call('0', 'uac-room-ivr-fail.xml');
    const r = await done;
    assert.equal(r.stats.successful, 1, `the caller got the BYE: ${r.errors}\n${r.messages.slice(-2000)}`);
    // The prompts (espeak-ng speech) reached the caller: the loudest half second is speech-loud.
    const pcm = decodeUlaw(Buffer.concat(rx.sources().flatMap((s) => s.payloads)));
    let loudest = -Infinity;
    for (let at = 0; at + 4000 <= pcm.length; at += 4000) loudest = Math.max(loudest, dbfs(pcm.subarray(at, at + 4000)));
    assert.ok(loudest > -35, `spoken prompts heard: loudest ${loudest.toFixed(1)} dBFS over ${pcm.length} samples`);
    assert.equal(t.server.ctx.rooms!.get('1'), undefined);
  });
});
