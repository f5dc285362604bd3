/**
 * Issue 4, points 3 and 7: what the server answers out of dialog (RFC 3261 §11 OPTIONS,
 * §8.2.1 405/501, §8.2.2.3 420, §16.3 483) and the `sip` slot of `GET /api/system/status`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES } from '../helpers/databases.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { runSipp } from '../helpers/sipp.ts';
import { SipTestClient } from './sip-client.ts';

for (const engine of ENGINES) {
  describe(`SIP OPTIONS and request checks (${engine})`, () => {
    let t: TestServer;
    let udp: SipTestClient;
    let tcp: SipTestClient;
    // What the endpoint advertises grows as methods and extensions get handlers, so the
    // expected values come from it; the assertions check they reach the wire intact.
    let ALLOW: string;
    let SUPPORTED: string;

    before(async () => {
      t = await startTestServer(engine);
      udp = await SipTestClient.udp(t.sipPort);
      tcp = await SipTestClient.tcp(t.sipPort);
      const caps = t.server.ctx.sip!.endpoint.capabilityHeaders();
      ALLOW = caps.Allow!;
      SUPPORTED = caps.Supported!;
      assert.match(ALLOW, /^ACK, CANCEL, OPTIONS, REGISTER\b/);
      assert.equal(typeof SUPPORTED, 'string');
    });
    after(async () => {
      await udp?.close();
      await tcp?.close();
      await t?.close();
    });

    test('sipp options.xml gets 200 with Allow, Accept, Supported', async () => {
      const r = await runSipp({ scenario: 'options.xml', target: `127.0.0.1:${t.sipPort}`, calls: 1, timeoutMs: 10000 });
      assert.equal(r.exitCode, 0, r.errors + r.messages);
      assert.equal(r.stats.successful, 1);
      const reply = r.messages.slice(r.messages.indexOf('SIP/2.0 200 OK'));
      const line = (name: string) => reply.split(/\r?\n/).filter((l) => l.startsWith(`${name}:`));
      assert.deepEqual(line('Allow'), [`Allow: ${ALLOW}`]);
      assert.deepEqual(line('Accept'), ['Accept: application/sdp']);
      assert.deepEqual(line('Supported').map((l) => l.trimEnd()), [`Supported: ${SUPPORTED}`.trimEnd()]);
    });

    for (const transport of ['udp', 'tcp'] as const) {
      test(`OPTIONS over ${transport}: 200 OK with the capability headers, To tag added`, async () => {
        const c = transport === 'udp' ? udp : tcp;
        const res = await c.request({ method: 'OPTIONS', headers: ['Accept: application/sdp'] });
        assert.equal(res.status, 200);
        assert.equal(res.reason, 'OK');
        assert.equal(res.getHeaders('allow').join(', '), ALLOW);
        assert.equal(res.getHeader('accept'), 'application/sdp');
        assert.equal(res.getHeader('accept-encoding'), 'identity');
        assert.equal(res.getHeader('accept-language'), 'en');
        assert.ok(res.hasHeader('supported'));
        assert.equal(res.getHeaders('supported').join(', '), SUPPORTED);
        assert.match(res.getHeader('server') ?? '', /^Strowger\/\d+\.\d+\.\d+/);
        assert.match(res.toTag ?? '', /^[0-9a-f]{8,}$/);
        assert.equal(res.topVia?.params.get('rport'), String(c.localPort));
      });
    }

    test('an unknown method gets 501 with Allow', async () => {
      const res = await udp.request({ method: 'FROBNICATE' });
      assert.deepEqual([res.status, res.reason, res.getHeaders('allow').join(', '), res.cseq.method], [501, 'Not Implemented', ALLOW, 'FROBNICATE']);
    });

    for (const method of ['PUBLISH', 'MESSAGE']) {
      test(`a known but unhandled method (${method}) gets 405 with Allow`, async () => {
        const res = await udp.request({ method });
        assert.deepEqual([res.status, res.reason, res.getHeaders('allow').join(', ')], [405, 'Method Not Allowed', ALLOW]);
      });
    }

    test('SUBSCRIBE for an event package we do not serve gets 489 with Allow-Events (RFC 6665 §8.2.2)', async () => {
      assert.match(ALLOW, /\bSUBSCRIBE\b/);
      const res = await udp.request({ method: 'SUBSCRIBE', headers: ['Event: presence', 'Expires: 60'] });
      assert.deepEqual([res.status, res.reason, res.getHeader('allow-events')], [489, 'Bad Event', 'message-summary']);
    });

    test('Require: foo gets 420 with Unsupported: foo; a supported tag passes', async () => {
      const res = await udp.request({ method: 'OPTIONS', headers: ['Require: foo'] });
      assert.deepEqual([res.status, res.reason, res.getHeader('unsupported')], [420, 'Bad Extension', 'foo']);
      const both = await udp.request({ method: 'OPTIONS', headers: ['Require: foo, Baz', 'Proxy-Require: bar'] });
      assert.deepEqual([both.status, both.getHeaders('unsupported').join(', ')], [420, 'foo, baz, bar']);
      for (const tag of SUPPORTED.split(', ').filter(Boolean)) {
        assert.equal((await udp.request({ method: 'OPTIONS', headers: [`Require: ${tag}`] })).status, 200, tag);
      }
    });

    test('Max-Forwards: 0 gets 483 except for OPTIONS and REGISTER, which are for us', async () => {
      for (const method of ['SUBSCRIBE', 'FROBNICATE', 'INVITE']) {
        const res = await udp.request({ method, maxForwards: 0, ...(method === 'INVITE' ? { uri: 'sip:1001@strowger.test', headers: ['Contact: <sip:probe@127.0.0.1:5099>'] } : {}) });
        assert.deepEqual([method, res.status, res.reason], [method, 483, 'Too Many Hops']);
      }
      assert.equal((await udp.request({ method: 'OPTIONS', maxForwards: 0 })).status, 200);
      assert.equal((await udp.request({ method: 'REGISTER', user: 'nobody', maxForwards: 0, headers: ['Contact: <sip:nobody@127.0.0.1:5099>'] })).status, 401);
      assert.equal((await udp.request({ method: 'PUBLISH', maxForwards: 1 })).status, 405);
    });

    test('a merged request (§8.2.2.2): the same INVITE on a second branch while the first is in progress gets 482', async () => {
      const first = udp.build({ method: 'INVITE', uri: 'sip:1001@strowger.test', callId: `merged-${Date.now()}@test`, cseq: 1, headers: ['Contact: <sip:probe@127.0.0.1:5099>'] });
      udp.send(first);
      // Answered (not ACKed): its transaction waits for the ACK, so the request is in progress.
      assert.ok((await udp.reply()).msg.status >= 300);
      udp.send(first.replace(/branch=z9hG4bK\w+/, 'branch=z9hG4bKmergedcopy'));
      const copy = (await udp.reply()).msg;
      assert.deepEqual([copy.status, copy.reason], [482, 'Loop Detected']);
      // Another CSeq is another request.
      udp.send(first.replace(/branch=z9hG4bK\w+/, 'branch=z9hG4bKnextcseq').replace('CSeq: 1 INVITE', 'CSeq: 2 INVITE'));
      assert.notEqual((await udp.reply()).msg.status, 482);
    });

    test('an unknown Request-URI scheme gets 416', async () => {
      const res = await udp.request({ method: 'OPTIONS', uri: 'mailto:someone@example.com' });
      assert.deepEqual([res.status, res.reason], [416, 'Unsupported URI Scheme']);
    });

    test('GET /api/system/status has a filled sip slot', async () => {
      const r = await t.request('GET', '/api/system/status', { cookie: t.adminCookie });
      assert.equal(r.status, 200);
      const sip = r.body.sip;
      assert.equal(sip.status, 'running');
      assert.equal(sip.domain, 'strowger.test');
      assert.deepEqual(sip.transports, [
        { protocol: 'udp', address: '127.0.0.1', port: t.sipPort },
        { protocol: 'tcp', address: '127.0.0.1', port: t.sipPort },
      ]);
      assert.equal(sip.registrations, 0);
      // Non-INVITE server transactions linger in Completed for Timer J (64*T1 over UDP).
      assert.equal(typeof sip.transactions, 'number');
      assert.ok(sip.transactions >= 10, `transactions ${sip.transactions}`);
      assert.equal(sip.connections, 1);
      assert.equal(sip.banned_ips, 0);
      assert.equal(sip.counters.handlerErrors, 0);
      assert.ok(sip.counters.received >= 15);
      assert.equal(sip.counters.serverCreated, sip.counters.received);
    });
  });
}

describe('Server header on SIP responses (STROWGER_SIP_SERVER_HEADER, issue 12)', () => {
  /** One response of each kind: a handler's (OPTIONS 200), the registrar's 401, a stateless 400. */
  async function serverHeaders(env: Record<string, string>): Promise<{ version: string; values: string[][] }> {
    const t = await startTestServer('sqlite', env);
    const c = await SipTestClient.udp(t.sipPort);
    try {
      const options = await c.request({ method: 'OPTIONS' });
      const challenge = await c.request({ method: 'REGISTER', user: 'nobody', headers: ['Contact: <sip:nobody@127.0.0.1:5099>'] });
      assert.equal(challenge.status, 401);
      // A Via without a branch's transport: the endpoint's stateless 400 (validate-request).
      c.send(c.build({ method: 'OPTIONS' }).replace(/^CSeq: .*$/m, 'CSeq: 1 INVITE'));
      const bad = (await c.reply()).msg;
      assert.equal(bad.status, 400);
      return { version: t.server.ctx.version, values: [options, challenge, bad].map((m) => m.getHeaders('server')) };
    } finally {
      await c.close();
      await t.close();
    }
  }

  test('default: Strowger/<version> on every response, once', async () => {
    const { version, values } = await serverHeaders({});
    assert.deepEqual(values, [[`Strowger/${version}`], [`Strowger/${version}`], [`Strowger/${version}`]]);
  });

  test('configured value, and empty omits the header', async () => {
    assert.deepEqual((await serverHeaders({ STROWGER_SIP_SERVER_HEADER: 'Acme PBX 7' })).values, [['Acme PBX 7'], ['Acme PBX 7'], ['Acme PBX 7']]);
    assert.deepEqual((await serverHeaders({ STROWGER_SIP_SERVER_HEADER: '' })).values, [[], [], []]);
  });
});

describe('RFC 5118 IPv6 references in the Request-URI (RFC 5954 §4.1)', () => {
  let t: TestServer;
  let c: SipTestClient;
  before(async () => {
    t = await startTestServer('sqlite');
    c = await SipTestClient.udp(t.sipPort);
  });
  after(async () => {
    await c?.close();
    await t?.close();
  });

  const cases: Array<[string, string, number]> = [
    ['§4.8 ipv6-bug-abnf-3-colons', 'sip:[2001:db8:::192.0.2.1]', 400],
    ['three colons in a row', 'sip:[2001:db8:::10:5070]', 400],
    ['§4.9 ipv6-correct-abnf-2-colons', 'sip:[2001:db8::192.0.2.1]', 200],
    ['§4.3 port-ambiguous', 'sip:[2001:db8::10:5070]', 200],
    ['§4.4 port-unambiguous', 'sip:[2001:db8::10]:5070', 200],
  ];
  for (const [name, uri, status] of cases) {
    test(`OPTIONS ${uri} (${name}) gets ${status}`, async () => {
      const res = await c.request({ method: 'OPTIONS', uri });
      assert.equal(res.status, status, `${res.status} ${res.reason}`);
    });
  }
});
