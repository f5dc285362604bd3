/**
 * Two in-process ZRTP endpoints (RFC 6189 DH mode) wired back to back: same SRTP keys (each
 * one's tx is the other's rx) and the same SAS, for DH3k and EC25; the retained secret of the
 * first call used on the second; a tampered message refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ZrtpEndpoint, type ZrtpSecure, type ZrtpTimers } from '../../../../src/media/zrtp/zrtp-endpoint.ts';
import { MemoryZrtpCache } from '../../../../src/media/zrtp/zrtp-memory-cache.ts';
import { framePacket, unframePacket } from '../../../../src/media/zrtp/zrtp-packet.ts';
import { messageType } from '../../../../src/media/zrtp/zrtp-messages.ts';
import type { KeyAgreementName } from '../../../../src/media/zrtp/zrtp-crypto.ts';

const timers: ZrtpTimers = { now: () => Date.now(), setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };

interface Side { zid: Buffer; cache: MemoryZrtpCache }
const side = (): Side => ({ zid: randomBytes(12), cache: new MemoryZrtpCache() });

type Tamper = (packet: Buffer, from: 'a' | 'b') => Buffer | null;

/** Runs one exchange; resolves with both results (or failures) once both ends settled. */
function exchange(a: Side, b: Side, opts: { kas?: KeyAgreementName[]; bPassive?: boolean; tamper?: Tamper } = {}) {
  const results: Record<'a' | 'b', ZrtpSecure | { failed: string } | undefined> = { a: undefined, b: undefined };
  const seen: string[] = [];
  let resolve!: () => void;
  const done = new Promise<void>((r) => { resolve = r; });
  const settle = (k: 'a' | 'b', v: ZrtpSecure | { failed: string }): void => {
    results[k] = v;
    if (results.a && results.b) resolve();
  };
  const make = (s: Side, k: 'a' | 'b', passive: boolean): ZrtpEndpoint => new ZrtpEndpoint({
    zid: s.zid, cache: s.cache, timers, passive, keyAgreements: opts.kas,
    send: (p) => {
      const u = unframePacket(p);
      if (u.ok) seen.push(`${k}:${messageType(u.packet.message)}`);
      const out = opts.tamper ? opts.tamper(p, k) : p;
      if (out !== null) setImmediate(() => void (k === 'a' ? eb : ea).receive(out));
    },
    onSecure: (r) => settle(k, r),
    onFailed: (reason) => settle(k, { failed: reason }),
  });
  const ea = make(a, 'a', false);
  const eb = make(b, 'b', opts.bPassive ?? false);
  ea.start();
  eb.start();
  const timeout = setTimeout(() => resolve(), 8000);
  return done.then(() => { clearTimeout(timeout); ea.stop(); eb.stop(); return { results, seen }; });
}

function secure(r: ZrtpSecure | { failed: string } | undefined): ZrtpSecure {
  assert.ok(r && !('failed' in r), `not secure: ${JSON.stringify(r)}`);
  return r as ZrtpSecure;
}

for (const ka of ['DH3k', 'EC25'] as const) {
  test(`handshake with ${ka}: identical SAS, matching SRTP keys, opposite roles`, async () => {
    const a = side();
    const b = side();
    const { results, seen } = await exchange(a, b, { kas: [ka], bPassive: true });
    const ra = secure(results.a);
    const rb = secure(results.b);
    assert.equal(ra.keyAgreement, ka);
    assert.equal(ra.role, 'Initiator');
    assert.equal(rb.role, 'Responder');
    assert.match(ra.sas, /^[ybndrfg8ejkmcpqxot1uwisza345h769]{4}$/);
    assert.equal(ra.sas, rb.sas);
    assert.equal(ra.srtp.suite, 'AES_CM_128_HMAC_SHA1_80');
    assert.ok(ra.srtp.txKey.length === 30 && Buffer.from(ra.srtp.txKey).equals(rb.srtp.rxKey));
    assert.ok(Buffer.from(ra.srtp.rxKey).equals(rb.srtp.txKey));
    assert.ok(!Buffer.from(ra.srtp.txKey).equals(ra.srtp.rxKey), 'each direction has its own key');
    assert.ok(ra.peerZid.equals(b.zid) && rb.peerZid.equals(a.zid));
    assert.equal(ra.cacheMatched, null, 'first call: nothing cached');
    for (const m of ['a:Hello', 'b:Hello', 'a:Commit', 'b:DHPart1', 'a:DHPart2', 'b:Confirm1', 'a:Confirm2', 'b:Conf2ACK']) assert.ok(seen.includes(m), m);
  });
}

test('both ends commit (contention, §4.2): the larger hvi initiates, the exchange still completes', async () => {
  const { results } = await exchange(side(), side(), { kas: ['EC25'] });
  const ra = secure(results.a);
  const rb = secure(results.b);
  assert.notEqual(ra.role, rb.role);
  assert.equal(ra.sas, rb.sas);
  assert.ok(Buffer.from(ra.srtp.txKey).equals(rb.srtp.rxKey));
});

test('second call between the same ZIDs uses the retained secret (rs1); the verified flag carries over', async () => {
  const a = side();
  const b = side();
  const first = await exchange(a, b, { kas: ['EC25'], bPassive: true });
  const f = secure(first.results.a);
  assert.equal(f.cacheMatched, null);
  const cachedA = await a.cache.load(b.zid);
  const cachedB = await b.cache.load(a.zid);
  assert.ok(cachedA.rs1 && cachedB.rs1 && cachedA.rs1.equals(cachedB.rs1), 'both cached the same rs1');
  await a.cache.setVerified(b.zid, true);
  await b.cache.setVerified(a.zid, true);
  const second = await exchange(a, b, { kas: ['EC25'], bPassive: true });
  const sa = secure(second.results.a);
  const sb = secure(second.results.b);
  assert.equal(sa.cacheMatched, 'rs1');
  assert.equal(sb.cacheMatched, 'rs1');
  assert.equal(sa.verified, true, 'V flag on both sides and cache matched: no need to compare the SAS again');
  assert.equal(sa.sas, sb.sas);
  const afterA = await a.cache.load(b.zid);
  assert.ok(afterA.rs2 && afterA.rs2.equals(cachedA.rs1), 'rs2 took the old rs1 (§4.6.1)');

  // One side lost its cache: no match, keys still agree, verified drops.
  b.cache.entries.clear();
  const third = await exchange(a, b, { kas: ['EC25'], bPassive: true });
  const ta = secure(third.results.a);
  assert.equal(ta.cacheMatched, null);
  assert.equal(ta.verified, false);
  assert.equal((await a.cache.load(b.zid)).verified, false, 'cache mismatch clears the verified flag');
  assert.equal(ta.sas, secure(third.results.b).sas);
});

test('a tampered DHPart1 public value is refused: Confirm MAC or hash chain fails, no keys', async () => {
  const tamper: Tamper = (p, from) => {
    const u = unframePacket(p);
    if (from !== 'b' || !u.ok || messageType(u.packet.message) !== 'DHPart1') return p;
    // A man in the middle swapping the public value must fix the CRC too (it is no MAC).
    const raw = Buffer.from(u.packet.message);
    raw[80] ^= 0x01;
    return reframe(p, raw);
  };
  const { results } = await exchange(side(), side(), { kas: ['DH3k'], bPassive: true, tamper });
  assert.ok(results.a && 'failed' in results.a, `initiator failed: ${JSON.stringify(results.a)}`);
  assert.match((results.a as { failed: string }).failed, /MAC|hash chain/);
  assert.ok(results.b && 'failed' in results.b, 'the responder gets the Error');
});

test('a packet with a bad CRC is dropped and the retransmission completes the exchange', async () => {
  let spoiled = false;
  const tamper: Tamper = (p) => {
    const u = unframePacket(p);
    if (!spoiled && u.ok && messageType(u.packet.message) === 'Commit') {
      spoiled = true;
      const bad = Buffer.from(p);
      bad[20] ^= 0xff;
      return bad;
    }
    return p;
  };
  const { results } = await exchange(side(), side(), { kas: ['EC25'], bPassive: true, tamper });
  assert.equal(secure(results.a).sas, secure(results.b).sas);
  assert.ok(spoiled);
});

function reframe(p: Buffer, message: Buffer): Buffer {
  return framePacket(message, p.readUInt16BE(2), p.readUInt32BE(8));
}
