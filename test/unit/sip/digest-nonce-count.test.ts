/**
 * The typed-array nonce-count table against a plain model of its contract (an LRU `Map` with a
 * watermark raised by evictions): random records and checks over a key pool larger than the
 * table, with small tables (many probe collisions, evictions) and one that grows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_NONCE_CHARS, NonceCountTracker, type NonceCountCheck } from '../../../src/sip/digest-nonce-count.ts';

class Model {
  private readonly entries = new Map<string, { issuedAt: number; nc: number }>();
  private watermark = -1;
  constructor(private readonly capacity: number) {}
  get size(): number { return this.entries.size; }
  check(nonce: string, issuedAt: number, nc: number): NonceCountCheck {
    const e = this.entries.get(nonce);
    if (e === undefined) return issuedAt <= this.watermark ? 'forgotten' : 'ok';
    return nc <= e.nc ? 'replay' : 'ok';
  }
  record(nonce: string, issuedAt: number, nc: number): void {
    const e = this.entries.get(nonce);
    this.entries.delete(nonce);
    this.entries.set(nonce, e === undefined ? { issuedAt, nc } : { issuedAt: e.issuedAt, nc: Math.max(e.nc, nc) });
    if (this.entries.size <= this.capacity) return;
    const [key, old] = this.entries.entries().next().value as [string, { issuedAt: number }];
    this.entries.delete(key);
    this.watermark = Math.max(this.watermark, old.issuedAt);
  }
}

/** Deterministic pseudo-random numbers (xorshift32). */
function random(seed: number): () => number {
  let x = seed;
  return () => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return (x >>> 0) / 2 ** 32; };
}

for (const [capacity, pool, ops] of [[1, 5, 2_000], [7, 40, 20_000], [50, 300, 50_000], [3_000, 6_000, 60_000]] as const) {
  test(`capacity ${capacity}, ${pool} keys, ${ops} operations: every answer and the size as the model's`, () => {
    const next = random(capacity * 7919 + pool);
    const keys = Array.from({ length: pool }, (_, i) => `${'n'.repeat(i % 5)}${i.toString(36)}-${Math.floor(next() * 1e9)}`);
    const issued = keys.map((_, i) => 1000 + i);
    const t = new NonceCountTracker(capacity);
    const m = new Model(capacity);
    for (let i = 0; i < ops; i++) {
      const k = Math.floor(next() * pool);
      const nc = 1 + Math.floor(next() * 6);
      if (next() < 0.5) {
        assert.equal(t.check(keys[k], issued[k], nc), m.check(keys[k], issued[k], nc), `check #${i} of ${keys[k]}`);
      } else {
        t.record(keys[k], issued[k], nc);
        m.record(keys[k], issued[k], nc);
        assert.equal(t.size, m.size, `size after record #${i}`);
      }
    }
    for (let k = 0; k < pool; k++) for (const nc of [1, 7]) assert.equal(t.check(keys[k], issued[k], nc), m.check(keys[k], issued[k], nc), `final check of ${keys[k]}`);
  });
}

test('keys longer than the table keeps are refused on record, never matched on check', () => {
  const t = new NonceCountTracker(4);
  const long = 'x'.repeat(MAX_NONCE_CHARS + 1);
  assert.throws(() => t.record(long, 1, 1), RangeError);
  assert.throws(() => t.record('nonce-é', 1, 1), RangeError);
  assert.equal(t.check(long, 1, 1), 'ok');
  assert.equal(t.size, 0);
  t.record('x'.repeat(MAX_NONCE_CHARS), 2, 3);
  assert.equal(t.check('x'.repeat(MAX_NONCE_CHARS), 2, 3), 'replay');
  assert.equal(t.check('x'.repeat(MAX_NONCE_CHARS - 1), 2, 3), 'ok', 'a prefix is another key');
});
