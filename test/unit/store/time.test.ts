/**
 * `isoNow` formats from cached minute prefixes: the same text as `Date#toISOString` for every
 * value, across minute, hour, day and year edges, with the cache cycling through more minutes
 * than it holds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isoNow } from '../../../src/store/time.ts';

test('isoNow is toISOString, edges and fractions included', () => {
  const edges = [0, 1, 999, 1000, 59_999, 60_000, 60_001, 1.5, 1e12 + 0.9, Date.UTC(2026, 11, 31, 23, 59, 59, 999), Date.UTC(2027, 0, 1),
    Date.UTC(2028, 1, 29, 12, 0, 0, 7), Date.UTC(9999, 11, 31, 23, 59, 59, 999)];
  for (const v of edges) assert.equal(isoNow(v), new Date(v).toISOString(), String(v));
  // Interleaved minutes (now, now + an expiry, a third) and many more than the cache holds.
  const base = Date.UTC(2026, 11, 6, 16, 40, 12, 345);
  for (let i = 0; i < 5000; i++) {
    const v = base + (i % 7) * 3_600_000 + i * 37;
    assert.equal(isoNow(v), new Date(v).toISOString(), String(v));
  }
});

test('isoNow leaves what has no four-digit year to Date (which throws where it must)', () => {
  assert.equal(isoNow(-1), new Date(-1).toISOString());
  assert.equal(isoNow(Date.UTC(10_000, 0, 1)), new Date(Date.UTC(10_000, 0, 1)).toISOString());
  assert.throws(() => isoNow(NaN), RangeError);
});
