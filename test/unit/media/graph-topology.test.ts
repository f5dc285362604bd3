import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphTopology } from '../../../src/media/graph-topology.ts';

const sorted = (s: Iterable<number>): number[] => [...s].sort((a, b) => a - b);

describe('GraphTopology', () => {
  test('component follows hearing both ways and stops at unconnected endpoints', () => {
    const t = new GraphTopology();
    t.bridge(1, 2);
    t.setHeard(3, [1, 2]); // a recorder of the call
    t.bridge(4, 5); // another call
    assert.deepEqual(sorted(t.component([3])), [1, 2, 3]);
    assert.deepEqual(sorted(t.component([2])), [1, 2, 3]);
    assert.deepEqual(sorted(t.component([5])), [4, 5]);
    assert.deepEqual(sorted(t.component([9])), [9], 'an unknown seed is its own part');
  });

  test('setHeard replaces what a sink hears and keeps the reverse index right', () => {
    const t = new GraphTopology();
    t.setHeard(1, [2, 3, 3]);
    assert.deepEqual(t.sourcesOf(1), [2, 3]);
    t.setHeard(1, [4]);
    assert.equal(t.hearersOf(2), undefined);
    assert.deepEqual(sorted(t.hearersOf(4)!), [1]);
    t.setHeard(1, []);
    assert.equal(t.sourcesOf(1), undefined);
    assert.equal(t.hearersOf(4), undefined);
  });

  test('unbridge keeps what a side was connected to since; remove answers the neighbours and forgets every edge', () => {
    const t = new GraphTopology();
    t.bridge(1, 2);
    t.setHeard(2, [3]); // 2 now hears a player instead
    assert.equal(t.unbridge(1), 2);
    assert.equal(t.sourcesOf(1), undefined);
    assert.deepEqual(t.sourcesOf(2), [3]);
    assert.equal(t.partnerOf(2), undefined);
    t.setHeard(4, [3, 2]);
    assert.deepEqual(sorted(t.remove(3)), [2, 4]);
    assert.equal(t.sourcesOf(2), undefined);
    assert.deepEqual(t.sourcesOf(4), [2]);
    assert.equal(t.hearersOf(3), undefined);
  });
});
