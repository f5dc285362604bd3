import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SipParseError } from '../../../src/sip/errors.ts';
import { parseMessage } from '../../../src/sip/parse-message.ts';

const crlf = (lines: string[]) => Buffer.from(lines.join('\r\n'));

const OPTIONS = [
  'OPTIONS sip:bob@example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK74bf9;rport',
  'Max-Forwards: 70',
  'To: <sip:bob@example.com>',
  'From: "Alice" <sip:alice@example.com>;tag=9fxced76sl',
  'Call-ID: 3848276298220188511@192.0.2.1',
  'CSeq: 63104 OPTIONS',
  'Content-Length: 0',
  '',
  '',
];

function parseError(buf: Buffer): SipParseError {
  try {
    parseMessage(buf);
  } catch (err) {
    if (err instanceof SipParseError) return err;
    throw err;
  }
  assert.fail('expected a SipParseError');
}

describe('parseMessage: start line (RFC 3261 §7.1, §7.2)', () => {
  test('request', () => {
    const m = parseMessage(crlf(OPTIONS));
    assert.equal(m.isRequest, true);
    assert.equal(m.method, 'OPTIONS');
    assert.equal(m.requestUriText, 'sip:bob@example.com');
    assert.equal(m.version, 'SIP/2.0');
    assert.equal(m.status, 0);
  });

  test('response with reason phrase containing spaces', () => {
    const m = parseMessage(crlf(['SIP/2.0 486 Busy Here', 'Via: SIP/2.0/UDP h;branch=z9hG4bK1', 'Content-Length: 0', '', '']));
    assert.equal(m.isRequest, false);
    assert.equal(m.status, 486);
    assert.equal(m.reason, 'Busy Here');
    assert.equal(m.method, '');
  });

  test('leading CRLFs are skipped (§7.5)', () => {
    const m = parseMessage(Buffer.concat([Buffer.from('\r\n\r\n'), crlf(OPTIONS)]));
    assert.equal(m.method, 'OPTIONS');
    assert.equal(m.raw?.subarray(0, 7).toString(), 'OPTIONS');
  });

  const badLines: Array<[string, string, boolean]> = [
    ['two spaces', 'OPTIONS  sip:a@b SIP/2.0', true],
    ['missing version', 'OPTIONS sip:a@b', false],
    ['<> around URI', 'OPTIONS <sip:a@b> SIP/2.0', true],
    ['bad method', 'OPT@IONS sip:a@b SIP/2.0', true],
    ['status code 2 digits', 'SIP/2.0 20 OK', false],
    ['status code 700', 'SIP/2.0 700 Huh', false],
    ['garbage', '\u0001\u0002\u0003', false],
  ];
  for (const [why, line, isRequest] of badLines) {
    test(`rejects ${why}`, () => {
      const err = parseError(crlf([line, ...OPTIONS.slice(1)]));
      assert.equal(err.isRequest, isRequest);
      assert.match(err.code, /^SIP_ERR_PARSE_(START_LINE|STATUS_CODE)$/);
      if (isRequest) assert.deepEqual(err.replyHeaders?.via, ['SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK74bf9;rport']);
      else assert.equal(err.replyHeaders, null);
    });
  }
});

describe('parseMessage: headers (§7.3)', () => {
  test('compact forms are normalised to full names (§7.3.3)', () => {
    const compact = 'i:1|m:<sip:a@b>|e:gzip|l:0|c:text/plain|f:<sip:a@b>;tag=1|s:hi|k:timer|t:<sip:b@c>|v:SIP/2.0/UDP h;branch=z9hG4bK1|o:presence|u:dialog|r:<sip:x@y>|b:<sip:z@y>|x:1800';
    const lines = ['MESSAGE sip:b@c SIP/2.0', ...compact.split('|'), '', ''];
    const m = parseMessage(crlf(lines));
    assert.deepEqual(
      m.headerEntries().map(([k]) => k),
      ['call-id', 'contact', 'content-encoding', 'content-length', 'content-type', 'from', 'subject', 'supported', 'to', 'via', 'event', 'allow-events', 'refer-to', 'referred-by', 'session-expires'],
    );
    assert.equal(m.getHeader('Session-Expires'), '1800');
    assert.equal(m.getHeader('x'), '1800');
    assert.equal(m.callId, '1');
  });

  test('names are case-insensitive, with optional whitespace before the colon', () => {
    const m = parseMessage(crlf(['OPTIONS sip:a@b SIP/2.0', 'cAlL-iD  :   abc  ', 'X-Custom\t: v', '', '']));
    assert.equal(m.getHeader('Call-ID'), 'abc');
    assert.equal(m.getHeader('x-custom'), 'v');
  });

  test('line folding joins with one SP (§7.3.1)', () => {
    const m = parseMessage(crlf(['OPTIONS sip:a@b SIP/2.0', 'Subject: first', ' \t second', '\tthird', 'CSeq: 1', '  OPTIONS', '', '']));
    assert.equal(m.getHeader('subject'), 'first second third');
    assert.deepEqual(m.cseq, { seq: 1, method: 'OPTIONS' });
  });

  test('list headers split outside quotes and <>; auth and Date are not split', () => {
    const m = parseMessage(
      crlf([
        'OPTIONS sip:a@b SIP/2.0',
        'Contact: "Doe, John" <sip:j@h;x=1,y>, <sip:k@h>;q=0.5',
        'Contact: sip:l@h',
        'Route: <sip:p1;lr>,<sip:p2;lr>',
        'Authorization: Digest username="a,b", realm="r", nonce="n"',
        'Date: Sat, 13 Nov 2010 23:29:00 GMT',
        'Subject: a, b',
        '',
        '',
      ]),
    );
    assert.deepEqual(m.getHeaders('contact'), ['"Doe, John" <sip:j@h;x=1,y>', '<sip:k@h>;q=0.5', 'sip:l@h']);
    assert.deepEqual(m.getHeaders('route'), ['<sip:p1;lr>', '<sip:p2;lr>']);
    assert.deepEqual(m.getHeaders('authorization'), ['Digest username="a,b", realm="r", nonce="n"']);
    assert.deepEqual(m.getHeaders('date'), ['Sat, 13 Nov 2010 23:29:00 GMT']);
    assert.equal(m.getHeader('subject'), 'a, b');
    assert.equal(m.getHeader('contact'), '"Doe, John" <sip:j@h;x=1,y>');
  });

  test('header line without colon: 400 with salvaged headers', () => {
    const err = parseError(crlf([...OPTIONS.slice(0, 3), 'this is not a header', ...OPTIONS.slice(3)]));
    assert.equal(err.code, 'SIP_ERR_PARSE_HEADER_LINE');
    assert.equal(err.isRequest, true);
    assert.equal(err.sipStatus, 400);
    assert.deepEqual(err.replyHeaders, {
      via: ['SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK74bf9;rport'],
      from: '"Alice" <sip:alice@example.com>;tag=9fxced76sl',
      to: '<sip:bob@example.com>',
      callId: '3848276298220188511@192.0.2.1',
      cseq: '63104 OPTIONS',
    });
  });

  test('bare LF line ends are accepted', () => {
    const m = parseMessage(Buffer.from(`${OPTIONS.slice(0, -3).join('\n')}\nContent-Length: 4\n\nbody`));
    assert.equal(m.callId, '3848276298220188511@192.0.2.1');
    assert.equal(m.body.toString(), 'body');
  });

  test('no empty line after headers is an error', () => {
    assert.equal(parseError(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n')).code, 'SIP_ERR_PARSE_NO_HEADER_END');
  });

  test('CRLF-only keep-alive is EMPTY', () => {
    assert.equal(parseError(Buffer.from('\r\n\r\n')).code, 'SIP_ERR_PARSE_EMPTY');
  });
});

describe('parseMessage: body framing (§18.3, §20.14)', () => {
  const head = (cl: string | null) => [...OPTIONS.slice(0, 7), ...(cl === null ? [] : [`Content-Length: ${cl}`]), 'Content-Type: text/plain', '', ''].join('\r\n');

  test('Content-Length bounds the body; trailing datagram octets are ignored', () => {
    const buf = Buffer.from(`${head('5')}hello<garbage>`);
    const m = parseMessage(buf);
    assert.equal(m.body.toString(), 'hello');
    assert.equal(m.raw?.length, buf.length - '<garbage>'.length);
    assert.equal(m.contentLength, 5);
  });

  test('without Content-Length the body is the rest of the datagram', () => {
    assert.equal(parseMessage(Buffer.from(`${head(null)}hello`)).body.toString(), 'hello');
  });

  test('binary body kept byte for byte', () => {
    const bin = Buffer.from([0, 0xff, 0x0d, 0x0a, 0x0d, 0x0a, 0x80]);
    const m = parseMessage(Buffer.concat([Buffer.from(head('7')), bin]));
    assert.deepEqual([...m.body], [...bin]);
  });

  const bad: Array<[string, string, string]> = [
    ['larger than the datagram', '10', 'SIP_ERR_PARSE_CONTENT_LENGTH_EXCEEDS'],
    ['negative', '-1', 'SIP_ERR_PARSE_CONTENT_LENGTH'],
    ['not a number', '5x', 'SIP_ERR_PARSE_CONTENT_LENGTH'],
    ['absurd', '99999999999', 'SIP_ERR_PARSE_CONTENT_LENGTH'],
  ];
  for (const [why, cl, code] of bad) {
    test(`Content-Length ${why}`, () => {
      const err = parseError(Buffer.from(`${head(cl)}hello`));
      assert.equal(err.code, code);
      assert.equal(err.isRequest, true);
    });
  }

  test('two Content-Length headers', () => {
    const err = parseError(Buffer.from(`${head('5').replace('Content-Type', 'Content-Length: 5\r\nContent-Type')}hello`));
    assert.equal(err.code, 'SIP_ERR_PARSE_CONTENT_LENGTH_MULTIPLE');
  });

  test('maximum size (default 64 KiB, configurable)', () => {
    const big = Buffer.from(`${head('70000')}${'x'.repeat(70000)}`);
    const err = parseError(big);
    assert.equal(err.code, 'SIP_ERR_PARSE_TOO_LARGE');
    assert.equal(err.isRequest, true);
    assert.equal(parseMessage(big, { maxSize: 100000 }).body.length, 70000);
  });
});

describe('parseMessage: raw bytes', () => {
  test('unmodified message re-sends the identical bytes', () => {
    const buf = crlf(OPTIONS);
    const m = parseMessage(buf);
    void m.via;
    void m.from;
    assert.equal(m.toBuffer().equals(buf), true);
    assert.equal(m.raw?.buffer, buf.buffer);
  });

  test('a mutation drops the raw bytes', () => {
    const m = parseMessage(crlf(OPTIONS));
    m.setHeader('Max-Forwards', '69');
    assert.equal(m.raw, null);
    assert.equal(m.toString(), crlf(OPTIONS).toString().replace('Max-Forwards: 70', 'Max-Forwards: 69'));
  });
});
