import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SipParseError } from '../../../src/sip/errors.ts';
import { createRequest, createResponse, createResponseFromReplyHeaders } from '../../../src/sip/message-build.ts';
import { reasonPhrase } from '../../../src/sip/message-reasons.ts';
import { formatNameAddr, parseNameAddr, parseVia, formatVia } from '../../../src/sip/message.ts';
import type { SipMessage } from '../../../src/sip/message.ts';
import { parseMessage } from '../../../src/sip/parse-message.ts';
import { serialize } from '../../../src/sip/serialize.ts';
import { validateRequest } from '../../../src/sip/validate-request.ts';

const INVITE = [
  'INVITE sip:bob@biloxi.example.com SIP/2.0',
  'v: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9',
  'Via: SIP/2.0/UDP [2001:db8::1];branch=z9hG4bK11;received=2001:db8::9;rport=5070, SIP/2.0/UDP p.example.com;branch=z9hG4bK22',
  'Max-Forwards: 70',
  'Record-Route: <sip:p.example.com;lr>',
  'f: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl',
  't: Bob <sip:bob@biloxi.example.com>',
  'i: 3848276298220188511@atlanta.example.com',
  'CSeq: 2 INVITE',
  'Timestamp: 54',
  'm: <sip:alice@client.atlanta.example.com;transport=tcp>;expires=60;+sip.instance="<urn:uuid:1>"',
  'c: application/sdp',
  'l: 4',
  '',
  'v=0\n',
].join('\r\n');

const parse = (s: string) => parseMessage(Buffer.from(s));

describe('SipMessage structured accessors', () => {
  test('Via list with IPv6, received, rport', () => {
    const m = parse(INVITE);
    assert.deepEqual(
      m.via.map((v) => [v.transport, v.host, v.port, v.branch, v.received, v.rport, v.hasRport]),
      [
        ['TCP', 'client.atlanta.example.com', 5060, 'z9hG4bK74bf9', null, null, false],
        ['UDP', '2001:db8::1', null, 'z9hG4bK11', '2001:db8::9', 5070, true],
        ['UDP', 'p.example.com', null, 'z9hG4bK22', null, null, false],
      ],
    );
    assert.equal(m.topVia?.branch, 'z9hG4bK74bf9');
  });

  test('From, To, Call-ID, CSeq, Contact, Content-Type', () => {
    const m = parse(INVITE);
    assert.equal(m.from.displayName, 'Alice');
    assert.equal(m.fromTag, '9fxced76sl');
    assert.equal(m.toTag, null);
    assert.equal(m.to.uri.user, 'bob');
    assert.equal(m.callId, '3848276298220188511@atlanta.example.com');
    assert.deepEqual(m.cseq, { seq: 2, method: 'INVITE' });
    assert.equal(m.maxForwards, 70);
    assert.equal(m.expires, null);
    const c = m.contacts;
    assert.ok(c !== '*');
    assert.equal(c[0].params.get('expires'), '60');
    assert.equal(c[0].params.get('+sip.instance'), '"<urn:uuid:1>"');
    assert.equal(m.contentType, 'application/sdp');
    assert.equal(m.body.toString(), 'v=0\n');
    assert.equal(m.recordRoute[0].uri.params.has('lr'), true);
  });

  test('Contact: * (REGISTER wildcard)', () => {
    const m = parse('REGISTER sip:r SIP/2.0\r\nContact: *\r\nExpires: 0\r\n\r\n');
    assert.equal(m.contacts, '*');
    assert.equal(m.expires, 0);
  });

  test('hasSeveralValues counts lines and comma-separated values as getHeaders does', () => {
    const m = parse('OPTIONS sip:a@b SIP/2.0\r\nTo: <sip:a@b>\r\nFrom: "Smith, J" <sip:j@b>;tag=1\r\nCall-ID: x\r\nCall-ID: y\r\nCSeq: 1 OPTIONS, 2 OPTIONS\r\nX-Note: a, b\r\n\r\n');
    assert.equal(m.hasSeveralValues('to'), false);
    assert.equal(m.hasSeveralValues('from'), false, 'a comma inside quotes does not split');
    assert.equal(m.hasSeveralValues('call-id'), true, 'two lines');
    assert.equal(m.hasSeveralValues('cseq'), true, 'two values on one line');
    assert.equal(m.hasSeveralValues('X-Note'), false, 'not a list header: one value');
    assert.equal(m.hasSeveralValues('expires'), false, 'absent');
    for (const h of ['to', 'from', 'call-id', 'cseq', 'x-note', 'expires']) assert.equal(m.hasSeveralValues(h), m.getHeaders(h).length > 1, h);
  });

  test('parameters: a URI or name-addr without any shares a read-only empty map', () => {
    const m = parse(INVITE);
    assert.equal(m.to.params.size, 0);
    assert.equal(m.to.uri.headers.size, 0);
    assert.equal(m.to.params, m.requestUri.params, 'one shared instance');
    assert.throws(() => m.to.params.set('tag', 'x'), TypeError);
    assert.throws(() => m.requestUri.headers.set('a', 'b'), TypeError);
    const copy = new Map(m.to.params);
    copy.set('tag', 'x');
    assert.equal(copy.get('tag'), 'x');
    assert.equal(m.contacts !== '*' && m.contacts[0]!.uri.params.get('transport'), 'tcp', 'URIs with parameters get their own map');
  });

  test('structured views are cached until a mutation', () => {
    const m = parse(INVITE);
    assert.equal(m.via, m.via);
    const before = m.via;
    m.addHeader('Via', 'SIP/2.0/UDP proxy.example.com;branch=z9hG4bKnew', { first: true });
    assert.notEqual(m.via, before);
    assert.equal(m.via.length, 4);
    assert.equal(m.via[0].host, 'proxy.example.com');
  });

  test('missing mandatory header throws a coded error with 400 context', () => {
    const m = parse('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n');
    assert.throws(
      () => m.from,
      (e: unknown) => e instanceof SipParseError && e.code === 'SIP_ERR_PARSE_MISSING_HEADER' && e.isRequest && e.replyHeaders?.via[0] === 'SIP/2.0/UDP h;branch=z9hG4bK1',
    );
  });
});

describe('SipMessage header mutation', () => {
  test('setHeader keeps the position, addHeader appends after same name, removeHeader', () => {
    const m = parse(INVITE);
    m.setHeader('Max-Forwards', '69');
    m.addHeader('Record-Route', '<sip:q.example.com;lr>');
    m.addHeader('Record-Route', '<sip:me.example.com;lr>', { first: true });
    m.addHeader('X-Trace', 'abc');
    assert.equal(m.removeHeader('Timestamp'), 1);
    assert.deepEqual(
      m.headerEntries().map(([k]) => k),
      ['via', 'via', 'max-forwards', 'record-route', 'record-route', 'record-route', 'from', 'to', 'call-id', 'cseq', 'contact', 'content-type', 'content-length', 'x-trace'],
    );
    assert.deepEqual(m.getHeaders('record-route'), ['<sip:me.example.com;lr>', '<sip:p.example.com;lr>', '<sip:q.example.com;lr>']);
    assert.equal(m.maxForwards, 69);
  });

  test('removeFirstHeaderValue splits combined lines (drop top Via)', () => {
    const m = parse(INVITE);
    assert.equal(m.removeFirstHeaderValue('via'), 'SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9');
    assert.equal(m.removeFirstHeaderValue('v'), 'SIP/2.0/UDP [2001:db8::1];branch=z9hG4bK11;received=2001:db8::9;rport=5070');
    assert.deepEqual(m.getHeaders('via'), ['SIP/2.0/UDP p.example.com;branch=z9hG4bK22']);
    assert.equal(m.removeFirstHeaderValue('route'), null);
  });

  test('setVia writes back a modified top Via (received/rport, §18.2.1, RFC 3581)', () => {
    const m = parse('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport\r\n\r\n');
    const vias = m.via;
    vias[0].params.set('received', '192.0.2.7');
    vias[0].params.set('rport', '40000');
    m.setVia(vias);
    assert.equal(m.getHeader('via'), 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport=40000;received=192.0.2.7');
  });

  test('setBody updates Content-Type and Content-Length on output', () => {
    const m = parse(INVITE);
    m.setBody('hello', 'text/plain');
    const out = serialize(m).toString();
    assert.match(out, /\r\nContent-Type: text\/plain\r\n/);
    assert.match(out, /\r\nContent-Length: 5\r\n\r\nhello$/);
  });

  test('requestUri setter', () => {
    const m = parse(INVITE);
    const uri = m.requestUri;
    uri.host = '192.0.2.99';
    m.requestUri = uri;
    assert.equal(serialize(m).toString().split('\r\n')[0], 'INVITE sip:bob@192.0.2.99 SIP/2.0');
  });
});

describe('serialize', () => {
  test('canonical names, compact forms expanded, exact bytes', () => {
    const m = parse(INVITE);
    m.setHeader('Max-Forwards', '69');
    assert.equal(
      serialize(m).toString(),
      [
        'INVITE sip:bob@biloxi.example.com SIP/2.0',
        'Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9',
        'Via: SIP/2.0/UDP [2001:db8::1];branch=z9hG4bK11;received=2001:db8::9;rport=5070, SIP/2.0/UDP p.example.com;branch=z9hG4bK22',
        'Max-Forwards: 69',
        'Record-Route: <sip:p.example.com;lr>',
        'From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl',
        'To: Bob <sip:bob@biloxi.example.com>',
        'Call-ID: 3848276298220188511@atlanta.example.com',
        'CSeq: 2 INVITE',
        'Timestamp: 54',
        'Contact: <sip:alice@client.atlanta.example.com;transport=tcp>;expires=60;+sip.instance="<urn:uuid:1>"',
        'Content-Type: application/sdp',
        'Content-Length: 4',
        '',
        'v=0\n',
      ].join('\r\n'),
    );
  });
});

describe('createRequest / createResponse (§8.1.1, §8.2.6)', () => {
  test('createRequest exact bytes', () => {
    const req = createRequest({
      method: 'MESSAGE',
      uri: 'sip:bob@example.com',
      via: [parseVia('SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc;rport')],
      from: parseNameAddr('"A" <sip:alice@example.com>;tag=t1'),
      to: '<sip:bob@example.com>',
      callId: 'c1',
      cseq: 7,
      contact: '<sip:alice@192.0.2.1:5060>',
      headers: [['User-Agent', 'Strowger']],
      body: 'hi',
      contentType: 'text/plain',
    });
    assert.equal(
      req.toString(),
      'MESSAGE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc;rport\r\nMax-Forwards: 70\r\n' +
        'To: <sip:bob@example.com>\r\nFrom: "A" <sip:alice@example.com>;tag=t1\r\nCall-ID: c1\r\nCSeq: 7 MESSAGE\r\n' +
        'Contact: <sip:alice@192.0.2.1:5060>\r\nUser-Agent: Strowger\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi',
    );
    assert.equal(validateRequest(parseMessage(req.toBuffer())), null);
  });

  test('200 to INVITE: Vias in order, To tag added, Record-Route copied', () => {
    const res = createResponse(parse(INVITE), 200, undefined, { toTag: 'b0b', contentType: 'application/sdp', body: 'v=0\r\n' });
    assert.equal(
      res.toString(),
      'SIP/2.0 200 OK\r\n' +
        'Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9\r\n' +
        'Via: SIP/2.0/UDP [2001:db8::1];branch=z9hG4bK11;received=2001:db8::9;rport=5070, SIP/2.0/UDP p.example.com;branch=z9hG4bK22\r\n' +
        'From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\nTo: Bob <sip:bob@biloxi.example.com>;tag=b0b\r\n' +
        'Call-ID: 3848276298220188511@atlanta.example.com\r\nCSeq: 2 INVITE\r\nRecord-Route: <sip:p.example.com;lr>\r\n' +
        'Content-Type: application/sdp\r\nContent-Length: 5\r\n\r\nv=0\r\n',
    );
  });

  test('100 Trying: no To tag, no Record-Route, Timestamp copied', () => {
    const res = createResponse(parse(INVITE), 100);
    assert.equal(res.reason, 'Trying');
    assert.equal(res.toTag, null);
    assert.equal(res.hasHeader('record-route'), false);
    assert.equal(res.getHeader('timestamp'), '54');
  });

  test('existing To tag is kept; random tag otherwise', () => {
    const inDialog = parse(INVITE.replace('t: Bob <sip:bob@biloxi.example.com>', 't: <sip:bob@biloxi.example.com>;tag=x1'));
    assert.equal(createResponse(inDialog, 486).toTag, 'x1');
    assert.match(createResponse(parse(INVITE), 486).toTag ?? '', /^[0-9a-f]{12}$/);
    assert.equal(createResponse(parse(INVITE), 486).reason, 'Busy Here');
  });

  test('400 from salvaged headers of an unparseable request', () => {
    let err: SipParseError | null = null;
    try {
      parse(INVITE.replace('l: 4', 'l: 400'));
    } catch (e) {
      err = e as SipParseError;
    }
    assert.ok(err?.replyHeaders);
    const res = createResponseFromReplyHeaders(err.replyHeaders, 400, undefined, 'z');
    assert.equal(
      res?.toString(),
      'SIP/2.0 400 Bad Request\r\nVia: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9\r\n' +
        'Via: SIP/2.0/UDP [2001:db8::1];branch=z9hG4bK11;received=2001:db8::9;rport=5070, SIP/2.0/UDP p.example.com;branch=z9hG4bK22\r\n' +
        'From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\nTo: Bob <sip:bob@biloxi.example.com>;tag=z\r\n' +
        'Call-ID: 3848276298220188511@atlanta.example.com\r\nCSeq: 2 INVITE\r\nContent-Length: 0\r\n\r\n',
    );
  });

  test('reason phrases', () => {
    assert.deepEqual([100, 180, 183, 202, 302, 401, 407, 481, 487, 488, 503, 603, 299, 499, 699].map(reasonPhrase), [
      'Trying', 'Ringing', 'Session Progress', 'Accepted', 'Moved Temporarily', 'Unauthorized',
      'Proxy Authentication Required', 'Call/Transaction Does Not Exist', 'Request Terminated',
      'Not Acceptable Here', 'Service Unavailable', 'Decline', 'Success', 'Client Error', 'Global Failure',
    ]);
  });
});

describe('validateRequest (§8.2, §16.3)', () => {
  const base = [
    'OPTIONS sip:bob@example.com SIP/2.0',
    'Via: SIP/2.0/UDP h;branch=z9hG4bK1',
    'To: <sip:bob@example.com>',
    'From: <sip:a@example.com>;tag=1',
    'Call-ID: c',
    'CSeq: 1 OPTIONS',
  ];
  const msg = (lines: string[]) => parseMessage(Buffer.from(`${lines.join('\r\n')}\r\n\r\n`));
  const cases: Array<[string, string[], string | null]> = [
    ['valid without Max-Forwards', base, null],
    ['Max-Forwards 0 is valid', [...base, 'Max-Forwards: 0'], null],
    ['Max-Forwards 256', [...base, 'Max-Forwards: 256'], '400 SIP_ERR_PARSE_MAX_FORWARDS'],
    ['Expires 2**32', [...base, 'Expires: 4294967296'], '400 SIP_ERR_PARSE_EXPIRES'],
    ['Expires 2**32-1', [...base, 'Expires: 4294967295'], null],
    ['CSeq 2**31', [...base.slice(0, 5), 'CSeq: 2147483648 OPTIONS'], '400 SIP_ERR_PARSE_CSEQ'],
    ['CSeq 2**31-1', [...base.slice(0, 5), 'CSeq: 2147483647 OPTIONS'], null],
    ['missing Via', base.filter((l) => !l.startsWith('Via')), '400 SIP_ERR_VALIDATE_MISSING_HEADER'],
    ['missing Call-ID', base.filter((l) => !l.startsWith('Call-ID')), '400 SIP_ERR_VALIDATE_MISSING_HEADER'],
    ['two Call-IDs', [...base, 'Call-ID: d'], '400 SIP_ERR_VALIDATE_MULTIPLE_VALUES'],
    ['two To values in one line', [...base.slice(0, 2), 'To: <sip:a@b>, <sip:c@d>', ...base.slice(3)], '400 SIP_ERR_VALIDATE_MULTIPLE_VALUES'],
    ['CSeq method mismatch', [...base.slice(0, 5), 'CSeq: 1 INVITE'], '400 SIP_ERR_VALIDATE_CSEQ_METHOD'],
    ['SIP/3.0', [base[0].replace('2.0', '3.0'), ...base.slice(1)], '505 SIP_ERR_VALIDATE_VERSION'],
    ['bad Contact', [...base, 'Contact: <sip:a@b'], '400 SIP_ERR_PARSE_NAME_ADDR'],
    ['headers in Request-URI', [base[0].replace('example.com', 'example.com?Route=x'), ...base.slice(1)], '400 SIP_ERR_VALIDATE_RURI_HEADERS'],
    ['unknown Request-URI scheme is the core\'s business', [base[0].replace('sip:bob@example.com', 'im:bob@example.com'), ...base.slice(1)], null],
  ];
  for (const [why, lines, expected] of cases) {
    test(why, () => {
      const v = validateRequest(msg(lines));
      assert.equal(v === null ? null : `${v.status} ${v.code}`, expected);
    });
  }
});

describe('round trip: parse(serialize(parse(x))) keeps every structured field', () => {
  const dir = fileURLToPath(new URL('../../fixtures/rfc4475/', import.meta.url));
  const valid = readFileSync(`${dir}MANIFEST.tsv`, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0 && !l.startsWith('#'))
    .map((l) => l.split('\t'))
    .filter((c) => c[3] === 'ok')
    .map((c): [string, Buffer] => [c[0], readFileSync(dir + c[0])]);
  const handWritten: Array<[string, Buffer]> = [
    ['INVITE (compact, IPv6, combined Via)', Buffer.from(INVITE)],
    ['REGISTER with Contact *', Buffer.from('REGISTER sip:r SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:a@r>\r\nFrom: <sip:a@r>;tag=1\r\nCall-ID: x\r\nCSeq: 3 REGISTER\r\nContact: *\r\nExpires: 0\r\nl: 0\r\n\r\n')],
  ];

  const view = (m: SipMessage) => ({
    isRequest: m.isRequest,
    method: m.method,
    requestUri: m.isRequest ? m.requestUri : null,
    status: m.status,
    reason: m.reason,
    via: m.via.map((v) => ({ ...v, text: formatVia(v) })),
    from: m.from,
    to: m.to,
    fromText: formatNameAddr(m.from),
    callId: m.callId,
    cseq: m.cseq,
    maxForwards: m.maxForwards,
    contacts: m.contacts,
    contentType: m.contentType,
    headers: m.headerEntries().filter(([k]) => k !== 'content-length'),
    body: m.body.toString('latin1'),
  });

  for (const [name, buf] of [...valid, ...handWritten]) {
    test(name, () => {
      const first = parseMessage(buf);
      const again = parseMessage(serialize(first));
      assert.deepEqual(view(again), view(first));
      assert.equal(serialize(again).equals(serialize(first)), true);
    });
  }
});
