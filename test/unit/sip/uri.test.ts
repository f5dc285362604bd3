import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SipParseError } from '../../../src/sip/errors.ts';
import { formatUri, parseUri, unescapeUri, uriEquals } from '../../../src/sip/uri.ts';

describe('parseUri (RFC 3261 §19.1, RFC 5118, RFC 3966)', () => {
  test('full sip URI', () => {
    const u = parseUri('sip:alice:secret@Atlanta.COM:5070;transport=TCP;lr?Subject=hi&Priority=urgent');
    assert.deepEqual(
      { ...u, params: [...u.params], headers: [...u.headers] },
      {
        scheme: 'sip',
        user: 'alice',
        password: 'secret',
        host: 'atlanta.com',
        port: 5070,
        params: [['transport', 'TCP'], ['lr', null]],
        headers: [['Subject', 'hi'], ['Priority', 'urgent']],
        opaque: null,
      },
    );
  });

  test('sips, no user, IPv4', () => {
    const u = parseUri('SIPS:192.0.2.4');
    assert.equal(u.scheme, 'sips');
    assert.equal(u.user, null);
    assert.equal(u.host, '192.0.2.4');
    assert.equal(u.port, null);
  });

  test('IPv6 reference (RFC 5118 §4.1)', () => {
    const u = parseUri('sip:[2001:DB8::9:1]:5060;maddr=[2001:db8::9:255]');
    assert.equal(u.host, '2001:db8::9:1');
    assert.equal(u.port, 5060);
    assert.equal(u.params.get('maddr'), '[2001:db8::9:255]');
    assert.equal(formatUri(u), 'sip:[2001:db8::9:1]:5060;maddr=[2001:db8::9:255]');
  });

  // RFC 5118 §4 request-URIs; §4.8 is invalid since RFC 5954 §4.1 fixed RFC 3261's IPv6 ABNF.
  const rfc5118: Array<[string, string, string | null]> = [
    ['§4.1 ipv6-good', 'sip:[2001:db8::10]', '2001:db8::10'],
    ['§4.3 port-ambiguous (an address, no port)', 'sip:[2001:db8::10:5070]', '2001:db8::10:5070'],
    ['§4.4 port-unambiguous', 'sip:[2001:db8::10]:5070', '2001:db8::10'],
    ['§4.7 IPv4-mapped', 'sip:[::ffff:192.0.2.10]', '::ffff:192.0.2.10'],
    ['§4.9 ipv6-correct-abnf-2-colons', 'sip:[2001:db8::192.0.2.1]', '2001:db8::192.0.2.1'],
    ['§4.8 ipv6-bug-abnf-3-colons', 'sip:[2001:db8:::192.0.2.1]', null],
    ['three colons, no IPv4 part', 'sip:[2001:db8:::10:5070]', null],
    ['two "::"', 'sip:[2001::db8::10]', null],
    ['a group of five hex digits', 'sip:[2001:db8::10000]', null],
    ['nine groups', 'sip:[1:2:3:4:5:6:7:8:9]', null],
    ['IPv4 part out of range', 'sip:[::ffff:192.0.2.256]', null],
    ['zone id', 'sip:[fe80::1%25eth0]', null],
    ['not IPv6 at all', 'sip:[example.com]', null],
    ['§4.2 ipv6-bad (no brackets)', 'sip:2001:db8::10', null],
  ];
  for (const [name, uri, host] of rfc5118) {
    test(`RFC 5118 ${name}: ${uri} ${host === null ? 'is refused' : 'parses'}`, () => {
      if (host === null) assert.throws(() => parseUri(uri), SipParseError);
      else assert.equal(parseUri(uri).host, host);
    });
  }

  test('tel URI (RFC 3966)', () => {
    const u = parseUri('tel:+1-201-555-0123;phone-context=example.com');
    assert.equal(u.scheme, 'tel');
    assert.equal(u.user, '+1-201-555-0123');
    assert.equal(u.params.get('phone-context'), 'example.com');
    assert.equal(formatUri(u), 'tel:+1-201-555-0123;phone-context=example.com');
  });

  test('unknown scheme kept opaque', () => {
    const u = parseUri('urn:service:sos');
    assert.deepEqual([u.scheme, u.opaque], ['urn', 'service:sos']);
    assert.equal(formatUri(u), 'urn:service:sos');
  });

  test('user=phone and escapes', () => {
    const u = parseUri('sip:+1%20212@gw.example.com;user=phone');
    assert.equal(u.user, '+1 212');
    assert.equal(u.params.get('user'), 'phone');
    assert.equal(formatUri(u), 'sip:+1%20212@gw.example.com;user=phone');
  });

  const bad: Array<[string, string]> = [
    ['no scheme', 'alice@example.com'],
    ['empty host', 'sip:alice@'],
    ['space in URI', 'sip:alice@example.com; lr'],
    ['empty param', 'sip:example.com;;lr'],
    ['port too big', 'sip:example.com:70000'],
    ['unterminated IPv6', 'sip:[::1'],
    ['leading space', ' sip:a@b'],
    ['empty tel', 'tel:'],
  ];
  for (const [why, text] of bad) {
    test(`rejects ${why}: ${JSON.stringify(text)}`, () => {
      assert.throws(() => parseUri(text), (e: unknown) => e instanceof SipParseError && e.code === 'SIP_ERR_PARSE_URI');
    });
  }
});

describe('formatUri', () => {
  test('canonical form escapes what the grammar requires', () => {
    assert.equal(formatUri(parseUri('SIP:%61lice@EXAMPLE.com')), 'sip:alice@example.com');
    assert.equal(formatUri(parseUri('sip:sips%3Auser%40example.com@example.net')), 'sip:sips%3Auser%40example.com@example.net');
    assert.equal(formatUri(parseUri('sip:null-%00-null@example.com')), 'sip:null-%00-null@example.com');
    assert.equal(formatUri(parseUri('sip:%C3%A9t%C3%A9@example.com')), 'sip:%C3%A9t%C3%A9@example.com');
    assert.equal(formatUri(parseUri('sip:100%25@example.com')), 'sip:100%25@example.com');
  });
});

describe('unescapeUri', () => {
  test('UTF-8, NUL, invalid sequences', () => {
    assert.equal(unescapeUri('a%20b'), 'a b');
    assert.equal(unescapeUri('%C3%A9'), 'é');
    assert.equal(unescapeUri('%00'), '\u0000');
    assert.equal(unescapeUri('%Z%45'), '%ZE');
    assert.equal(unescapeUri('%E9'), '\u00e9');
  });
});

describe('uriEquals (RFC 3261 §19.1.4 examples)', () => {
  const equal: Array<[string, string]> = [
    ['sip:%61lice@atlanta.com;transport=TCP', 'sip:alice@AtLanTa.CoM;Transport=tcp'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com;newparam=5'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com;security=on'],
    ['sip:carol@chicago.com;newparam=5', 'sip:carol@chicago.com;security=on'],
    ['sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com', 'sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com'],
    ['sip:alice@atlanta.com?subject=project%20x&priority=urgent', 'sip:alice@atlanta.com?priority=urgent&subject=project%20x'],
    ['tel:+1-201-555-0123', 'tel:+1.201.555.0123'],
  ];
  const different: Array<[string, string]> = [
    ['SIP:ALICE@AtLanTa.CoM;Transport=udp', 'sip:alice@AtLanTa.CoM;Transport=UDP'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com:5060'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com;transport=udp'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com:6000;transport=tcp'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com?Subject=next%20meeting'],
    ['sip:bob@phone21.boxesbybob.com', 'sip:bob@192.0.2.4'],
    ['sip:carol@chicago.com;security=on', 'sip:carol@chicago.com;security=off'],
    ['sip:alice@atlanta.com', 'sips:alice@atlanta.com'],
    ['tel:+1-201-555-0123', 'tel:+1-201-555-0124'],
  ];
  for (const [a, b] of equal) {
    test(`${a} == ${b}`, () => {
      assert.equal(uriEquals(parseUri(a), parseUri(b)), true);
      assert.equal(uriEquals(parseUri(b), parseUri(a)), true);
    });
  }
  for (const [a, b] of different) {
    test(`${a} != ${b}`, () => {
      assert.equal(uriEquals(parseUri(a), parseUri(b)), false);
      assert.equal(uriEquals(parseUri(b), parseUri(a)), false);
    });
  }
});
