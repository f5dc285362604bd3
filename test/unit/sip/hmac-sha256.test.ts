import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { HmacSha256 } from '../../../src/sip/hmac-sha256.ts';

function reference(key: Buffer, text: string, bytes: Uint8Array): Buffer {
  return createHmac('sha256', key).update(text).update('\0').update(bytes).digest();
}

describe('HmacSha256', () => {
  it('gives the bytes of createHmac for keys shorter than, equal to and longer than a block', () => {
    for (const keyLen of [0, 1, 32, 63, 64, 65, 200]) {
      const key = randomBytes(keyLen);
      const h = new HmacSha256(key);
      for (const text of ['', 'strowger', 'réalm ünïcode', 'x'.repeat(300)]) {
        const bytes = randomBytes(14);
        assert.deepEqual(h.mac(text, bytes), reference(key, text, bytes), `key ${keyLen}, text ${text.length}`);
      }
    }
  });

  it('stays right after its buffer grew and for a shorter message after a longer one', () => {
    const key = randomBytes(32);
    const h = new HmacSha256(key);
    const long = randomBytes(500);
    assert.deepEqual(h.mac('a', long), reference(key, 'a', long));
    const short = randomBytes(3);
    assert.deepEqual(h.mac('realm', short), reference(key, 'realm', short));
  });

  it('answers a different MAC for another key, text or body', () => {
    const h = new HmacSha256(Buffer.from('k1'));
    const base = h.mac('r', Buffer.from([1, 2, 3]));
    assert.notDeepEqual(new HmacSha256(Buffer.from('k2')).mac('r', Buffer.from([1, 2, 3])), base);
    assert.notDeepEqual(h.mac('s', Buffer.from([1, 2, 3])), base);
    assert.notDeepEqual(h.mac('r', Buffer.from([1, 2, 4])), base);
  });
});
