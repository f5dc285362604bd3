/**
 * Issue 4, point 5 and issue 12: hardening at the SIP edge. Repeated digest failures for one
 * username from an address lock that username there (403, the address and its other users
 * keep working, then it works again); failures for many usernames from an address ban it (no
 * answer at all) until it ends or an admin lifts it; scanners get no answer; an unknown user
 * cannot be told from a wrong password by the 401.
 *
 * Small settings keep it quick: 3 failures for a username or 3 usernames within 60 s, a lock
 * lasts 2 s. Other sources are other loopback addresses (127.0.0.2...), which Linux routes to lo.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createUserSession, startTestServer, type TestServer } from '../helpers/server.ts';
import { answerChallenge } from '../../src/sip/digest-client.ts';
import type { SipMessage } from '../../src/sip/message.ts';
import { DOMAIN, PASSWORD, SipTestClient } from './sip-client.ts';
import { runSipp, sippUserRow } from '../helpers/sipp.ts';

describe('SIP hardening: bans, scanners, no user enumeration', () => {
  let t: TestServer;
  const clients: SipTestClient[] = [];
  const udp = async (local: string) => { const c = await SipTestClient.udp(t.sipPort, '127.0.0.1', local); clients.push(c); return c; };
  const status = async () => (await t.request('GET', '/api/system/status', { cookie: t.adminCookie })).body.sip;

  /** One REGISTER answered with a digest computed from `password` (the challenge is fetched first). */
  async function badAttempt(c: SipTestClient, user: string, password: string): Promise<{ challenge: SipMessage; final: SipMessage }> {
    return c.register({ user, password });
  }

  before(async () => {
    t = await startTestServer('sqlite', {
      STROWGER_SIP_BAN_FAILURES: '3', STROWGER_SIP_BAN_USERNAMES: '3', STROWGER_SIP_LOCK_SECONDS: '2', STROWGER_SIP_BAN_SECONDS: '60', STROWGER_SIP_BAN_WINDOW_SECONDS: '60',
    });
    for (const username of ['3001', '3002']) {
      const r = await t.request('POST', '/api/devices', { cookie: t.adminCookie, body: { name: 'Desk', username, password: PASSWORD } });
      assert.equal(r.status, 201);
    }
  });
  after(async () => {
    for (const c of clients) await c.close();
    await t?.close();
  });

  test('3 failed attempts for one username lock it at that address (403), other users there and the address stay open, then it works again', async () => {
    const attacker = await udp('127.0.0.2');
    const bystander = await udp('127.0.0.4');
    for (let i = 1; i <= 3; i++) {
      const { final } = await badAttempt(attacker, '3001', `wrong-${i}`);
      assert.equal(final.status, 401, `attempt ${i}`);
    }
    const lockedAt = Date.now();
    // Even the right password is refused there while the lock lasts, before and after digest.
    const first = await attacker.request({ method: 'REGISTER', user: '3001', headers: [`Contact: <sip:3001@${attacker.sentBy}>`] });
    assert.equal(first.status, 403);
    // Another device behind the same address (an office NAT) registers; the address answers.
    assert.equal((await attacker.register({ user: '3002' })).final.status, 200);
    assert.equal((await attacker.request({ method: 'OPTIONS' })).status, 200);
    assert.equal((await bystander.register({ user: '3001' })).final.status, 200);
    const s = await status();
    assert.equal(s.banned_ips, 0);
    assert.equal(s.locked_usernames, 1);
    const bans = (await t.request('GET', '/api/security/bans', { cookie: t.adminCookie })).body;
    assert.equal(bans.data.length, 1);
    const { id, created_at, expires_at, ...rest } = bans.data[0];
    assert.deepEqual(rest, { address: '127.0.0.2', username: '3001', reason: 'repeated_failures' });
    assert.equal(Date.parse(expires_at) - Date.parse(created_at), 2000);
    assert.deepEqual(bans.pagination, { total: 1, limit: 50, offset: 0 });

    await new Promise((r) => setTimeout(r, Math.max(0, 2100 - (Date.now() - lockedAt))));
    assert.equal((await attacker.register({ user: '3001' })).final.status, 200);
    assert.equal((await status()).locked_usernames, 0);
  });

  test('failures for 3 different usernames from one address ban it: silence for everyone there; DELETE /api/security/bans/{id} lifts it', async () => {
    const scanner = await udp('127.0.0.7');
    const bystander = await udp('127.0.0.8');
    for (const user of ['3001', 'admin', '100']) assert.equal((await badAttempt(scanner, user, 'guess-1')).final.status, 401, user);
    scanner.send(scanner.build({ method: 'OPTIONS' }));
    assert.equal(await scanner.silence(300), null, 'a banned address gets no answer');
    scanner.send(scanner.build({ method: 'REGISTER', user: '3002', headers: [`Contact: <sip:3002@${scanner.sentBy}>`] }));
    assert.equal(await scanner.silence(200), null, 'not even for a user that never failed');
    assert.equal((await bystander.request({ method: 'OPTIONS' })).status, 200);
    const s = await status();
    assert.equal(s.banned_ips, 1);
    assert.ok(s.counters.dropped >= 2);

    const list = (await t.request('GET', '/api/security/bans', { cookie: t.adminCookie })).body.data;
    const ban = list.find((b: any) => b.address === '127.0.0.7');
    assert.deepEqual({ username: ban.username, reason: ban.reason }, { username: null, reason: 'username_enumeration' });
    // Admin only, /api envelope.
    const anon = await t.request('DELETE', `/api/security/bans/${ban.id}`);
    assert.equal(anon.status, 401);
    const user = await createUserSession(t, 'bans-user@example.com');
    const forbidden = await t.request('GET', '/api/security/bans', { cookie: user });
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.body.error.code, 'authorization_error');
    const lifted = await t.request('DELETE', `/api/security/bans/${ban.id}`, { cookie: t.adminCookie });
    assert.deepEqual([lifted.status, lifted.body], [200, { success: true }]);
    assert.equal((await scanner.request({ method: 'OPTIONS' })).status, 200);
    const again = await t.request('DELETE', `/api/security/bans/${ban.id}`, { cookie: t.adminCookie });
    assert.deepEqual([again.status, again.body], [404, { error: { code: 'not_found', message: 'Ban not found', details: null } }]);
    assert.equal((await t.request('DELETE', '/api/security/bans/0', { cookie: t.adminCookie })).status, 400);
  });

  test('failures below the threshold do not ban; successful auth does not count', async () => {
    const c = await udp('127.0.0.5');
    for (let i = 0; i < 2; i++) assert.equal((await badAttempt(c, '3001', 'nope')).final.status, 401);
    for (let i = 0; i < 3; i++) assert.equal((await c.register({ user: '3001' })).final.status, 200);
    assert.equal((await c.request({ method: 'OPTIONS' })).status, 200);
  });

  for (const ua of ['friendly-scanner', 'sipvicious 0.3.4', 'Friendly-Scanner/1.0']) {
    test(`User-Agent: ${ua} gets no answer (OPTIONS, REGISTER, INVITE)`, async () => {
      const c = await udp('127.0.0.6');
      const before = (await status()).counters.dropped;
      const dropsBefore = (await status()).scanner_drops;
      for (const method of ['OPTIONS', 'REGISTER', 'INVITE']) {
        c.send(c.build({ method, user: '3001', headers: [`User-Agent: ${ua}`, `Contact: <sip:3001@${c.sentBy}>`] }));
      }
      assert.equal(await c.silence(300), null);
      assert.equal((await status()).counters.dropped, before + 3);
      assert.equal((await status()).scanner_drops, dropsBefore + 3);
      // The same host with an ordinary User-Agent is answered (not a ban).
      assert.equal((await c.request({ method: 'OPTIONS', headers: ['User-Agent: Yealink SIP-T46U'] })).status, 200);
    });
  }

  test('sipsak (an admin tool, not a scanner) is answered with the default scanner list', async () => {
    const c = await udp('127.0.0.6');
    const r = await c.request({ method: 'OPTIONS', headers: ['User-Agent: sipsak 0.9.8.1'] });
    assert.equal(r.status, 200);
  });

  test('unknown user and wrong password get the same 401 (header for header, except nonce and tag)', async () => {
    const c = await udp('127.0.0.3');
    const unknown = await badAttempt(c, 'no-such-user', 'whatever-pass');
    const wrong = await badAttempt(c, '3001', 'whatever-pass');
    // A first REGISTER without credentials is challenged the same way for both.
    const shape = (m: SipMessage) => ({
      status: m.status,
      reason: m.reason,
      headers: m.headerEntries()
        .filter(([k]) => !['via', 'from', 'to', 'call-id', 'cseq'].includes(k))
        .map(([k, v]) => [k, v.replace(/nonce="[^"]+"/g, 'nonce="N"')]),
      toTag: /^[0-9a-f]{12}$/.test(m.toTag ?? '') ? 'tag' : m.toTag,
    });
    assert.deepEqual(shape(unknown.final), shape(wrong.final));
    assert.deepEqual(shape(unknown.challenge), shape(wrong.challenge));
    assert.deepEqual(shape(unknown.final), shape(unknown.challenge));
    // One challenge, the default device's (MD5, issue 12): a per-device setting must not tell.
    assert.deepEqual(unknown.final.getHeaders('www-authenticate').map((v) => /algorithm=([\w-]+)/.exec(v)?.[1]), ['MD5']);
    // Same bytes apart from the per-request values: the full message, normalised, is equal too.
    const norm = (m: SipMessage, user: string) => m.toString()
      .replace(/nonce="[^"]+"/g, 'nonce="N"').replace(/;tag=[0-9a-f]+/g, ';tag=T')
      .replace(/branch=[^;\r\n]+/g, 'branch=B').replace(/^CSeq: .*$/m, 'CSeq: C').replaceAll(user, 'USER');
    assert.equal(norm(unknown.final, 'no-such-user'), norm(wrong.final, '3001'));
    // A correct answer with a nonce from a challenge still works after both.
    const auth = answerChallenge(wrong.final.getHeaders('www-authenticate'), { username: '3001', password: PASSWORD, method: 'REGISTER', uri: c.serverUri });
    const ok = await c.request({ method: 'REGISTER', user: '3001', headers: [`Contact: <sip:3001@${c.sentBy}>`, `Authorization: ${auth}`] });
    assert.equal(ok.status, 200);
  });
});

describe('SIP scanner filter configured (STROWGER_SIP_SCANNER_USER_AGENTS)', () => {
  let t: TestServer;
  before(async () => { t = await startTestServer('sqlite', { STROWGER_SIP_SCANNER_USER_AGENTS: 'EvilBot, sipsak' }); });
  after(async () => { await t?.close(); });

  test('the configured substrings are dropped and counted, the built-in list no longer applies', async () => {
    const c = await SipTestClient.udp(t.sipPort, '127.0.0.1', '127.0.0.11');
    try {
      for (const ua of ['evilbot/2.0', 'sipsak 0.9.8.1']) {
        c.send(c.build({ method: 'OPTIONS', headers: [`User-Agent: ${ua}`] }));
        assert.equal(await c.silence(200), null, ua);
      }
      assert.equal((await c.request({ method: 'OPTIONS', headers: ['User-Agent: friendly-scanner'] })).status, 200);
      const sip = (await t.request('GET', '/api/system/status', { cookie: t.adminCookie })).body.sip;
      assert.equal(sip.scanner_drops, 2);
    } finally {
      await c.close();
    }
  });
});

describe('SIP hardening with the default ban settings (issue 12)', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer('sqlite', {});
    const r = await t.request('POST', '/api/devices', { cookie: t.adminCookie, body: { name: 'Desk', username: '3001', password: PASSWORD } });
    assert.equal(r.status, 201);
  });
  after(async () => { await t?.close(); });

  test('sipp trying 20 different usernames gets its address banned (username enumeration); other addresses keep working', async () => {
    const rows = Array.from({ length: 20 }, (_, i) => sippUserRow(i === 0 ? '3001' : `guess${i}`, 'wrong-password', DOMAIN));
    const r = await runSipp({
      scenario: 'register-wrong-password.xml', target: `127.0.0.1:${t.sipPort}`, localIp: '127.0.0.9',
      injection: { rows }, calls: 20, rate: 20, limit: 20, timeoutMs: 15000, extraArgs: ['-recv_timeout', '1500'],
    });
    // Refused while the server answered, then nothing: the calls after the ban time out.
    assert.ok(r.stats.successful >= 10 && r.stats.successful < 20, `sipp: ${r.stats.successful} refused, ${r.stats.failed} failed\n${r.errors.slice(-2000)}`);
    const bans = (await t.request('GET', '/api/security/bans', { cookie: t.adminCookie })).body.data;
    assert.deepEqual(bans.map((b: any) => [b.address, b.username, b.reason]), [['127.0.0.9', null, 'username_enumeration']]);
    assert.equal(Date.parse(bans[0].expires_at) - Date.parse(bans[0].created_at), 600_000);
    const banned = await SipTestClient.udp(t.sipPort, '127.0.0.1', '127.0.0.9');
    const other = await SipTestClient.udp(t.sipPort, '127.0.0.1', '127.0.0.10');
    try {
      banned.send(banned.build({ method: 'OPTIONS' }));
      assert.equal(await banned.silence(300), null);
      assert.equal((await other.register({ user: '3001' })).final.status, 200);
    } finally {
      await banned.close();
      await other.close();
    }
  });
});
