/**
 * The routes of Call-IDs handed to a thread other than their hash's owner (`call-shard-adopted.ts`):
 * kept while their thread holds the call, forgotten a grace period after it stops; a shard is
 * asked about its own, and one that does not answer keeps them.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AdoptedCallIds, type HeldQuery } from '../../../src/pbx/call-shard-adopted.ts';

const GRACE = 32_000;
const none = () => new Set<string>();
const never: HeldQuery = async () => { throw new Error('asked'); };

describe('AdoptedCallIds', () => {
  test('the main thread\'s routes live while it holds the call, and a grace period after', async () => {
    const a = new AdoptedCallIds(GRACE);
    a.route('held@x', 0, 0);
    a.route('gone@x', 0, 0);
    await a.sweep(GRACE - 1, none, never);
    assert.equal(a.size, 2, 'inside the grace period');
    await a.sweep(GRACE, () => new Set(['held@x']), never);
    assert.deepEqual([...a.owners], [['held@x', 0]]);
    // Held at GRACE: its grace starts again from there.
    await a.sweep(2 * GRACE - 1, none, never);
    assert.equal(a.owners.get('held@x'), 0);
    await a.sweep(2 * GRACE, none, never);
    assert.equal(a.size, 0);
  });

  test('a shard is asked about its routes once past the grace, each shard for its own; what it holds stays', async () => {
    const a = new AdoptedCallIds(GRACE);
    a.route('s1-held@x', 1, 0);
    a.route('s1-gone@x', 1, 0);
    a.route('s2-gone@x', 2, 0);
    a.route('young@x', 1, GRACE);
    const asked: Array<[number, string[]]> = [];
    await a.sweep(GRACE, none, async (owner, ids) => { asked.push([owner, ids]); return ids.filter((id) => id.includes('held')); });
    assert.deepEqual(asked.sort(), [[1, ['s1-held@x', 's1-gone@x']], [2, ['s2-gone@x']]]);
    assert.deepEqual([...a.owners.keys()].sort(), ['s1-held@x', 'young@x']);
    // Seen held at GRACE: not asked again before 2 * GRACE.
    await a.sweep(2 * GRACE - 1, none, never);
    assert.equal(a.size, 2);
  });

  test('a shard that does not answer keeps its routes; one routed elsewhere meanwhile is left to its new owner', async () => {
    const a = new AdoptedCallIds(GRACE);
    a.route('silent@x', 1, 0);
    await a.sweep(GRACE, none, async () => { throw new Error('shard gone'); });
    assert.equal(a.owners.get('silent@x'), 1);

    a.route('moved@x', 1, 0);
    let release!: (ids: string[]) => void;
    const pending = a.sweep(GRACE, none, (owner, ids) => new Promise((resolve) => { release = resolve; }));
    // Handed to the main thread while the shard's answer is on its way.
    a.route('moved@x', 0, GRACE);
    await a.sweep(GRACE, none, never); // one sweep at a time: this one does nothing
    release([]);
    await pending;
    assert.equal(a.owners.get('moved@x'), 0);
    assert.equal(a.owners.has('silent@x'), false, 'asked again, not held: forgotten');
  });

  test('an INVITE with Replaces is sent on once per Call-ID, again after its route is forgotten', async () => {
    const a = new AdoptedCallIds(GRACE);
    assert.equal(a.forwardOnce('c@x'), true);
    assert.equal(a.forwardOnce('c@x'), false);
    a.route('c@x', 1, 0);
    await a.sweep(GRACE, none, async () => []);
    assert.equal(a.forwardOnce('c@x'), true);
  });
});
