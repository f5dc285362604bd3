/**
 * The open-addressing index against a model multimap: random adds and removes with few distinct
 * hashes (long probe runs, equal hashes, wrap-around at the table's end) and with many (growth).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProbeIndex } from '../../../src/sip/probe-index.ts';

function random(seed: number): () => number {
  let x = seed;
  return () => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return (x >>> 0) / 2 ** 32; };
}

function valuesOf(index: ProbeIndex, hash: number): number[] {
  const out: number[] = [];
  for (let b = index.first(hash); b >= 0; b = index.next(b, hash)) out.push(index.valueAt(b));
  return out.sort((x, y) => x - y);
}

for (const [hashes, ops] of [[3, 5_000], [40, 20_000], [100_000, 40_000]] as const) {
  test(`${hashes} distinct hashes, ${ops} operations: the values of every hash as the model's`, () => {
    const next = random(hashes + ops);
    // Hashes that share their low bits collide in every table size; negative ones too.
    const pool = Array.from({ length: Math.min(hashes, 1000) }, (_, i) => (i % 2 === 0 ? i * 1024 : -(i * 4096 + 7)) | 0);
    const hashOf = (k: number) => (hashes > 1000 ? (Math.floor(next() * 2 ** 32) | 0) : pool[k % pool.length]!);
    const index = new ProbeIndex();
    const model = new Map<number, number[]>();
    const live: Array<[number, number]> = [];
    let value = 0;
    for (let i = 0; i < ops; i++) {
      if (live.length > 0 && next() < 0.45) {
        const [h, v] = live.splice(Math.floor(next() * live.length), 1)[0]!;
        assert.equal(index.remove(h, v), true);
        const list = model.get(h)!;
        list.splice(list.indexOf(v), 1);
      } else {
        const h = hashOf(Math.floor(next() * hashes));
        index.add(h, value);
        model.set(h, [...(model.get(h) ?? []), value]);
        live.push([h, value++]);
      }
      if (i % 97 === 0) for (const [h, list] of model) assert.deepEqual(valuesOf(index, h), [...list].sort((x, y) => x - y), `hash ${h} after #${i}`);
    }
    assert.equal(index.size, live.length);
    for (const [h, list] of model) assert.deepEqual(valuesOf(index, h), [...list].sort((x, y) => x - y));
    assert.equal(index.remove(123457, 999_999_999), false, 'an absent entry');
  });
}

test('equal hashes keep every value; clear empties', () => {
  const index = new ProbeIndex();
  index.add(5, 10);
  index.add(5, 11);
  assert.deepEqual(valuesOf(index, 5), [10, 11]);
  index.clear();
  assert.deepEqual([index.size, valuesOf(index, 5)], [0, []]);
});
