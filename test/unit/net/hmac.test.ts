import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { Hmac } from '../../../src/net/hmac.ts';

function reference(key: Buffer, text: string, bytes: Uint8Array): Buffer {
  return createHmac('sha256', key).update(text).update('\0').update(bytes).digest();
}

describe('Hmac', () => {
  it('gives the bytes of createHmac for keys shorter than, equal to and longer than a block', () => {
    for (const keyLen of [0, 1, 32, 63, 64, 65, 200]) {
      const key = randomBytes(keyLen);
      const h = new Hmac('sha256', key);
      for (const text of ['', 'strowger', 'réalm ünïcode', 'x'.repeat(300)]) {
        const bytes = randomBytes(14);
        assert.deepEqual(h.digestText(text, bytes), reference(key, text, bytes), `key ${keyLen}, text ${text.length}`);
      }
    }
  });

  it('stays right after its buffer grew and for a shorter message after a longer one', () => {
    const key = randomBytes(32);
    const h = new Hmac('sha256', key);
    const long = randomBytes(500);
    assert.deepEqual(h.digestText('a', long), reference(key, 'a', long));
    const short = randomBytes(3);
    assert.deepEqual(h.digestText('realm', short), reference(key, 'realm', short));
  });

  it('digest(data, suffix) gives the bytes of createHmac for SHA-1 and SHA-256, before and after its buffer grew', () => {
    for (const algorithm of ['sha1', 'sha256'] as const) {
      for (const keyLen of [16, 20, 64, 100]) {
        const key = randomBytes(keyLen);
        const h = new Hmac(algorithm, key);
        for (const len of [0, 172, 1500, 40]) {
          const data = randomBytes(len);
          const roc = randomBytes(4);
          assert.deepEqual(h.digest(data), createHmac(algorithm, key).update(data).digest(), `${algorithm} key ${keyLen} data ${len}`);
          assert.deepEqual(h.digest(data, roc), createHmac(algorithm, key).update(data).update(roc).digest());
        }
      }
    }
  });

  it('answers a different MAC for another key, text or body', () => {
    const h = new Hmac('sha256', Buffer.from('k1'));
    const base = h.digestText('r', Buffer.from([1, 2, 3]));
    assert.notDeepEqual(new Hmac('sha256', Buffer.from('k2')).digestText('r', Buffer.from([1, 2, 3])), base);
    assert.notDeepEqual(h.digestText('s', Buffer.from([1, 2, 3])), base);
    assert.notDeepEqual(h.digestText('r', Buffer.from([1, 2, 4])), base);
  });
});
