/**
 * Issue 4, point 5: hardening at the SIP edge. Repeated digest failures from one IP ban it
 * (no answer at all, then answers again after the ban), scanners get no answer, and an
 * unknown user cannot be told from a wrong password by the 401.
 *
 * Small ban settings keep it quick: 3 failures within 60 s, banned for 2 s. Other sources
 * are other loopback addresses (127.0.0.2...), which Linux routes to lo.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { answerChallenge } from '../../src/sip/digest-client.ts';
import type { SipMessage } from '../../src/sip/message.ts';
import { PASSWORD, SipTestClient } from './sip-client.ts';

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
    t = await startTestServer('sqlite', { STROWGER_SIP_BAN_FAILURES: '3', STROWGER_SIP_BAN_SECONDS: '2', STROWGER_SIP_BAN_WINDOW_SECONDS: '60' });
    const r = await t.request('POST', '/api/devices', { cookie: t.adminCookie, body: { name: 'Desk', username: '3001', password: PASSWORD } });
    assert.equal(r.status, 201);
  });
  after(async () => {
    for (const c of clients) await c.close();
    await t?.close();
  });

  test('3 failed digest attempts ban the source: silence for 2 s, others unaffected, then answers resume', async () => {
    const attacker = await udp('127.0.0.2');
    const bystander = await udp('127.0.0.4');
    for (let i = 1; i <= 3; i++) {
      const { final } = await badAttempt(attacker, '3001', `wrong-${i}`);
      assert.equal(final.status, 401, `attempt ${i}`);
    }
    const bannedAt = Date.now();
    attacker.send(attacker.build({ method: 'OPTIONS' }));
    assert.equal(await attacker.silence(300), null, 'a banned source gets no answer');
    // Even a correct REGISTER is ignored while banned.
    attacker.send(attacker.build({ method: 'REGISTER', user: '3001', headers: [`Contact: <sip:3001@${attacker.sentBy}>`] }));
    assert.equal(await attacker.silence(200), null);
    assert.equal((await bystander.request({ method: 'OPTIONS' })).status, 200);
    const s = await status();
    assert.equal(s.banned_ips, 1);
    assert.ok(s.counters.dropped >= 2);

    await new Promise((r) => setTimeout(r, Math.max(0, 2100 - (Date.now() - bannedAt))));
    assert.equal((await attacker.request({ method: 'OPTIONS' })).status, 200);
    const { final } = await attacker.register({ user: '3001' });
    assert.equal(final.status, 200);
    assert.equal((await status()).banned_ips, 0);
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
      for (const method of ['OPTIONS', 'REGISTER', 'INVITE']) {
        c.send(c.build({ method, user: '3001', headers: [`User-Agent: ${ua}`, `Contact: <sip:3001@${c.sentBy}>`] }));
      }
      assert.equal(await c.silence(300), null);
      assert.equal((await status()).counters.dropped, before + 3);
      // The same host with an ordinary User-Agent is answered (not a ban).
      assert.equal((await c.request({ method: 'OPTIONS', headers: ['User-Agent: Yealink SIP-T46U'] })).status, 200);
    });
  }

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
