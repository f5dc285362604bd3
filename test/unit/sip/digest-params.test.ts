import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { formatAuthParams, parseAuthParams, quote } from '../../../src/sip/digest-params.ts';
import { formatDigestChallenge, parseDigestChallenges } from '../../../src/sip/digest-challenge.ts';
import { formatDigestCredentials, parseDigestCredentials } from '../../../src/sip/digest-credentials.ts';

const entries = (v: string) => parseAuthParams(v)?.map((c) => [c.scheme, Object.fromEntries(c.params), c.token68]);

describe('digest-params: auth-param scanner (RFC 3261 §25.1, RFC 7235 §2.1)', () => {
  test('RFC 2617 §3.5 Authorization value, folded over lines', () => {
    const v = `Digest username="Mufasa",
                 realm="testrealm@host.com",
                 nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
                 uri="/dir/index.html",
                 qop=auth,
                 nc=00000001,
                 cnonce="0a4f113b",
                 response="6629fae49393a05397450978507c4ef1",
                 opaque="5ccc069c403ebaf9f0171e9517f40e41"`;
    const c = parseDigestCredentials(v);
    assert.deepEqual(c, {
      username: 'Mufasa',
      realm: 'testrealm@host.com',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      uri: '/dir/index.html',
      response: '6629fae49393a05397450978507c4ef1',
      algorithm: 'MD5',
      qop: 'auth',
      nc: '00000001',
      cnonce: '0a4f113b',
      opaque: '5ccc069c403ebaf9f0171e9517f40e41',
    });
  });

  test('quoted strings: escapes, commas and "=" inside quotes', () => {
    assert.deepEqual(entries('Digest realm="a\\"b\\\\c, d=e", nonce=xyz'), [
      ['Digest', { realm: 'a"b\\c, d=e', nonce: 'xyz' }, undefined],
    ]);
  });

  test('whitespace around "=" and commas, case-insensitive names', () => {
    assert.deepEqual(entries('  digest   REALM = "r" ,NONCE= "n"  ,,  algorithm =MD5 '), [
      ['digest', { realm: 'r', nonce: 'n', algorithm: 'MD5' }, undefined],
    ]);
  });

  test('several challenges in one value; token68 schemes are skipped cleanly', () => {
    assert.deepEqual(entries('Basic dXNlcjpwYXNz==, Digest realm="r", nonce="n", Newauth realm="apps", type=1'), [
      ['Basic', {}, 'dXNlcjpwYXNz=='],
      ['Digest', { realm: 'r', nonce: 'n' }, undefined],
      ['Newauth', { realm: 'apps', type: '1' }, undefined],
    ]);
  });

  for (const [name, v] of [
    ['unterminated quote', 'Digest realm="abc'],
    ['duplicate parameter (RFC 7616 §3.3)', 'Digest realm="a", realm="b"'],
    ['garbage after value', 'Digest realm="a" nonce="b"'],
    ['bad character in token value', 'Digest realm=@x'],
    ['trailing backslash in quotes', 'Digest realm="a\\'],
  ] as const) {
    test(`malformed: ${name}`, () => assert.equal(parseAuthParams(v), undefined));
  }

  test('format quotes and escapes', () => {
    assert.equal(quote('a"b\\c'), '"a\\"b\\\\c"');
    assert.equal(formatAuthParams('Digest', [['realm', 'x"y', true], ['algorithm', 'MD5', false]]), 'Digest realm="x\\"y", algorithm=MD5');
  });
});

describe('digest-challenge', () => {
  test('RFC 7616 §3.9.1 challenges: qop list, algorithm, opaque', () => {
    const v = `Digest
    realm="http-auth@example.org",
    qop="auth, auth-int",
    algorithm=SHA-256,
    nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
    opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`;
    assert.deepEqual(parseDigestChallenges(v), [
      {
        realm: 'http-auth@example.org',
        nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
        algorithm: 'SHA-256',
        algorithmToken: 'SHA-256',
        qop: ['auth', 'auth-int'],
        opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
        domain: undefined,
        stale: false,
      },
    ]);
  });

  test('non-Digest schemes and challenges without nonce yield nothing', () => {
    assert.deepEqual(parseDigestChallenges('Basic realm="x"'), []);
    assert.deepEqual(parseDigestChallenges('Digest realm="x"'), []);
    assert.deepEqual(parseDigestChallenges('Digest realm="x'), []);
  });

  test('unknown algorithm kept as token, algorithm undefined; stale parsed', () => {
    const [c] = parseDigestChallenges('Digest realm="r", nonce="n", algorithm=AKAv1-MD5, stale=TRUE');
    assert.equal(c.algorithm, undefined);
    assert.equal(c.algorithmToken, 'AKAv1-MD5');
    assert.equal(c.stale, true);
  });

  test('format: exact bytes, qop quoted, algorithm and stale bare', () => {
    assert.equal(
      formatDigestChallenge({ realm: 'pbx', nonce: 'abc', algorithm: 'SHA-256', qop: ['auth'], stale: true }),
      'Digest realm="pbx", nonce="abc", algorithm=SHA-256, qop="auth", stale=true',
    );
  });
});

describe('digest-credentials', () => {
  test('qop without nc/cnonce, or bad nc, is rejected', () => {
    const base = 'Digest username="u", realm="r", nonce="n", uri="sip:x", response="00"';
    assert.ok(parseDigestCredentials(base));
    assert.equal(parseDigestCredentials(base + ', qop=auth, cnonce="c"'), undefined);
    assert.equal(parseDigestCredentials(base + ', qop=auth, nc=1, cnonce="c"'), undefined);
    assert.equal(parseDigestCredentials(base + ', qop=auth, nc=0000000g, cnonce="c"'), undefined);
    assert.ok(parseDigestCredentials(base + ', qop="auth", nc=0000000A, cnonce="c"'));
  });

  test('missing required parameter or other scheme -> undefined', () => {
    assert.equal(parseDigestCredentials('Digest username="u", realm="r", nonce="n", uri="sip:x"'), undefined);
    assert.equal(parseDigestCredentials('Basic dXNlcg=='), undefined);
  });

  test('format/parse round trip', () => {
    const c = {
      username: 'al"ice',
      realm: 'r',
      nonce: 'n',
      uri: 'sip:bob@b.com;transport=tcp',
      response: 'ff',
      algorithm: 'SHA-256',
      qop: 'auth',
      nc: '0000000a',
      cnonce: 'cn',
      opaque: undefined,
    };
    const s = formatDigestCredentials(c);
    assert.equal(
      s,
      'Digest username="al\\"ice", realm="r", uri="sip:bob@b.com;transport=tcp", algorithm=SHA-256, nonce="n", nc=0000000a, cnonce="cn", qop=auth, response="ff"',
    );
    assert.deepEqual(parseDigestCredentials(s), c);
  });
});
