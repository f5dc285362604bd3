import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  computeDigestResponse,
  computeHa1,
  digestHashOf,
  parseDigestAlgorithm,
} from '../../../src/sip/digest-algorithm.ts';

describe('digest-algorithm', () => {
  test('RFC 2617 §3.5: Mufasa / "Circle Of Life" (MD5, qop=auth)', () => {
    const ha1 = computeHa1('MD5', 'Mufasa', 'testrealm@host.com', 'Circle Of Life');
    assert.equal(ha1, '939e7578ed9e3c518a452acee763bce9');
    const response = computeDigestResponse({
      algorithm: 'MD5',
      ha1,
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      method: 'GET',
      uri: '/dir/index.html',
      qop: 'auth',
      nc: '00000001',
      cnonce: '0a4f113b',
    });
    assert.equal(response, '6629fae49393a05397450978507c4ef1');
  });

  // RFC 7616 §3.9.1: the same request answered with MD5 and with SHA-256.
  const rfc7616 = {
    nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
    method: 'GET',
    uri: '/dir/index.html',
    qop: 'auth' as const,
    nc: '00000001',
    cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  };
  for (const [algorithm, expected] of [
    ['MD5', '8ca523f5e9506fed4657c9700eebdbec'],
    ['SHA-256', '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1'],
  ] as const) {
    test(`RFC 7616 §3.9.1 ${algorithm}`, () => {
      const ha1 = computeHa1(algorithm, 'Mufasa', 'http-auth@example.org', 'Circle of Life');
      assert.equal(computeDigestResponse({ algorithm, ha1, ...rfc7616 }), expected);
    });
  }

  test('RFC 2069 form (no qop): H(HA1:nonce:HA2)', () => {
    // Computed independently: md5("939e…:dcd98…:" + md5("GET:/dir/index.html"))
    const ha1 = '939e7578ed9e3c518a452acee763bce9';
    const r = computeDigestResponse({
      algorithm: 'MD5',
      ha1,
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      method: 'GET',
      uri: '/dir/index.html',
    });
    assert.equal(r, '670fd8c2df070c60b045671b8b24ff02');
  });

  test('-sess uses H(HA1:nonce:cnonce) as HA1 (RFC 7616 §3.4.2)', () => {
    const ha1 = computeHa1('MD5', 'Mufasa', 'testrealm@host.com', 'Circle Of Life');
    const base = { nonce: 'n', method: 'REGISTER', uri: 'sip:a.com', qop: 'auth' as const, nc: '00000001', cnonce: 'c' };
    const sess = computeDigestResponse({ algorithm: 'MD5-sess', ha1, ...base });
    const sessHa1 = computeHa1('MD5', ha1, 'n', 'c'); // H(HA1:nonce:cnonce) has the same shape
    assert.equal(sess, computeDigestResponse({ algorithm: 'MD5', ha1: sessHa1, ...base }));
    assert.notEqual(sess, computeDigestResponse({ algorithm: 'MD5', ha1, ...base }));
  });

  test('algorithm tokens are case-insensitive; absent means MD5; unknown is undefined', () => {
    assert.equal(parseDigestAlgorithm(undefined), 'MD5');
    assert.equal(parseDigestAlgorithm('sha-256'), 'SHA-256');
    assert.equal(parseDigestAlgorithm('SHA-256-SESS'), 'SHA-256-sess');
    assert.equal(parseDigestAlgorithm('SHA-512-256'), 'SHA-512-256');
    assert.equal(parseDigestAlgorithm('AKAv1-MD5'), undefined);
    assert.equal(digestHashOf('SHA-256-sess'), 'SHA-256');
  });

  test('SHA-512-256 HA1 is 64 hex chars and differs from SHA-256', () => {
    const a = computeHa1('SHA-512-256', 'u', 'r', 'p');
    assert.match(a, /^[0-9a-f]{64}$/);
    assert.notEqual(a, computeHa1('SHA-256', 'u', 'r', 'p'));
  });
});
