/**
 * The shedding fast path (issue 12, "Overload control"): the 503 built from a request's bytes
 * is byte for byte the full path's (RFC 3261 §8.2.6.2: Via, From, To + tag, Call-ID, CSeq;
 * §21.5.4 Retry-After), and whatever the full parser would refuse (400) or drop is left to it,
 * so the endpoint's wire bytes are the same with and without the fast path.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { shedResponse, SHED_TAG_PREFIX, triage } from '../../../src/sip/overload-fast-path.ts';
import { parseMessage } from '../../../src/sip/parse-message.ts';
import { createResponse } from '../../../src/sip/message-build.ts';
import { OverloadControl } from '../../../src/sip/overload-control.ts';
import { SipEndpoint } from '../../../src/sip/endpoint.ts';
import type { TransportLayer } from '../../../src/sip/transport-layer.ts';

const req = (...lines: string[]) => Buffer.from([...lines, '', ''].join('\r\n'));

const INVITE = [
  'INVITE sip:+15551239000@192.0.2.1 SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.10:5061;branch=z9hG4bK-1-0;rport',
  'v: SIP/2.0/UDP 192.0.2.11;branch=z9hG4bKa , SIP/2.0/TCP 192.0.2.12:5070;branch=z9hG4bKb',
  'Max-Forwards: 70',
  'f: "Alice" <sip:alice@192.0.2.10>;tag=42',
  'TO :  <sip:+15551239000@192.0.2.1>  ',
  'i: 1-2345@192.0.2.10',
  'CSEQ: 1 INVITE',
  'Contact: <sip:alice@192.0.2.10:5061>',
  'User-Agent: bench',
  'Content-Type: application/sdp',
  'l: 4',
];

describe('shedResponse', () => {
  test('wire bytes: status line, every Via line in order, From, To + our tag, Call-ID, CSeq, Retry-After, Server, Content-Length 0', () => {
    const t = triage(Buffer.concat([req(...INVITE), Buffer.from('v=0\n')]));
    assert.equal(t?.kind, 'new');
    assert.ok(t?.kind === 'new');
    assert.equal(shedResponse(t.req, 5, 'Strowger/1.0', 'shed.abc').toString('latin1'), [
      'SIP/2.0 503 Service Unavailable',
      'Via: SIP/2.0/UDP 192.0.2.10:5061;branch=z9hG4bK-1-0;rport',
      'Via: SIP/2.0/UDP 192.0.2.11;branch=z9hG4bKa , SIP/2.0/TCP 192.0.2.12:5070;branch=z9hG4bKb',
      'From: "Alice" <sip:alice@192.0.2.10>;tag=42',
      'To: <sip:+15551239000@192.0.2.1>;tag=shed.abc',
      'Call-ID: 1-2345@192.0.2.10',
      'CSeq: 1 INVITE',
      'Retry-After: 5',
      'Server: Strowger/1.0',
      'Content-Length: 0',
      '', '',
    ].join('\r\n'));
    assert.equal(t.req.getHeader('user-agent'), 'bench', 'the filter reads headers as on a parsed message');
    assert.equal(t.req.getHeader('subject'), null);
    assert.match(shedResponse(t.req, 5, '').toString(), new RegExp(`;tag=${SHED_TAG_PREFIX.replace('.', '\\.')}[0-9a-f]{12}\\r\\n`), 'a fresh shed tag by default');
  });

  const variants: Array<[string, Buffer]> = [
    ['INVITE as above', req(...INVITE.slice(0, -1))],
    ['REGISTER, full names, no Server', req('REGISTER sip:example.test SIP/2.0', 'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKr1', 'From: <sip:100@example.test>;tag=a', 'To: <sip:100@example.test>', 'Call-ID: r1', 'CSeq: 7 REGISTER', 'Contact: <sip:100@192.0.2.10>', 'Content-Length: 0')],
    ['tabs around the colon, IPv6 Via', req('INVITE sips:bob@example.test SIP/2.0', 'Via\t:\tSIP/2.0/TLS [2001:db8::1]:5061;branch=z9hG4bKx', 'From: sip:a@example.test;tag=1', 'To: sip:bob@example.test', 'Call-ID: x', 'CSeq: 1 INVITE')],
  ];
  for (const [name, buf] of variants) {
    test(`same bytes as createResponse + serialize: ${name}`, () => {
      const t = triage(buf);
      assert.ok(t?.kind === 'new', name);
      const full = createResponse(parseMessage(buf), 503, 'Service Unavailable', { headers: { 'Retry-After': '7' }, toTag: 'T1' });
      const server = name.includes('no Server') ? '' : 'Strowger/2';
      if (server !== '') full.addHeader('Server', server);
      assert.equal(shedResponse(t.req, 7, server, 'T1').toString('latin1'), full.toBuffer().toString('latin1'));
    });
  }
});

describe('triage leaves to the full parser what it would refuse or treat otherwise', () => {
  const base = INVITE.slice(0, -1);
  const without = (name: string) => base.filter((l) => !l.toLowerCase().startsWith(name));
  const cases: Array<[string, Buffer]> = [
    ['folded header line', req(...base.slice(0, 4), ' continued', ...base.slice(4))],
    ['bare LF line ends', Buffer.from([...base, '', ''].join('\n'))],
    ['Content-Length larger than the datagram', req(...base, 'Content-Length: 500')],
    ['two Content-Length', req(...base, 'Content-Length: 0', 'l: 0')],
    ['Content-Length not a number', req(...base, 'Content-Length: 1x')],
    ['two To headers', req(...base, 'To: <sip:x@example.test>')],
    ['no Call-ID', req(...without('i:'))],
    ['no Via', req(...base.filter((l) => !/^(via|v):/i.test(l)))],
    ['header name not a token', req(...base, 'Bad(Name): 1')],
    ['header line without a colon', req(...base, 'NoColon')],
    ['To already tagged (in a dialog)', req(...without('to '), 'To: <sip:+15551239000@192.0.2.1>;tag=9')],
    ['unbalanced To', req(...without('to '), 'To: <sip:+15551239000@192.0.2.1')],
    ['malformed second Via', req(...base, 'Via: SIP/2.0/UDP')],
    ['RFC 2543 branch', req(base[0]!, 'Via: SIP/2.0/UDP 192.0.2.10:5061;branch=old1', ...base.slice(3))],
    ['non-ASCII in a header', req(...base, 'Subject: caf\u00e9')],
    ['two spaces in the Request-Line', req('INVITE  sip:a@b SIP/2.0', ...base.slice(1))],
    ['no SIP version', req('INVITE sip:a@b', ...base.slice(1))],
    ['lower-case method (another method)', req('invite sip:a@b SIP/2.0', ...base.slice(1))],
    ['BYE', req('BYE sip:a@b SIP/2.0', ...base.slice(1))],
    ['a response', req('SIP/2.0 200 OK', ...base.slice(1))],
    ['an ACK with a To tag of another kind', req('ACK sip:a@b SIP/2.0', ...without('to ').slice(1), 'To: <sip:a@b>;tag=abc')],
  ];
  for (const [name, buf] of cases) test(name, () => assert.equal(triage(buf), null));

  test('a request carrying Authorization (any case) is marked; one without, or with Proxy-Authorization only, is not (as the full path decides)', () => {
    for (const [h, marked] of [[undefined, false], ['Authorization: Digest username="a"', true], ['aUTHORIZATION: Digest username="a"', true], ['Proxy-Authorization: Digest username="a"', false]] as const) {
      const t = triage(req(...INVITE.slice(0, -2), ...(h === undefined ? [] : [h])));
      assert.ok(t?.kind === 'new', h);
      assert.equal(t.req.credentials, marked, h);
    }
  });

  test('the ACK of a shed 503 is recognised by its To tag', () => {
    assert.deepEqual(triage(req('ACK sip:a@b SIP/2.0', ...without('to ').slice(1), `To: <sip:a@b>;tag=${SHED_TAG_PREFIX}0123`)), { kind: 'shed-ack' });
  });

  test('through the endpoint: with every INVITE shed, malformed ones still get the full path\'s 400 or drop, good ones the fast 503', () => {
    const run = (fast: boolean) => {
      const sent: string[] = [];
      const transports = { onMessage: undefined, send: async (_t: unknown, data: Buffer) => { sent.push(data.toString('latin1')); } } as unknown as TransportLayer;
      const overload = new OverloadControl({ maxShare: 1, smoothing: 1, gain: 100, targetUtilization: 0.5, maxLagMs: 0 });
      overload.update({ utilization: 1, lagMs: 0 });
      const endpoint = new SipEndpoint({ transports, advertise: () => ({ host: '192.0.2.1', port: 5060 }), overload, server: 'S', overloadFastPath: fast });
      endpoint.onRequest('INVITE', () => { /* never reached while shedding */ });
      const good = [req(...base), req('REGISTER sip:example.test SIP/2.0', 'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKr1', 'From: <sip:100@example.test>;tag=a', 'To: <sip:100@example.test>', 'Call-ID: r1', 'CSeq: 7 REGISTER')];
      const ack = req('ACK sip:a@b SIP/2.0', ...without('to ').slice(1), `To: <sip:a@b>;tag=${SHED_TAG_PREFIX}0123`);
      for (const buf of [...cases.map(([, b]) => b), ...good, ack]) endpoint.receive(buf, { protocol: 'udp', remoteAddress: '192.0.2.10', remotePort: 5061, localAddress: '192.0.2.1', localPort: 5060 });
      endpoint.close();
      return { sent: sent.map((s) => s.replace(/;tag=shed\.[0-9a-f]+/g, ';tag=shed.X').replace(/;tag=[0-9a-f]{12}\r/g, ';tag=X\r')), counters: overload.counters };
    };
    const fast = run(true);
    const full = run(false);
    assert.deepEqual(fast.sent, full.sent);
    assert.deepEqual(fast.counters, full.counters);
    assert.ok(full.sent.filter((s) => s.startsWith('SIP/2.0 400')).length >= 10, 'the full path answered most of them 400');
    assert.ok(full.sent.filter((s) => s.startsWith('SIP/2.0 503')).length >= 3, 'and shed the good ones (and folded lines, shed before validation)');
  });

  test('a request the fast path lets through is not asked about twice: at a 25 % share exactly every fourth new INVITE is shed', () => {
    const sent: string[] = [];
    const transports = { onMessage: undefined, send: async (_t: unknown, data: Buffer) => { sent.push(data.toString('latin1')); } } as unknown as TransportLayer;
    const overload = new OverloadControl({ targetUtilization: 0.9, gain: 2.5, smoothing: 1, maxShare: 1, maxLagMs: 0 });
    overload.update({ utilization: 1, lagMs: 0 }); // share 0.25
    const endpoint = new SipEndpoint({ transports, advertise: () => ({ host: '192.0.2.1', port: 5060 }), overload });
    let taken = 0;
    endpoint.onRequest('INVITE', (r) => { taken++; r.reply(486, 'Busy Here'); });
    for (let i = 0; i < 8; i++) {
      const lines = base.map((l) => l.replace('z9hG4bK-1-0', `z9hG4bK-q${i}`).replace('1-2345@', `q${i}@`));
      endpoint.receive(req(...lines), { protocol: 'udp', remoteAddress: '192.0.2.10', remotePort: 5061, localAddress: '192.0.2.1', localPort: 5060 });
    }
    endpoint.close();
    assert.equal(taken, 6);
    assert.equal(overload.counters.rejected, 2);
    assert.equal(sent.filter((s) => s.startsWith('SIP/2.0 503')).length, 2);
  });
});
