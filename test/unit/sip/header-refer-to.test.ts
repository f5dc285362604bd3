import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  escapeUriHeaderValue,
  formatReferTo,
  parseReferTo,
  referToOfRequest,
  triggeredRequestHeaders,
} from '../../../src/sip/header-refer-to.ts';
import { formatReferredBy, parseReferredBy } from '../../../src/sip/header-referred-by.ts';
import { SipReferError } from '../../../src/sip/refer-errors.ts';
import { parseMessage } from '../../../src/sip/parse-message.ts';
import { formatUri, unescapeUri } from '../../../src/sip/uri.ts';

const isReferError = (code: string) => (e: unknown) => e instanceof SipReferError && e.code === code && e.sipStatus === 400;

describe('parseReferTo (RFC 3515 §2.1)', () => {
  test('blind transfer: RFC 5589 §6.1 style name-addr', () => {
    const r = parseReferTo('<sips:transfertarget@target.example>');
    assert.equal(formatUri(r.target), 'sips:transfertarget@target.example');
    assert.equal(r.method, 'INVITE');
    assert.equal(r.replaces, null);
    assert.deepEqual(r.headers, []);
  });

  test('addr-spec form and display name', () => {
    assert.equal(parseReferTo('sip:carol@chicago.example.com').target.user, 'carol');
    assert.equal(parseReferTo('"Carol" <sip:carol@chicago.example.com>').nameAddr.displayName, 'Carol');
  });

  test('RFC 3891 §6.1 example: escaped Replaces inside the URI', () => {
    const r = parseReferTo('<sip:alice@atlanta.example.com?Replaces=12345%40192.168.118.3%3Bto-tag%3D12345%3Bfrom-tag%3D5FFE-3994>');
    assert.deepEqual(
      { ...r.replaces, params: undefined },
      { callId: '12345@192.168.118.3', toTag: '12345', fromTag: '5FFE-3994', earlyOnly: false, params: undefined },
    );
    // The target loses its headers: the INVITE goes to sip:alice@atlanta.example.com.
    assert.equal(formatUri(r.target), 'sip:alice@atlanta.example.com');
  });

  test('RFC 5589 §7.2 attended transfer REFER', () => {
    const r = parseReferTo('<sips:transfertarget@target.example?Replaces=090459243588173445%3Bto-tag%3D7553452%3Bfrom-tag%3D31431>');
    assert.equal(r.replaces?.callId, '090459243588173445');
    assert.equal(r.replaces?.toTag, '7553452');
    assert.equal(r.replaces?.fromTag, '31431');
    assert.equal(r.target.scheme, 'sips');
  });

  test('lowercase hname, early-only, other embedded headers unescaped in order', () => {
    const r = parseReferTo('<sip:b@h?replaces=x%3Bto-tag%3D1%3Bfrom-tag%3D2%3Bearly-only&Require=replaces&Subject=hello%20there>');
    assert.equal(r.replaces?.earlyOnly, true);
    assert.deepEqual(r.headers, [['Require', 'replaces'], ['Subject', 'hello there']]);
  });

  test('method parameter (RFC 3261 §19.1.1) and header params are kept apart', () => {
    const r = parseReferTo('<sip:conf@h;method=BYE;transport=tcp>;foo=bar');
    assert.equal(r.method, 'BYE');
    assert.equal(formatUri(r.target), 'sip:conf@h;transport=tcp');
    assert.equal(r.nameAddr.params.get('foo'), 'bar');
  });

  test('triggeredRequestHeaders drops what the UA builds itself (RFC 3261 §19.1.5)', () => {
    const r = parseReferTo('<sip:b@h?Call-ID=evil&From=x&Via=y&Accept-Contact=*%3Bmobility%3D%22fixed%22&body=hi>');
    assert.deepEqual(triggeredRequestHeaders(r), [['Accept-Contact', '*;mobility="fixed"']]);
  });

  const bad: Array<[string, string, string]> = [
    ['not a URI', '<carol>', 'SIP_ERR_REFER_TO_INVALID'],
    ['unterminated <', '<sip:carol@h', 'SIP_ERR_REFER_TO_INVALID'],
    ['two values', '<sip:a@h>, <sip:b@h>', 'SIP_ERR_REFER_TO_INVALID'],
    ['malformed Replaces (no from-tag)', '<sip:b@h?Replaces=x%3Bto-tag%3D1>', 'SIP_ERR_REPLACES_INVALID'],
    ['Replaces not escaped (";" cannot follow URI headers: an error, not a silent blind transfer)', '<sip:b@h?Replaces=x;to-tag=1;from-tag=2>', 'SIP_ERR_REFER_TO_INVALID'],
    ['two Replaces', '<sip:b@h?Replaces=x%3Bto-tag%3D1%3Bfrom-tag%3D2&Replaces=y%3Bto-tag%3D1%3Bfrom-tag%3D2>', 'SIP_ERR_REPLACES_MISPLACED'],
    ['Replaces with method=BYE', '<sip:b@h;method=BYE?Replaces=x%3Bto-tag%3D1%3Bfrom-tag%3D2>', 'SIP_ERR_REPLACES_MISPLACED'],
    ['method without value', '<sip:b@h;method>', 'SIP_ERR_REFER_TO_INVALID'],
  ];
  for (const [name, text, code] of bad) test(`rejects: ${name}`, () => assert.throws(() => parseReferTo(text), isReferError(code)));
});

function refer(extra: string): ReturnType<typeof parseMessage> {
  return parseMessage(
    Buffer.from(
      'REFER sip:bob@192.0.2.4 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\nMax-Forwards: 70\r\n' +
        `From: <sip:alice@example.com>;tag=1\r\nTo: <sip:bob@example.com>;tag=2\r\nCall-ID: c1\r\nCSeq: 93809824 REFER\r\n${extra}Content-Length: 0\r\n\r\n`,
    ),
  );
}

describe('referToOfRequest (RFC 3515 §2.4.1: exactly one Refer-To, else 400)', () => {
  test('compact form r', () => assert.equal(referToOfRequest(refer('r: <sip:carol@h>\r\n')).target.user, 'carol'));
  test('missing', () => assert.throws(() => referToOfRequest(refer('')), isReferError('SIP_ERR_REFER_TO_MISSING')));
  test('two lines', () =>
    assert.throws(() => referToOfRequest(refer('Refer-To: <sip:a@h>\r\nRefer-To: <sip:b@h>\r\n')), isReferError('SIP_ERR_REFER_TO_MULTIPLE')));
  test('two values on one line', () =>
    assert.throws(() => referToOfRequest(refer('Refer-To: <sip:a@h>, <sip:b@h>\r\n')), isReferError('SIP_ERR_REFER_TO_MULTIPLE')));
});

describe('formatReferTo / escapeUriHeaderValue (RFC 3261 §19.1.1, §25.1 hvalue)', () => {
  test('rebuilds the RFC 3891 §6.1 example byte for byte', () => {
    assert.equal(
      formatReferTo({ uri: 'sip:alice@atlanta.example.com', replaces: { callId: '12345@192.168.118.3', toTag: '12345', fromTag: '5FFE-3994', earlyOnly: false } }),
      '<sip:alice@atlanta.example.com?Replaces=12345%40192.168.118.3%3Bto-tag%3D12345%3Bfrom-tag%3D5FFE-3994>',
    );
  });

  test('round-trips awkward Call-IDs and display names', () => {
    const replaces = { callId: 'a%b"e(f)@[::1]', toTag: 'x.y', fromTag: 'z~', earlyOnly: true };
    const text = formatReferTo({ uri: 'sip:bob@example.com;transport=tcp', displayName: 'Bob "B"', replaces, headers: [['Subject', 'a b&c']] });
    const r = parseReferTo(text);
    assert.deepEqual({ ...r.replaces, params: undefined }, { ...replaces, params: undefined });
    assert.deepEqual(r.headers, [['Subject', 'a b&c']]);
    assert.equal(r.nameAddr.displayName, 'Bob "B"');
    assert.equal(formatUri(r.target), 'sip:bob@example.com;transport=tcp');
  });

  const escapes: Array<[string, string]> = [
    ['a@b;to-tag=1', 'a%40b%3Bto-tag%3D1'],
    ['100%', '100%25'],
    ['x&y,z "q"', 'x%26y%2Cz%20%22q%22'],
    ['[::1]/?:+$-_.!~*\'()', '[::1]/?:+$-_.!~*\'()'],
    ['é', '%C3%A9'],
  ];
  for (const [raw, want] of escapes) {
    test(`escape ${JSON.stringify(raw)}`, () => {
      assert.equal(escapeUriHeaderValue(raw), want);
      assert.equal(unescapeUri(want), raw);
    });
  }
});

describe('Referred-By (RFC 3892 §3)', () => {
  test('RFC 5589 §6.1 style name-addr', () => {
    const rb = parseReferredBy('<sips:transferor@atlanta.example>');
    assert.equal(rb.nameAddr.uri.user, 'transferor');
    assert.equal(rb.cid, null);
  });
  test('RFC 3892 §3 example with cid', () => {
    const rb = parseReferredBy('<sip:referrer@referrer.example>;cid="20398823.2UWQFN309shb3@referrer.example"');
    assert.equal(rb.cid, '20398823.2UWQFN309shb3@referrer.example');
    assert.equal(formatReferredBy(rb), '<sip:referrer@referrer.example>;cid="20398823.2UWQFN309shb3@referrer.example"');
  });
  test('formatReferredBy adds a cid', () => {
    const rb = parseReferredBy('"Alice" <sip:alice@a.example>');
    assert.equal(formatReferredBy({ ...rb, cid: 'x@y' }), '"Alice" <sip:alice@a.example>;cid="x@y"');
  });
  const bad: Array<[string, string]> = [
    ['not a name-addr', 'alice'],
    ['cid not quoted', '<sip:a@h>;cid=x@y'],
    ['cid without @', '<sip:a@h>;cid="xy"'],
    ['cid with space', '<sip:a@h>;cid="x y@z"'],
  ];
  for (const [name, text] of bad) test(`rejects: ${name}`, () => assert.throws(() => parseReferredBy(text), isReferError('SIP_ERR_REFERRED_BY_INVALID')));
});
