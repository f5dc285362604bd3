/**
 * Room logic without a media engine: a recording fake stands in for it, so the mix each
 * participant is given, the order of media changes under concurrent joins and the clean-up
 * rules are checked exactly and without sleeps.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { Room, RoomRegistry, mixMinus, type RoomMedia } from '../../../src/rooms/index.ts';

/** Endpoints 1..99 "live" in worker 0, 100+ in worker 1 (they get stand-ins 1000+). */
class FakeMedia extends EventEmitter implements RoomMedia {
  readonly connects: Array<[number, number[]]> = [];
  readonly released: number[] = [];
  readonly alive = new Set<number>();
  private nextStandIn = 1000;
  reserveGroup(): number { return 0; }
  releaseGroup(): void {}
  has(id: number): boolean { return this.alive.has(id); }
  async standIn(id: number): Promise<number> {
    if (!this.alive.has(id)) throw new Error(`unknown media leg: leg ${id}`);
    if (id < 100) return id;
    const s = this.nextStandIn++;
    this.alive.add(s);
    return s;
  }
  async connect(sink: number, sources: readonly number[]): Promise<void> {
    await Promise.resolve();
    this.connects.push([sink, [...sources]]);
  }
  async releaseLeg(id: number): Promise<boolean> {
    this.released.push(id);
    return this.alive.delete(id);
  }
  /** The last mix each sink was given. */
  mixes(): Map<number, number[]> {
    return new Map(this.connects.map(([s, src]) => [s, src]));
  }
}

const room = (media: FakeMedia, max = 10) => new Room('r', media, { maxParticipants: max, chatHistory: 2 });

describe('rooms: mix-minus and room rules', () => {
  test('mixMinus: hearers get every unmuted speaker but themselves', () => {
    const mix = mixMinus([
      { mixId: 1, hears: true, speaks: true, muted: false },
      { mixId: 2, hears: true, speaks: true, muted: true },
      { mixId: 3, hears: false, speaks: true, muted: false },
      { mixId: 4, hears: true, speaks: false, muted: false },
    ]);
    assert.deepEqual([...mix], [[1, [3]], [2, [1, 3]], [4, [1, 3]]]);
  });

  test('mixMinus: a WHIP link never hears a WHEP link (a remote room\'s audio is not sent back to it)', () => {
    const mix = mixMinus([
      { mixId: 1, hears: true, speaks: true, muted: false, kind: 'sip' },
      { mixId: 2, hears: true, speaks: false, muted: false, kind: 'whip' },
      { mixId: 3, hears: false, speaks: true, muted: false, kind: 'whep' },
    ]);
    assert.deepEqual([...mix], [[1, [3]], [2, [1]]]);
  });

  test('concurrent joins each end up in everyone\'s mix; a foreign endpoint gets a stand-in', async () => {
    const media = new FakeMedia();
    [1, 2, 150].forEach((id) => media.alive.add(id));
    const r = room(media);
    const [a, b, c] = await Promise.all([
      r.join({ kind: 'sip', displayName: 'a', endpoint: 1 }),
      r.join({ kind: 'webrtc', displayName: 'b', endpoint: 2 }),
      r.join({ kind: 'sip', displayName: 'c', endpoint: 150 }),
    ]);
    assert.deepEqual(media.mixes(), new Map([[1, [2, 1000]], [2, [1, 1000]], [1000, [1, 2]]]));
    assert.equal(r.participantByEndpoint(150)?.id, c.id);
    assert.ok(a.id !== b.id);
    await r.leave(c.id);
    assert.deepEqual(media.released, [1000], 'the stand-in is released, never the endpoint itself');
    assert.deepEqual(media.mixes().get(1), [2]);
  });

  test('a member whose endpoint vanished is dropped at the next change, the rest keep their mix', async () => {
    const media = new FakeMedia();
    [1, 2, 3].forEach((id) => media.alive.add(id));
    const r = room(media);
    await r.join({ kind: 'sip', displayName: 'a', endpoint: 1 });
    const b = await r.join({ kind: 'sip', displayName: 'b', endpoint: 2 });
    const left: string[] = [];
    r.on('left', (p, why) => left.push(`${p.display_name}:${why}`));
    media.alive.delete(2);
    await r.join({ kind: 'sip', displayName: 'c', endpoint: 3 });
    assert.deepEqual(left, ['b:endpoint-gone']);
    assert.equal(r.participant(b.id), undefined);
    assert.deepEqual(media.mixes().get(3), [1]);
  });

  test('full, closed, chat history bounded; a failed join leaves nothing behind', async () => {
    const media = new FakeMedia();
    [1, 2].forEach((id) => media.alive.add(id));
    const r = room(media, 1);
    await r.join({ kind: 'sip', displayName: 'a', endpoint: 1 });
    await assert.rejects(r.join({ kind: 'sip', displayName: 'b', endpoint: 2 }), { code: 'ROOM_FULL' });
    await assert.rejects(room(media).join({ kind: 'sip', displayName: 'x', endpoint: 77 }), /unknown media leg/);
    r.chat('a', 'one'); r.chat('a', 'two'); r.chat('a', 'three');
    assert.deepEqual(r.history().map((m) => m.text), ['two', 'three']);
    await r.close('bye');
    await r.close('again');
    assert.equal(r.size, 0);
    assert.throws(() => r.chat('a', 'late'), { code: 'ROOM_CLOSED' });
  });

  test('registry: an empty room closes after the idle time (injected timers)', async () => {
    const media = new FakeMedia();
    media.alive.add(1);
    const pending: Array<() => void> = [];
    const timers = {
      setTimeout: ((fn: () => void) => { pending.push(fn); return { unref() {} }; }) as unknown as typeof setTimeout,
      clearTimeout: (() => { pending.length = 0; }) as unknown as typeof clearTimeout,
    };
    const rooms = new RoomRegistry({ media, limits: { maxRooms: 1, maxParticipants: 5 }, timers });
    const r = rooms.open('idle');
    const p = await r.join({ kind: 'sip', displayName: 'a', endpoint: 1 });
    assert.equal(pending.length, 0, 'joining cancels the idle timer');
    await r.leave(p.id);
    assert.equal(pending.length, 1);
    pending[0]!();
    await new Promise((resolve) => r.once('closed', resolve));
    assert.equal(rooms.get('idle'), undefined);
  });
});
