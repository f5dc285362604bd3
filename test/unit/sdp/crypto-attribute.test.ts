import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCryptoAttribute, parseCryptoAttribute } from '../../../src/sdp/crypto-attribute.ts';
import { findSrtpSuite } from '../../../src/media/srtp/srtp-suites.ts';

const lengths = (suite: string) => { const s = findSrtpSuite(suite); return s && s.keyLength + s.saltLength; };
const KEY = 'WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz';

test('RFC 4568 §9.1 example and the forms phones send', () => {
  const r = parseCryptoAttribute(`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY}|2^31`, lengths);
  assert.ok(r.ok);
  assert.equal(r.value.tag, 1);
  assert.equal(r.value.suite, 'AES_CM_128_HMAC_SHA1_80');
  assert.equal(r.value.keySalt.length, 30);
  assert.equal(r.value.lifetime, 2 ** 31);
  const plain = parseCryptoAttribute(`2 AES_CM_128_HMAC_SHA1_32 inline:${KEY}`, lengths);
  assert.ok(plain.ok && plain.value.lifetime === null);
  const gcm = parseCryptoAttribute(`3 AEAD_AES_128_GCM inline:${Buffer.alloc(28, 1).toString('base64')} KDR=0`, lengths);
  assert.ok(gcm.ok);
  assert.equal(formatCryptoAttribute({ tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80', keySalt: Buffer.from(KEY, 'base64') }), `1 AES_CM_128_HMAC_SHA1_80 inline:${KEY}`);
});

test('refused with a reason: what we cannot honour or is malformed', () => {
  const cases: Array<[string, RegExp]> = [
    [`1 AES_CM_128_HMAC_SHA1_80`, /needs a tag/],
    [`0 AES_CM_128_HMAC_SHA1_80 inline:${KEY}`, /bad tag/],
    [`1 F8_128_HMAC_SHA1_80 inline:${KEY}`, /unsupported suite/],
    [`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY}|2^20|1:4`, /MKI/],
    [`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY}|2^16`, /shorter/],
    [`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY}|65536`, /shorter/],
    [`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY};inline:${KEY}`, /several keys/],
    [`1 AES_CM_128_HMAC_SHA1_80 inline:QUJD`, /needs 30 octets/],
    [`1 AES_CM_128_HMAC_SHA1_80 inline:***`, /base64/],
    [`1 AES_CM_128_HMAC_SHA1_80 uri:https://x inline:${KEY}`, /inline/],
    [`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY} UNENCRYPTED_SRTP`, /UNENCRYPTED_SRTP/],
    [`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY} KDR=24`, /KDR=24/],
  ];
  for (const [value, reason] of cases) {
    const r = parseCryptoAttribute(value, lengths);
    assert.equal(r.ok, false, value);
    if (!r.ok) assert.match(r.reason, reason, value);
  }
});
