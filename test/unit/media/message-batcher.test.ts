import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as turn } from 'node:timers/promises';
import { MessageBatcher, forEachMessage } from '../../../src/media/message-batcher.ts';

test('messages of one turn go out as one array, a lone message as itself, in order', async () => {
  const posted: unknown[] = [];
  const b = new MessageBatcher<number>((m) => posted.push(m));
  b.send(1);
  b.send(2);
  b.send(3);
  assert.deepEqual(posted, [], 'nothing is posted synchronously');
  await turn();
  assert.deepEqual(posted, [[1, 2, 3]]);
  b.send(4);
  await turn();
  assert.deepEqual(posted, [[1, 2, 3], 4]);
});

test('flush() posts at once and the pending timer then posts nothing more', async () => {
  const posted: unknown[] = [];
  const b = new MessageBatcher<string>((m) => posted.push(m));
  b.send('a');
  b.flush();
  assert.deepEqual(posted, ['a']);
  await turn();
  assert.deepEqual(posted, ['a']);
});

test('forEachMessage unpacks a batch and passes a single message through', () => {
  const seen: number[] = [];
  forEachMessage([1, 2], (m) => seen.push(m));
  forEachMessage(3, (m) => seen.push(m));
  assert.deepEqual(seen, [1, 2, 3]);
});
