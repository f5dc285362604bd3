import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RoomDialPlan } from '../../../src/rooms/room-dial-plan.ts';
import { RoomError } from '../../../src/rooms/room-errors.ts';

test('registered entries come first, then the IVR number, then the prefix', () => {
  const plan = new RoomDialPlan({ prefix: 'conf', ivrNumber: '0' });
  assert.equal(plan.register('conf-x', 'standup'), true);
  assert.deepEqual(plan.resolve('conf-x'), { kind: 'room', room: 'standup' }, 'the entry wins over the prefix');
  assert.deepEqual(plan.resolve('confdaily'), { kind: 'room', room: 'daily' });
  assert.deepEqual(plan.resolve('0'), { kind: 'ivr' });
  assert.equal(plan.resolve('conf'), undefined, 'the prefix alone names no room');
  assert.equal(plan.resolve('conf..'), undefined, 'not a room name');
  assert.equal(plan.resolve('1001'), undefined);
  assert.equal(plan.registerIvr('ivr'), true);
  assert.deepEqual(plan.resolve('ivr'), { kind: 'ivr' });
  assert.deepEqual(plan.registered().map((e) => e.userPart), ['conf-x', 'ivr']);
});

test('a user part leads to one place; unregister; bad input throws and changes nothing', () => {
  const plan = new RoomDialPlan();
  assert.equal(plan.register('gw1', 'a'), true);
  assert.equal(plan.register('gw1', 'a'), true, 'the same pair again');
  assert.equal(plan.register('gw1', 'b'), false, 'taken');
  assert.equal(plan.registerIvr('gw1'), false);
  assert.deepEqual(plan.resolve('gw1'), { kind: 'room', room: 'a' });
  assert.throws(() => plan.register('gw2', '../x'), (e: unknown) => e instanceof RoomError && e.code === 'ROOM_BAD_NAME');
  assert.throws(() => plan.register('', 'a'), TypeError);
  assert.throws(() => plan.register('a b', 'a'), TypeError);
  assert.equal(plan.resolve('gw2'), undefined);
  assert.equal(plan.unregister('gw1'), true);
  assert.equal(plan.unregister('gw1'), false);
  assert.equal(plan.resolve('gw1'), undefined);
  assert.equal(plan.resolve('0'), undefined, 'no IVR number configured');
});
