import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PortPool } from '../../../src/media/port-pool.ts';
import { MediaError } from '../../../src/media/errors.ts';

describe('PortPool', () => {
  test('pairs start on the even port and never pass the range end (RFC 3550 §11)', () => {
    const pool = new PortPool(10001, 10008); // pairs 10002/3, 10004/5, 10006/7 (10008/9 would pass 10008)
    assert.equal(pool.first, 10002);
    assert.equal(pool.capacity, 3);
    assert.deepEqual([pool.allocate(), pool.allocate(), pool.allocate(), pool.allocate()], [10002, 10004, 10006, -1]);
    assert.equal(pool.pairsInUse, 3);
    assert.equal(pool.pairsFree, 0);
  });

  test('default-sized range 10000-20000 holds 5000 pairs', () => {
    assert.equal(new PortPool(10000, 20000).capacity, 5000);
  });

  test('released pairs go to the back of the queue (FIFO reuse)', () => {
    const pool = new PortPool(20000, 20007); // 4 pairs
    const a = pool.allocate();
    const b = pool.allocate();
    assert.deepEqual([a, b], [20000, 20002]);
    assert.equal(pool.release(a), true);
    assert.deepEqual([pool.allocate(), pool.allocate(), pool.allocate()], [20004, 20006, 20000]);
    assert.equal(pool.allocate(), -1);
    assert.equal(pool.pairsInUse, 4);
  });

  test('double release, odd ports and foreign ports are refused', () => {
    const pool = new PortPool(20000, 20003);
    const a = pool.allocate();
    assert.equal(pool.release(a + 1), false);
    assert.equal(pool.release(30000), false);
    assert.equal(pool.release(a), true);
    assert.equal(pool.release(a), false);
    assert.equal(pool.pairsFree, 2);
    assert.equal(pool.isAllocated(a), false);
  });

  test('acquire skips pairs refused with EADDRINUSE and retries them last', async () => {
    const pool = new PortPool(20000, 20007);
    const tried: number[] = [];
    const busy = new Set([20000, 20002]);
    const port = await pool.acquire(async (p) => {
      tried.push(p);
      return !busy.has(p);
    });
    assert.equal(port, 20004);
    assert.deepEqual(tried, [20000, 20002, 20004]);
    assert.equal(pool.bindFailures, 2);
    assert.equal(pool.pairsInUse, 1);
    assert.equal(pool.isAllocated(20004), true);
    // Next free pair is 20006, then the skipped ones.
    assert.equal(pool.allocate(), 20006);
    assert.equal(pool.allocate(), 20000);
  });

  test('acquire reports exhaustion with a stable code', async () => {
    const pool = new PortPool(20000, 20003);
    await assert.rejects(
      pool.acquire(async () => false),
      (err: unknown) => err instanceof MediaError && err.code === 'MEDIA_ERR_PORTS_EXHAUSTED' && err.sipStatus === 503,
    );
    assert.equal(pool.pairsInUse, 0);
  });

  test('acquire releases the pair when bind throws', async () => {
    const pool = new PortPool(20000, 20003);
    await assert.rejects(pool.acquire(async () => { throw new Error('EACCES'); }), /EACCES/);
    assert.equal(pool.pairsInUse, 0);
  });

  test('a range without a full pair is a configuration error', () => {
    assert.throws(() => new PortPool(20001, 20001), (err: unknown) => err instanceof MediaError && err.code === 'MEDIA_ERR_BAD_OPTION');
    assert.throws(() => new PortPool(20000, 10000), MediaError);
  });

  test('allocate/release stay O(1): 100k cycles over 5000 pairs', () => {
    const pool = new PortPool(10000, 20000);
    const held: number[] = [];
    for (let i = 0; i < 5000; i++) held.push(pool.allocate());
    assert.equal(new Set(held).size, 5000);
    for (let i = 0; i < 100_000; i++) {
      assert.ok(pool.release(held[i % 5000]));
      held[i % 5000] = pool.allocate();
    }
    assert.equal(pool.pairsInUse, 5000);
    assert.equal(new Set(held).size, 5000);
  });
});
