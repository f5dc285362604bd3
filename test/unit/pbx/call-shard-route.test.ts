/**
 * Where the main thread sends a message when calls are sharded (`call-shard-route.ts`), and the
 * identifiers a shard mints (`sip/shard-identity.ts`): requests of a call by Call-ID,
 * responses by the shard their branch names, everything else to the main thread.
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { callIdOf, callShardOf, MAIN } from '../../../src/pbx/call-shard-route.ts';
import { portSlices } from '../../../src/pbx/call-shards.ts';
import { ownerOfCallId, setShardIdentity, shardOfBranch } from '../../../src/sip/shard-identity.ts';
import { randomBranch, randomCallId } from '../../../src/sip/message-build.ts';

const NONE = new Map<string, number>();

function request(method: string, callId: string, extra = ''): Buffer {
  return Buffer.from(`${method} sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\n${extra}Call-ID: ${callId}\r\nCSeq: 1 ${method}\r\nContent-Length: 0\r\n\r\n`);
}

function response(branch: string, via = 'Via'): Buffer {
  return Buffer.from(`SIP/2.0 200 OK\r\n${via}: SIP/2.0/UDP 127.0.0.1:5060;rport=5060;branch=${branch};received=127.0.0.1, SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK-2-x\r\nVia: SIP/2.0/UDP 10.0.0.8;branch=z9hG4bK-3-y\r\nCall-ID: whatever\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n`);
}

/** A Call-ID owned by `shard` of `total`. */
function idOf(shard: number, total: number): string {
  for (let i = 0; ; i++) if (ownerOfCallId(`call-${i}@host`, total) === shard) return `call-${i}@host`;
}

describe('call shard routing', () => {
  afterEach(() => setShardIdentity(0, 1));

  test('requests of a call go to the owner of their Call-ID, whatever its letter case of header name or compact form', () => {
    for (const shard of [0, 1, 2]) {
      const id = idOf(shard, 3);
      for (const m of ['INVITE', 'ACK', 'CANCEL', 'BYE', 'UPDATE', 'INFO', 'PRACK', 'REFER']) assert.equal(callShardOf(request(m, id), 3, NONE), shard, m);
      assert.equal(callShardOf(Buffer.from(request('BYE', id).toString().replace('Call-ID:', 'i:')), 3, NONE), shard);
      assert.equal(callShardOf(Buffer.from(request('BYE', id).toString().replace('Call-ID:', 'call-id:   ')), 3, NONE), shard);
    }
  });

  test('what is not a call stays on the main thread: REGISTER, SUBSCRIBE, NOTIFY, MESSAGE, OPTIONS, garbage', () => {
    const id = idOf(2, 3);
    for (const m of ['REGISTER', 'SUBSCRIBE', 'NOTIFY', 'MESSAGE', 'OPTIONS', 'PUBLISH']) assert.equal(callShardOf(request(m, id), 3, NONE), MAIN, m);
    assert.equal(callShardOf(Buffer.from('hello'), 3, NONE), MAIN);
    assert.equal(callShardOf(Buffer.from('INVITE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\n\r\n'), 3, NONE), MAIN, 'no Call-ID');
    // A folded Call-ID (RFC 3261 §7.3.1) is the parser's to read: main.
    assert.equal(callShardOf(Buffer.from(request('BYE', id).toString().replace(`Call-ID: ${id}`, `Call-ID:\r\n ${id}`)), 3, NONE), MAIN);
  });

  test('an adopted Call-ID goes where it was handed; without shards everything is main', () => {
    const id = idOf(2, 3);
    assert.equal(callShardOf(request('BYE', id), 3, new Map([[id, 0]])), 0);
    assert.equal(callShardOf(request('BYE', id), 1, NONE), MAIN);
    assert.equal(callIdOf(request('BYE', id)), id);
  });

  test('responses go to the shard their top branch names (first value of the first Via line), else main', () => {
    assert.equal(callShardOf(response('z9hG4bK-1-abcdef'), 3, NONE), 1);
    assert.equal(callShardOf(response('z9hG4bK-2-abcdef', 'v'), 3, NONE), 2);
    assert.equal(callShardOf(response('z9hG4bKabcdef'), 3, NONE), MAIN, 'unsharded branch');
    assert.equal(callShardOf(response('z9hG4bK-7-abcdef'), 3, NONE), MAIN, 'no such shard');
    assert.equal(callShardOf(response('1234'), 3, NONE), MAIN, 'RFC 2543 branch');
  });

  test('a sharded thread mints Call-IDs that hash to it and branches that name it', () => {
    setShardIdentity(2, 3);
    for (let i = 0; i < 50; i++) {
      assert.equal(ownerOfCallId(randomCallId(), 3), 2);
      assert.equal(ownerOfCallId(randomCallId('h.example'), 3), 2);
      const b = randomBranch();
      assert.equal(shardOfBranch(b), 2);
      assert.ok(b.startsWith('z9hG4bK'), 'RFC 3261 magic cookie');
    }
    setShardIdentity(0, 1);
    assert.match(randomBranch(), /^z9hG4bK[A-Za-z0-9_-]{12}$/);
    assert.equal(shardOfBranch(randomBranch()), -1);
    assert.throws(() => setShardIdentity(3, 3), RangeError);
  });

  test('RTP port slices: disjoint whole pairs, one per media engine; one slice is the range as configured', () => {
    assert.deepEqual(portSlices([10001, 20000], 1), [[10001, 20000]]);
    const s = portSlices([10000, 10999], 3);
    assert.deepEqual(s, [[10000, 10331], [10332, 10663], [10664, 10999]]);
    for (const [lo, hi] of s) assert.ok(lo % 2 === 0 && hi > lo);
    assert.throws(() => portSlices([10000, 10003], 3), RangeError);
  });
});
