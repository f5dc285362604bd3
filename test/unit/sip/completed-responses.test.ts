import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CompletedResponses, hashKey } from '../../../src/sip/completed-responses.ts';
import { createResponse } from '../../../src/sip/message-build.ts';
import { parseMessage } from '../../../src/sip/parse-message.ts';
import type { SipMessage } from '../../../src/sip/message.ts';
import { FakeTimers } from '../../../src/sip/timers.ts';

const LINGER = 32_000;

/** A REGISTER whose branch (and so transaction key) is `branch`, and the 200 answering it. */
function exchange(branch: string, contacts = 1): { req: SipMessage; res: Buffer } {
  const req = parseMessage(Buffer.from([
    'REGISTER sip:example.com SIP/2.0',
    `Via: SIP/2.0/UDP 192.0.2.4:5062;branch=z9hG4bK${branch};rport`,
    'From: <sip:1001@example.com>;tag=f1',
    'To: <sip:1001@example.com>',
    `Call-ID: ${branch}@192.0.2.4`,
    'CSeq: 2 REGISTER',
    'Content-Length: 0',
  ].join('\r\n') + '\r\n\r\n', 'latin1'));
  const contact = Array.from({ length: contacts }, (_, i) => `<sip:1001@192.0.2.${i % 250}:5062>;expires=3600`).join(', ');
  return { req, res: createResponse(req, 200, 'OK', { toTag: `t${branch}`, headers: { Contact: contact } }).toBuffer() };
}

describe('CompletedResponses: final responses kept for Timer J, off the JS heap', () => {
  test('answers each retransmission with its own response until the linger time has passed', () => {
    const timers = new FakeTimers(0);
    const c = new CompletedResponses(timers, LINGER);
    const a = exchange('a');
    const b = exchange('b');
    c.add('key-a', a.res);
    timers.advance(10_000);
    c.add('key-b', b.res);
    assert.deepEqual(c.get('key-a', a.req), a.res);
    assert.deepEqual(c.get('key-b', b.req), b.res);
    assert.equal(c.get('key-c', a.req), undefined);
    timers.advance(LINGER - 10_000);
    assert.equal(c.has('key-a'), false, 'a expired');
    assert.deepEqual(c.get('key-b', b.req), b.res);
    timers.advance(10_000);
    assert.equal(c.size, 0);
  });

  test('keys beyond Latin-1 (a UTF-8 branch) are kept exactly', () => {
    const c = new CompletedResponses(new FakeTimers(0), LINGER);
    const x = exchange('x');
    c.add('z9hG4bKé€😀|udp|192.0.2.4:5062|REGISTER', x.res);
    assert.deepEqual(c.get('z9hG4bKé€😀|udp|192.0.2.4:5062|REGISTER', x.req), x.res);
    assert.equal(c.has('z9hG4bKé€😀|udp|192.0.2.4:5062|REGISTERx'), false);
    assert.equal(c.has('z9hG4bKe€😀|udp|192.0.2.4:5062|REGISTER'), false);
  });

  test('the arena wraps around and grows under a steady stream, every live entry intact', () => {
    const timers = new FakeTimers(0);
    const c = new CompletedResponses(timers, LINGER);
    const live: Array<{ key: string; req: SipMessage; res: Buffer }> = [];
    // 40 entries per simulated second with growing sizes: the ring wraps many times and grows.
    for (let i = 0; i < 4000; i++) {
      const e = { key: `key-${i}`, ...exchange(`b${i}`, 1 + (i % 7) * (i > 2000 ? 3 : 1)) };
      c.add(e.key, e.res);
      live.push(e);
      timers.advance(25);
      while (live.length > 0 && live[0]!.key !== undefined && Number(live[0]!.key.slice(4)) * 25 + LINGER <= timers.now()) live.shift();
      if (i % 97 === 0) for (const l of live) assert.deepEqual(c.get(l.key, l.req), l.res, l.key);
    }
    assert.equal(c.size, live.length);
    for (const l of live) assert.deepEqual(c.get(l.key, l.req), l.res);
    timers.advance(LINGER);
    assert.equal(c.size, 0);
    assert.equal(c.has(live[0]!.key), false);
  });

  test('the arena follows the live entries: chunks go back as their entries expire; a response larger than a chunk is kept whole', () => {
    const timers = new FakeTimers(0);
    const c = new CompletedResponses(timers, LINGER);
    const big = exchange('big', 7000); // ~330 KB of Contact: more than one 256 KB chunk
    assert.ok(big.res.length > 256 * 1024, `${big.res.length} bytes`);
    c.add('key-big', big.res);
    const entries: Array<{ key: string; req: SipMessage; res: Buffer }> = [];
    for (let i = 0; i < 3000; i++) {
      const e = { key: `key-${i}`, ...exchange(`s${i}`, 20) };
      c.add(e.key, e.res);
      entries.push(e);
      timers.advance(10); // 30 s in all: every entry still lives
    }
    assert.deepEqual(c.get('key-big', big.req), big.res);
    const full = c.arenaBytes;
    assert.ok(full >= 3000 * 900, `${full} bytes for 3,000 entries of ~1 KB`);
    timers.advance(LINGER - 30_000 + 25_000); // the big one and the first ~2,500 expired
    const left = entries.filter((_, i) => i * 10 + LINGER > timers.now()); // entry i was added at i * 10 ms
    assert.equal(c.size, left.length);
    for (const e of left) assert.deepEqual(c.get(e.key, e.req), e.res, e.key);
    assert.ok(c.arenaBytes <= left.length * 1200 + 2 * 256 * 1024, `${c.arenaBytes} bytes held for ${left.length} entries (was ${full})`);
    timers.advance(LINGER);
    assert.deepEqual([c.size, c.arenaBytes], [0, 0]);
  });

  test('two keys with the same 30-bit hash are told apart, and each expires on its own', () => {
    const seen = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; pair === undefined; i++) {
      const k = `z9hG4bK-${i}|udp|192.0.2.4:5062|REGISTER`;
      const other = seen.get(hashKey(k));
      if (other !== undefined) pair = [other, k];
      else seen.set(hashKey(k), k);
    }
    const timers = new FakeTimers(0);
    const c = new CompletedResponses(timers, LINGER);
    const first = exchange('first');
    const second = exchange('second');
    c.add(pair[0], first.res);
    timers.advance(1000);
    c.add(pair[1], second.res);
    assert.deepEqual(c.get(pair[0], first.req), first.res);
    assert.deepEqual(c.get(pair[1], second.req), second.res);
    timers.advance(LINGER - 1000);
    assert.equal(c.has(pair[0]), false);
    assert.deepEqual(c.get(pair[1], second.req), second.res);
    timers.advance(1000);
    assert.equal(c.has(pair[1]), false);
    assert.equal(c.size, 0);
  });
});
