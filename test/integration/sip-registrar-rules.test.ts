/**
 * Issue 4, points 1 (SHA-256, WebSocket) and 2: registrar rules checked with our own client
 * over raw sockets, so every header is under the test's control: one challenge per 401 by the
 * device's `digest_algorithm` (issue 12; `both` in RFC 8760 §2.4 order, SHA-256 first), 423 + Min-Expires (RFC 3261 §10.3 step 7), several contacts
 * ordered by q, RFC 5626 instance/reg-id, the source address kept for NAT, and WS (RFC 7118).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { getFreePort } from '../helpers/sipp.ts';
import { PASSWORD, SipTestClient } from './sip-client.ts';
import { answerChallenge } from '../../src/sip/digest-client.ts';
import type { SipMessage } from '../../src/sip/message.ts';

const nonceOf = (m: SipMessage) => /nonce="([^"]+)"/.exec(m.getHeader('www-authenticate') ?? '')?.[1];

describe('SIP registrar rules (raw UDP and WebSocket clients)', () => {
  let t: TestServer;
  let wsPort: number;
  const clients: SipTestClient[] = [];
  const udp = async () => { const c = await SipTestClient.udp(t.sipPort); clients.push(c); return c; };
  const registrations = async (user: string) => (await t.request('GET', '/api/devices/registrations', { cookie: t.adminCookie })).body.data
    .filter((r: any) => r.username === user);

  before(async () => {
    wsPort = await getFreePort('tcp');
    t = await startTestServer('sqlite', { STROWGER_SIP_WS_PORT: String(wsPort) });
    const algorithms: Record<string, string> = { '2005': 'SHA-256', '2006': 'SHA-256', '2007': 'both' };
    for (const username of ['2001', '2002', '2003', '2004', '2005', '2006', '2007', '2008']) {
      const digest_algorithm = algorithms[username];
      const r = await t.request('POST', '/api/devices', { cookie: t.adminCookie, body: { name: `Phone ${username}`, username, password: PASSWORD, ...(digest_algorithm ? { digest_algorithm } : {}) } });
      assert.equal(r.status, 201);
    }
  });
  after(async () => {
    for (const c of clients) await c.close();
    await t?.close();
  });

  test('a device with the default setting gets one MD5 challenge (issue 12) and registers with it', async () => {
    const c = await udp();
    const { challenge, final } = await c.register({ user: '2001', headers: ['Expires: 600'] });
    const offers = challenge.getHeaders('www-authenticate');
    assert.equal(offers.length, 1);
    assert.match(offers[0]!, /^Digest realm="strowger\.test", nonce="([^"]+)", algorithm=MD5, qop="auth"$/);
    assert.equal(final.status, 200);
    assert.deepEqual(final.getHeaders('contact'), [`<sip:2001@${c.sentBy};transport=udp>;expires=600`]);
    const rows = await registrations('2001');
    assert.equal(rows.length, 1);
    assert.equal(rows[0].expires_in, 600);
  });

  test('a SHA-256 device gets only a SHA-256 challenge, registers with it, and an MD5 answer is refused', async () => {
    const c = await udp();
    const { challenge, final } = await c.register({ user: '2005' });
    assert.deepEqual(challenge.getHeaders('www-authenticate').map((v) => /algorithm=([\w-]+)/.exec(v)?.[1]), ['SHA-256']);
    assert.equal(final.status, 200);
    // The right password hashed with MD5 over the same nonce: the device is set to SHA-256.
    const md5 = challenge.getHeaders('www-authenticate')[0]!.replace('algorithm=SHA-256', 'algorithm=MD5');
    const auth = answerChallenge([md5], { username: '2005', password: PASSWORD, method: 'REGISTER', uri: c.serverUri });
    const refused = await c.request({ method: 'REGISTER', user: '2005', headers: [`Contact: <sip:2005@${c.sentBy}>`, `Authorization: ${auth}`] });
    assert.equal(refused.status, 401);
    assert.deepEqual(refused.getHeaders('www-authenticate').map((v) => /algorithm=([\w-]+)/.exec(v)?.[1]), ['SHA-256']);
  });

  test('a device set to both gets SHA-256 then MD5 (STROWGER_SIP_DIGEST_ALGORITHMS order), one nonce; MD5 works too', async () => {
    const c = await udp();
    const { challenge, final } = await c.register({ user: '2007', algorithm: 'MD5' });
    const offers = challenge.getHeaders('www-authenticate');
    assert.equal(offers.length, 2);
    const sha = /^Digest realm="strowger\.test", nonce="([^"]+)", algorithm=SHA-256, qop="auth"$/.exec(offers[0]!);
    const md5 = /^Digest realm="strowger\.test", nonce="([^"]+)", algorithm=MD5, qop="auth"$/.exec(offers[1]!);
    assert.ok(sha && md5 && sha[1] === md5[1], offers.join('\n'));
    assert.equal(final.status, 200);
  });

  test('an unknown user gets the default challenge, like a device that exists', async () => {
    const c = await udp();
    const r = await c.request({ method: 'REGISTER', user: 'nobody-here', headers: [`Contact: <sip:nobody-here@${c.sentBy}>`] });
    assert.equal(r.status, 401);
    assert.deepEqual(r.getHeaders('www-authenticate').map((v) => v.replace(/nonce="[^"]+"/, '')), [
      'Digest realm="strowger.test", , algorithm=MD5, qop="auth"',
    ]);
  });

  test('a REGISTER without credentials is challenged without a transaction once the device is cached: the same 401, anew for a retransmission', async () => {
    const c = await udp();
    const counted = () => t.server.ctx.sip!.endpoint.counters.stateless;
    const spec = { method: 'REGISTER', user: '2008', headers: [`Contact: <sip:2008@${c.sentBy}>`] };
    // 2008 has never registered: its credentials are read first, through a transaction.
    const before = counted();
    const first = c.build(spec);
    c.send(first);
    const stateful = await c.reply();
    assert.equal(counted(), before);
    // Cached now: answered at once, with no transaction. Its retransmission is challenged anew.
    const second = c.build(spec);
    c.send(second);
    const stateless = await c.reply();
    assert.equal(counted(), before + 1);
    c.send(second);
    const again = await c.reply();
    assert.equal(counted(), before + 2);
    assert.equal(stateless.msg.status, 401);
    assert.notEqual(again.msg.toTag, stateless.msg.toTag);
    assert.notEqual(nonceOf(again.msg), nonceOf(stateless.msg));
    // Byte for byte the 401 of the stateful path, but for what is the request's own or random.
    const shape = (r: { raw: Buffer }) => r.raw.toString('latin1')
      .replace(/^(Via|From|CSeq): .*$/gm, '$1: (request)').replace(/;tag=[^\r;]+/g, ';tag=(ours)').replace(/nonce="[^"]+"/, 'nonce=(fresh)');
    assert.equal(shape(stateless), shape(stateful));
    assert.match(stateless.raw.toString('latin1'), /\r\nVia: SIP\/2\.0\/UDP [^\r]*;rport=\d+;received=127\.0\.0\.1\r\n/);
    assert.match(stateless.raw.toString('latin1'), /\r\nWWW-Authenticate: Digest realm="strowger\.test", nonce="[^"]+", algorithm=MD5, qop="auth"\r\n/);
    // The checks the stateful path makes first still come first: an unknown extension is 420.
    const required = await c.request({ ...spec, headers: [...spec.headers, 'Require: no-such-extension'] });
    assert.equal(required.status, 420);
    assert.equal(required.getHeader('unsupported'), 'no-such-extension');
    assert.equal(counted(), before + 2);
    // And the challenge works.
    assert.equal((await c.register({ user: '2008' })).final.status, 200);
  });

  test('too short an Expires gets 423 with Min-Expires and no binding; too long is capped', async () => {
    const c = await udp();
    const { final } = await c.register({ user: '2002', headers: ['Expires: 30'] });
    assert.equal(final.status, 423);
    assert.equal(final.reason, 'Interval Too Brief');
    assert.equal(final.getHeader('min-expires'), '60');
    assert.deepEqual(await registrations('2002'), []);
    // A contact parameter wins over the header (§10.2.1.1), and it is checked too.
    const p = await c.register({ user: '2002', contact: `<sip:2002@${c.sentBy}>;expires=5`, headers: ['Expires: 3600'] });
    assert.equal(p.final.status, 423);
    const long = await c.register({ user: '2002', headers: ['Expires: 999999'] });
    assert.equal(long.final.status, 200);
    assert.deepEqual(long.final.getHeaders('contact'), [`<sip:2002@${c.sentBy};transport=udp>;expires=7200`]);
  });

  test('several contacts per AOR come back in the 200 ordered by q (highest first)', async () => {
    const c = await udp();
    const contact = '<sip:2003@127.0.0.1:5071>;q=0.5, <sip:2003@127.0.0.1:5072>;q=0.9';
    const { final } = await c.register({ user: '2003', contact, headers: ['Contact: <sip:2003@127.0.0.1:5073>', 'Expires: 300'] });
    assert.equal(final.status, 200);
    assert.deepEqual(final.getHeaders('contact'), [
      '<sip:2003@127.0.0.1:5073>;expires=300',
      '<sip:2003@127.0.0.1:5072>;q=0.9;expires=300',
      '<sip:2003@127.0.0.1:5071>;q=0.5;expires=300',
    ]);
    assert.deepEqual((await registrations('2003')).map((r: any) => [r.contact, r.q]), [
      ['sip:2003@127.0.0.1:5073', 1], ['sip:2003@127.0.0.1:5072', 0.9], ['sip:2003@127.0.0.1:5071', 0.5],
    ]);
    // A query (no Contact) lists the same bindings without changing them (§10.3 step 8).
    const query = await c.register({ user: '2003', contact: '' });
    assert.equal(query.final.status, 200);
    assert.deepEqual(query.final.getHeaders('contact').map((v) => v.replace(/;expires=\d+$/, '')), [
      '<sip:2003@127.0.0.1:5073>', '<sip:2003@127.0.0.1:5072>;q=0.9', '<sip:2003@127.0.0.1:5071>;q=0.5',
    ]);
    // Removing one contact (expires=0) leaves the others.
    const drop = await c.register({ user: '2003', contact: '<sip:2003@127.0.0.1:5072>;expires=0' });
    assert.equal(drop.final.status, 200);
    assert.deepEqual((await registrations('2003')).map((r: any) => r.contact), ['sip:2003@127.0.0.1:5073', 'sip:2003@127.0.0.1:5071']);
  });

  test('+sip.instance and reg-id are kept (RFC 5626): API instance_id; a new flow of the same instance replaces the old', async () => {
    const c = await udp();
    const instance = '"<urn:uuid:00000000-0000-1000-8000-000a95a0e128>"';
    const first = await c.register({ user: '2004', contact: `<sip:2004@192.0.2.1:5060;ob>;+sip.instance=${instance};reg-id=1`, headers: ['Supported: outbound, path'] });
    assert.equal(first.final.status, 200);
    assert.deepEqual(first.final.getHeaders('contact'), [`<sip:2004@192.0.2.1:5060;ob>;+sip.instance=${instance};reg-id=1;expires=3600`]);
    // Same instance and reg-id, new Contact URI (the device moved): one binding, the new URI.
    const moved = await c.register({ user: '2004', contact: `<sip:2004@192.0.2.2:5060;ob>;+sip.instance=${instance};reg-id=1` });
    assert.equal(moved.final.status, 200);
    const rows = await registrations('2004');
    assert.deepEqual(rows.map((r: any) => [r.contact, r.instance_id]), [['sip:2004@192.0.2.2:5060;ob', '<urn:uuid:00000000-0000-1000-8000-000a95a0e128>']]);
  });

  test('NAT: a Contact of 10.0.0.99:5060 from 127.0.0.1:<port> keeps the real source for routing back', async () => {
    const c = await udp();
    await c.register({ user: '2001', contact: '*', headers: ['Expires: 0'] }).catch(() => {});
    const { final } = await c.register({ user: '2001', contact: '<sip:2001@10.0.0.99:5060>', headers: ['Expires: 120'] });
    assert.equal(final.status, 200);
    // The Via of the answer says where the request really came from (RFC 3581 §4).
    // RFC 3581 §4: received is added even when it equals the sent-by host.
    assert.equal(final.topVia?.params.get('received'), '127.0.0.1');
    assert.equal(final.topVia?.params.get('rport'), String(c.localPort));
    const rows = await registrations('2001');
    assert.deepEqual(rows.map((r: any) => [r.contact, r.transport, r.source_ip, r.source_port]), [['sip:2001@10.0.0.99:5060', 'udp', '127.0.0.1', c.localPort]]);
    // The location service hands out the flow, not the private Contact.
    const binding = t.server.ctx.sip!.location.lookup('2001')[0]!;
    assert.deepEqual([binding.sourceIp, binding.sourcePort, binding.transport], ['127.0.0.1', c.localPort, 'udp']);
  });

  test('a Via that lies about the sender gets received= and rport= filled in', async () => {
    const c = await udp();
    c.send(c.build({ method: 'OPTIONS', viaSentBy: '10.0.0.99:5060' }));
    const { msg } = await c.reply();
    assert.equal(msg.status, 200);
    assert.equal(msg.topVia?.host, '10.0.0.99');
    assert.equal(msg.topVia?.params.get('received'), '127.0.0.1');
    assert.equal(msg.topVia?.params.get('rport'), String(c.localPort));
  });

  test('30 REGISTERs at once (group commit): all 200, each binding in the database', async () => {
    const users = Array.from({ length: 30 }, (_, i) => String(2100 + i));
    for (const username of users) {
      assert.equal((await t.request('POST', '/api/devices', { cookie: t.adminCookie, body: { name: `Burst ${username}`, username, password: PASSWORD } })).status, 201);
    }
    const burst = await Promise.all(users.map(async (user) => { const c = await udp(); return [user, c] as const; }));
    const finals = await Promise.all(burst.map(([user, c]) => c.register({ user, headers: ['Expires: 900'] })));
    assert.deepEqual(finals.map((f) => f.final.status), users.map(() => 200));
    const rows = await t.server.ctx.store.db.selectFrom('registrations').select(['aor', 'source_port']).where('aor', 'in', users).orderBy('aor').execute();
    assert.deepEqual(rows.map((r) => [r.aor, r.source_port]), burst.map(([user, c]) => [user, c.localPort]));
  });

  test('a WebSocket client (subprotocol sip) registers with digest (SHA-256)', async () => {
    const c = await SipTestClient.ws(wsPort);
    clients.push(c);
    const contact = '<sip:ws-2006@df7jal23ls0d.invalid;transport=ws>;+sip.instance="<urn:uuid:11111111-2222-3333-4444-555555555555>";reg-id=1';
    const { challenge, final } = await c.register({ user: '2006', contact, headers: ['Expires: 300'] });
    assert.match(challenge.getHeaders('www-authenticate')[0]!, /algorithm=SHA-256/);
    assert.equal(final.status, 200);
    assert.deepEqual(final.getHeaders('contact'), [`${contact};expires=300`]);
    assert.deepEqual((await registrations('2006')).map((r: any) => [r.contact, r.transport, r.source_ip, r.source_port, r.instance_id]), [
      ['sip:ws-2006@df7jal23ls0d.invalid;transport=ws', 'ws', '127.0.0.1', c.localPort, '<urn:uuid:11111111-2222-3333-4444-555555555555>'],
    ]);
  });
});
