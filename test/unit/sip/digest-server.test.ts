import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createDigestServer } from '../../../src/sip/digest-server.ts';
import type { DigestServerOptions, LookupHa1 } from '../../../src/sip/digest-server.ts';
import { answerChallenge } from '../../../src/sip/digest-client.ts';
import { computeHa1 } from '../../../src/sip/digest-algorithm.ts';
import { parseDigestChallenges } from '../../../src/sip/digest-challenge.ts';
import { FakeTimers } from '../../../src/sip/timers.ts';

const realm = 'pbx.example.com';
const secret = Buffer.alloc(32, 3);
const password = 'correct horse';
const lookupHa1: LookupHa1 = (user, r, hash) => (user === 'alice' ? computeHa1(hash, user, r, password) : undefined);
const req = { method: 'REGISTER', uri: 'sip:pbx.example.com' };

function setup(extra: Partial<DigestServerOptions> = {}) {
  const clock = new FakeTimers();
  const server = createDigestServer({ realm, secret, clock, ...extra });
  return { clock, server };
}

function verify(server: ReturnType<typeof setup>['server'], header: string, requestUri = req.uri) {
  return server.verify(header, { method: req.method, requestUri, lookupHa1 });
}

describe('digest-server', () => {
  test('challenges: SHA-256 then MD5 (RFC 8760 §2.4), qop="auth", shared nonce', () => {
    const { server } = setup();
    const values = server.challenges();
    assert.equal(values.length, 2);
    const nonce = parseDigestChallenges(values[0])[0].nonce;
    assert.deepEqual(values, [
      `Digest realm="${realm}", nonce="${nonce}", algorithm=SHA-256, qop="auth"`,
      `Digest realm="${realm}", nonce="${nonce}", algorithm=MD5, qop="auth"`,
    ]);
    assert.match(server.challenges({ stale: true })[1], /, stale=true$/);
  });

  test('challenges narrowed per request: one value, in the order asked; unaccepted ones skipped', () => {
    const { server } = setup();
    assert.deepEqual(server.challenges({ algorithms: ['MD5'] }).map((v) => parseDigestChallenges(v)[0].algorithm), ['MD5']);
    assert.deepEqual(server.challenges({ algorithms: ['MD5', 'SHA-256'] }).map((v) => parseDigestChallenges(v)[0].algorithm), ['MD5', 'SHA-256']);
    assert.match(server.challenges({ algorithms: ['SHA-256'], stale: true }).join('|'), /^Digest [^|]*algorithm=SHA-256, qop="auth", stale=true$/);
    const md5Only = setup({ algorithms: ['MD5'] }).server;
    // Asking for nothing the server accepts still yields a usable challenge.
    assert.deepEqual(md5Only.challenges({ algorithms: ['SHA-256'] }).map((v) => parseDigestChallenges(v)[0].algorithm), ['MD5']);
    assert.deepEqual(server.algorithms, ['SHA-256', 'MD5']);
  });

  for (const algorithm of ['SHA-256', 'MD5', 'SHA-256-sess', 'MD5-sess'] as const) {
    test(`round trip client <-> server with ${algorithm}`, async () => {
      const { server } = setup({ algorithms: [algorithm] });
      const header = answerChallenge(server.challenges(), { username: 'alice', password, ...req });
      assert.match(header, new RegExp(`algorithm=${algorithm},`));
      assert.deepEqual(await verify(server, header), { kind: 'ok', username: 'alice', algorithm });
    });
  }

  test('client picks SHA-256 from the default challenge pair', async () => {
    const { server } = setup();
    const header = answerChallenge(server.challenges(), { username: 'alice', password, ...req });
    assert.deepEqual(await verify(server, header), { kind: 'ok', username: 'alice', algorithm: 'SHA-256' });
  });

  test('replayed nc rejected; next nc accepted', async () => {
    const { server } = setup();
    const ch = server.challenges();
    const h1 = answerChallenge(ch, { username: 'alice', password, ...req, nc: 1, cnonce: 'c1' });
    assert.equal((await verify(server, h1)).kind, 'ok');
    assert.deepEqual(await verify(server, h1), { kind: 'replay', username: 'alice' });
    const h2 = answerChallenge(ch, { username: 'alice', password, ...req, nc: 2, cnonce: 'c1' });
    assert.equal((await verify(server, h2)).kind, 'ok');
    assert.equal(server.trackedNonces, 1);
  });

  test('a failed attempt does not advance nc (only authenticated counts are recorded)', async () => {
    const { server } = setup();
    const ch = server.challenges();
    const bad = answerChallenge(ch, { username: 'alice', password: 'x', ...req, nc: 5 });
    assert.equal((await verify(server, bad)).kind, 'bad_credentials');
    assert.equal(server.trackedNonces, 0);
    const good = answerChallenge(ch, { username: 'alice', password, ...req, nc: 1 });
    assert.equal((await verify(server, good)).kind, 'ok');
  });

  test('expired nonce with right credentials -> stale; wrong credentials -> not stale', async () => {
    const { server, clock } = setup({ nonceTtlMs: 1000 });
    const ch = server.challenges();
    clock.advance(1001);
    const good = answerChallenge(ch, { username: 'alice', password, ...req });
    const r = await verify(server, good);
    assert.deepEqual(r, { kind: 'stale', username: 'alice' });
    assert.match(server.challengesFor(r)[0], /, stale=true$/);
    const bad = answerChallenge(ch, { username: 'alice', password: 'nope', ...req });
    assert.equal((await verify(server, bad)).kind, 'bad_credentials');
  });

  test('nonce forgotten by a full replay table -> stale, never accepted', async () => {
    const { server } = setup({ maxTrackedNonces: 1 });
    const ch1 = server.challenges();
    const h1 = answerChallenge(ch1, { username: 'alice', password, ...req, nc: 1 });
    assert.equal((await verify(server, h1)).kind, 'ok');
    const ch2 = server.challenges();
    assert.equal((await verify(server, answerChallenge(ch2, { username: 'alice', password, ...req }))).kind, 'ok');
    assert.equal((await verify(server, h1)).kind, 'stale');
  });

  test('tampered nonce -> invalid_nonce', async () => {
    const { server } = setup();
    const [v] = server.challenges();
    const nonce = parseDigestChallenges(v)[0].nonce;
    const forged = (nonce[0] === 'A' ? 'B' : 'A') + nonce.slice(1);
    const header = answerChallenge(v.replace(nonce, forged), { username: 'alice', password, ...req });
    assert.deepEqual(await verify(server, header), { kind: 'invalid_nonce', username: 'alice' });
  });

  test('wrong realm -> realm_mismatch; nonce of another realm -> invalid_nonce', async () => {
    const { server } = setup();
    const [v] = server.challenges();
    const other = answerChallenge(v.replace(`realm="${realm}"`, 'realm="evil.com"'), { username: 'alice', password, ...req });
    assert.deepEqual(await verify(server, other), { kind: 'realm_mismatch', username: 'alice' });
    const { server: server2 } = setup();
    const foreign = createDigestServer({ realm: 'other', secret, clock: new FakeTimers() }).challenges()[0];
    const h = answerChallenge(foreign.replace('realm="other"', `realm="${realm}"`), { username: 'alice', password, ...req });
    assert.equal((await verify(server2, h)).kind, 'invalid_nonce');
  });

  test('unknown user and wrong password get identical challenges', async () => {
    const { server } = setup();
    const ch = server.challenges();
    const unknown = await verify(server, answerChallenge(ch, { username: 'mallory', password, ...req }));
    const wrong = await verify(server, answerChallenge(ch, { username: 'alice', password: 'guess', ...req }));
    assert.deepEqual(unknown, { kind: 'unknown_user', username: 'mallory' });
    assert.deepEqual(wrong, { kind: 'bad_credentials', username: 'alice' });
    const strip = (vs: string[]) => vs.map((s) => s.replace(/nonce="[^"]*"/, 'nonce=""'));
    assert.deepEqual(strip(server.challengesFor(unknown)), strip(server.challengesFor(wrong)));
  });

  test('uri must match the Request-URI', async () => {
    const { server } = setup();
    const header = answerChallenge(server.challenges(), { username: 'alice', password, ...req });
    assert.deepEqual(await verify(server, header, 'sip:other.example.com'), { kind: 'uri_mismatch', username: 'alice' });
  });

  test('algorithm not offered -> unsupported_algorithm', async () => {
    const { server } = setup({ algorithms: ['SHA-256'] });
    const [v] = server.challenges();
    const md5 = answerChallenge(v.replace('algorithm=SHA-256', 'algorithm=MD5'), { username: 'alice', password, ...req });
    assert.equal((await verify(server, md5)).kind, 'unsupported_algorithm');
  });

  test('RFC 2069 (no qop) refused by default, accepted for MD5 with allowRfc2069', async () => {
    for (const allowRfc2069 of [false, true]) {
      const { server } = setup({ allowRfc2069 });
      const [, md5] = server.challenges();
      const header = answerChallenge(md5.replace(', qop="auth"', ''), { username: 'alice', password, ...req });
      assert.doesNotMatch(header, /qop|nc=|cnonce/);
      assert.equal((await verify(server, header)).kind, allowRfc2069 ? 'ok' : 'bad_qop');
    }
  });

  test('malformed and non-Digest credentials', async () => {
    const { server } = setup();
    assert.deepEqual(await verify(server, 'Basic YWxpY2U6eA=='), { kind: 'malformed' });
    assert.deepEqual(await verify(server, 'Digest username="alice'), { kind: 'malformed' });
  });

  test('response compared case-insensitively; truncated response rejected', async () => {
    const { server } = setup();
    const ch = server.challenges();
    const h = answerChallenge(ch, { username: 'alice', password, ...req, nc: 1 });
    const upper = h.replace(/response="([0-9a-f]+)"/, (_m, r: string) => `response="${r.toUpperCase()}"`);
    assert.equal((await verify(server, upper)).kind, 'ok');
    const h2 = answerChallenge(ch, { username: 'alice', password, ...req, nc: 2 });
    const short = h2.replace(/response="([0-9a-f]+)[0-9a-f]"/, 'response="$1"');
    assert.equal((await verify(server, short)).kind, 'bad_credentials');
  });

  test('async lookupHa1 and secret length check', async () => {
    const { server } = setup();
    const header = answerChallenge(server.challenges(), { username: 'alice', password, ...req });
    const r = await server.verify(header, { method: 'REGISTER', lookupHa1: async (u, r2, h) => lookupHa1(u, r2, h) });
    assert.equal(r.kind, 'ok');
    assert.throws(() => createDigestServer({ realm, secret: Buffer.alloc(8) }), RangeError);
  });
});
