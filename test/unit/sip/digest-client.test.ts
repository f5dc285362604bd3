import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { answerChallenge, DigestClient, formatNc, selectDigestChallenge } from '../../../src/sip/digest-client.ts';
import { DigestError } from '../../../src/sip/digest-errors.ts';
import { createDigestServer } from '../../../src/sip/digest-server.ts';
import { computeHa1 } from '../../../src/sip/digest-algorithm.ts';
import { FakeTimers } from '../../../src/sip/timers.ts';

// RFC 7616 §3.9.1: the server offers SHA-256 then MD5 for the same nonce.
const rfc7616 = ['SHA-256', 'MD5'].map(
  (a) => `Digest
    realm="http-auth@example.org",
    qop="auth, auth-int",
    algorithm=${a},
    nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
    opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`,
);
const mufasa = {
  username: 'Mufasa',
  password: 'Circle of Life',
  method: 'GET',
  uri: '/dir/index.html',
  cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
};

describe('digest-client', () => {
  test('RFC 7616 §3.9.1: picks SHA-256 and produces the RFC response, exact bytes', () => {
    assert.equal(
      answerChallenge(rfc7616, mufasa),
      'Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=SHA-256, ' +
        'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, ' +
        'cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, ' +
        'response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", ' +
        'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
    );
  });

  test('RFC 7616 §3.9.1: MD5 alone gives the MD5 response', () => {
    assert.match(answerChallenge(rfc7616[1], mufasa), /response="8ca523f5e9506fed4657c9700eebdbec"/);
  });

  test('strongest wins whatever the order; unknown algorithms skipped', () => {
    const c = selectDigestChallenge([
      'Digest realm="r", nonce="1", algorithm=MD5, qop="auth"',
      'Digest realm="r", nonce="2", algorithm=AKAv1-MD5, qop="auth"',
      'Digest realm="r", nonce="3", algorithm=SHA-256, qop="auth"',
    ]);
    assert.equal(c.nonce, '3');
  });

  test('RFC 2617 §3.5 answered as in the RFC (MD5, cnonce 0a4f113b)', () => {
    const h = answerChallenge(
      'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
      { username: 'Mufasa', password: 'Circle Of Life', method: 'GET', uri: '/dir/index.html', cnonce: '0a4f113b' },
    );
    assert.match(h, /response="6629fae49393a05397450978507c4ef1"/);
    assert.match(h, /algorithm=MD5, /);
  });

  test('errors: no challenge, only auth-int', () => {
    assert.throws(
      () => answerChallenge('Basic realm="x"', mufasa),
      (e: unknown) => e instanceof DigestError && e.code === 'SIP_ERR_DIGEST_NO_CHALLENGE',
    );
    assert.throws(
      () => answerChallenge('Digest realm="x", nonce="n", qop="auth-int"', mufasa),
      (e: unknown) => e instanceof DigestError && e.code === 'SIP_ERR_DIGEST_UNSUPPORTED',
    );
  });

  test('formatNc', () => {
    assert.equal(formatNc(1), '00000001');
    assert.equal(formatNc(0xabc), '00000abc');
    assert.throws(() => formatNc(0), RangeError);
  });

  test('DigestClient: pre-authenticates with increasing nc; server accepts each', async () => {
    const clock = new FakeTimers();
    const server = createDigestServer({ realm: 'r', secret: Buffer.alloc(16, 1), clock });
    const lookupHa1 = (u: string, r: string, h: 'MD5' | 'SHA-256' | 'SHA-512-256') => computeHa1(h, u, r, 'pw');
    let n = 0;
    const client = new DigestClient({ username: 'bob', password: 'pw', cnonce: () => `c${++n}` });
    assert.equal(client.authorize({ method: 'INVITE', uri: 'sip:x@r' }), undefined);
    const a = client.answer(server.challenges(), { method: 'REGISTER', uri: 'sip:r' });
    assert.equal(a.retry, true);
    assert.match(a.header, /nc=00000001, cnonce="c1"/);
    assert.equal((await server.verify(a.header, { method: 'REGISTER', lookupHa1 })).kind, 'ok');
    const b = client.authorize({ method: 'INVITE', uri: 'sip:x@r' })!;
    assert.match(b, /nc=00000002, cnonce="c2"/);
    assert.equal((await server.verify(b, { method: 'INVITE', requestUri: 'sip:x@r', lookupHa1 })).kind, 'ok');
    assert.equal(client.realm, 'r');
  });

  test('DigestClient: same nonce again without stale -> retry false; stale -> retry true', () => {
    const client = new DigestClient({ username: 'bob', password: 'pw' });
    const ch = 'Digest realm="r", nonce="n1", algorithm=MD5, qop="auth"';
    assert.equal(client.answer(ch, { method: 'REGISTER', uri: 'sip:r' }).retry, true);
    assert.equal(client.answer(ch, { method: 'REGISTER', uri: 'sip:r' }).retry, false);
    assert.equal(client.answer(ch.replace('n1', 'n2') + ', stale=true', { method: 'REGISTER', uri: 'sip:r' }).retry, true);
    assert.equal(client.answer(ch.replace('n1', 'n2') + ', stale=true', { method: 'REGISTER', uri: 'sip:r' }).retry, true);
    client.reset();
    assert.equal(client.authorize({ method: 'REGISTER', uri: 'sip:r' }), undefined);
  });
});
