import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSdp } from '../../../src/sdp/parse-sdp.ts';
import { serializeSdp } from '../../../src/sdp/serialize-sdp.ts';
import { SdpError } from '../../../src/sdp/errors.ts';
import type { SdpErrorCode } from '../../../src/sdp/errors.ts';
import { FULL_FIELDS_OFFER, LINPHONE_OFFER, SIPP_OFFER, WEBRTC_OFFER, ZOIPER_OFFER } from './fixtures.ts';

describe('parseSdp + serializeSdp round trip (RFC 8866 §5 order, CRLF)', () => {
  const cases: Array<[string, string]> = [
    ['sipp default offer', SIPP_OFFER],
    ['Zoiper-like offer', ZOIPER_OFFER],
    ['Linphone-like offer', LINPHONE_OFFER],
    ['WebRTC offer with ICE/DTLS/ssrc', WEBRTC_OFFER],
    ['every field type, vendor line', FULL_FIELDS_OFFER],
  ];
  for (const [name, text] of cases) {
    test(name, () => {
      assert.equal(serializeSdp(parseSdp(text)), text);
    });
  }

  test('LF-only input serializes with CRLF', () => {
    assert.equal(serializeSdp(parseSdp(SIPP_OFFER.replaceAll('\r\n', '\n'))), SIPP_OFFER);
  });

  test('blank lines and a missing final CRLF are tolerated', () => {
    const text = SIPP_OFFER.replace('s=-\r\n', 's=-\r\n\r\n').slice(0, -2);
    assert.equal(serializeSdp(parseSdp(text)), SIPP_OFFER);
  });

  test('out-of-order media fields are accepted and written back in RFC order', () => {
    const text = 'v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendrecv\r\nc=IN IP4 10.0.0.1\r\n';
    assert.equal(
      serializeSdp(parseSdp(text)),
      'v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP4 10.0.0.1\r\na=sendrecv\r\n',
    );
  });
});

describe('parseSdp fields', () => {
  test('sipp offer', () => {
    const sd = parseSdp(SIPP_OFFER);
    assert.deepEqual(sd.origin, {
      username: 'user1',
      sessionId: '53655765',
      sessionVersion: '2353687637',
      netType: 'IN',
      addrType: 'IP4',
      address: '127.0.0.1',
    });
    assert.equal(sd.sessionName, '-');
    assert.deepEqual(sd.connection, { netType: 'IN', addrType: 'IP4', address: '127.0.0.1' });
    assert.deepEqual(sd.timings, [{ start: 0, stop: 0, repeats: [] }]);
    assert.equal(sd.media.length, 1);
    const m = sd.media[0];
    assert.equal(m.type, 'audio');
    assert.equal(m.port, 6004);
    assert.equal(m.portCount, null);
    assert.equal(m.proto, 'RTP/AVP');
    assert.deepEqual(m.formats, ['0']);
    assert.deepEqual(m.attributes, [{ name: 'rtpmap', value: '0 PCMU/8000' }]);
  });

  test('every field type', () => {
    const sd = parseSdp(FULL_FIELDS_OFFER);
    assert.equal(sd.info, 'A Seminar on the session description protocol');
    assert.equal(sd.uri, 'http://www.example.com/seminars/sdp.pdf');
    assert.deepEqual(sd.emails, ['j.doe@example.com (Jane Doe)']);
    assert.deepEqual(sd.phones, ['+1 617 555-6011']);
    assert.equal(sd.connection?.address, '224.2.17.12/127');
    assert.deepEqual(sd.bandwidths, [{ type: 'CT', value: 128 }]);
    assert.deepEqual(sd.timings, [{ start: 2873397496, stop: 2873404696, repeats: ['7d 1h 0 25h'] }]);
    assert.equal(sd.timeZones, '2882844526 -1h 2898848070 0');
    assert.equal(sd.key, 'prompt');
    assert.deepEqual(sd.attributes, [{ name: 'recvonly', value: null }]);
    const [audio, video] = sd.media;
    assert.equal(audio.title, 'voice');
    assert.deepEqual(audio.connections, [{ netType: 'IN', addrType: 'IP4', address: '10.47.16.6' }]);
    assert.deepEqual(audio.bandwidths, [{ type: 'AS', value: 64 }]);
    assert.equal(video.port, 51372);
    assert.equal(video.portCount, 2);
    assert.deepEqual(video.extra, [{ type: 'y', value: 'vendor line kept verbatim' }]);
  });

  test('WebRTC attributes stay generic and ordered; data channel formats are tokens', () => {
    const sd = parseSdp(WEBRTC_OFFER);
    assert.equal(sd.connection, null);
    assert.deepEqual(sd.attributes[2], { name: 'msid-semantic', value: ' WMS stream1' });
    assert.deepEqual(sd.attributes[1], { name: 'extmap-allow-mixed', value: null });
    const audio = sd.media[0];
    assert.deepEqual(
      audio.attributes.slice(0, 4).map((a) => a.name),
      ['rtcp', 'candidate', 'candidate', 'ice-ufrag'],
    );
    assert.deepEqual(sd.media[1].formats, ['webrtc-datachannel']);
    assert.equal(sd.media[1].proto, 'UDP/DTLS/SCTP');
  });

  test('a=name: with an empty value differs from a property attribute', () => {
    const sd = parseSdp(SIPP_OFFER + 'a=x-empty:\r\na=x-flag\r\n');
    assert.deepEqual(sd.media[0].attributes.slice(1), [
      { name: 'x-empty', value: '' },
      { name: 'x-flag', value: null },
    ]);
    assert.equal(serializeSdp(sd), SIPP_OFFER + 'a=x-empty:\r\na=x-flag\r\n');
  });

  test('rejected m= line without formats or c= is accepted (RFC 3264 §6)', () => {
    const text = 'v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 0 RTP/AVP\r\n';
    const sd = parseSdp(text);
    assert.deepEqual(sd.media[0].formats, []);
    assert.equal(serializeSdp(sd), text);
  });

  test('missing t= is tolerated', () => {
    const sd = parseSdp('v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 8\r\n');
    assert.deepEqual(sd.timings, []);
  });
});

describe('parseSdp errors (stable codes, line numbers)', () => {
  const head = 'v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n';
  const cases: Array<[string, string, SdpErrorCode, number | undefined]> = [
    ['empty body', '', 'SDP_ERR_EMPTY', undefined],
    ['whitespace only', '\r\n\r\n', 'SDP_ERR_EMPTY', undefined],
    ['not type=value', 'v=0\r\nhello\r\n', 'SDP_ERR_LINE_SYNTAX', 2],
    ['upper-case type', 'v=0\r\nO=- 1 1 IN IP4 1.2.3.4\r\n', 'SDP_ERR_LINE_SYNTAX', 2],
    ['space before =', 'v =0\r\n', 'SDP_ERR_LINE_SYNTAX', 1],
    ['v=1', 'v=1\r\n', 'SDP_ERR_VERSION', 1],
    ['o= first', 'o=- 1 1 IN IP4 1.2.3.4\r\n', 'SDP_ERR_VERSION', 1],
    ['s= before o=', 'v=0\r\ns=-\r\n', 'SDP_ERR_MISSING_FIELD', 2],
    ['o= with 5 fields', 'v=0\r\no=- 1 IN IP4 1.2.3.4\r\n', 'SDP_ERR_ORIGIN', 2],
    ['o= non-numeric version', 'v=0\r\no=- 1 x IN IP4 1.2.3.4\r\n', 'SDP_ERR_ORIGIN', 2],
    ['no s=', 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nt=0 0\r\n', 'SDP_ERR_MISSING_FIELD', undefined],
    ['two s=', head + 's=x\r\n', 'SDP_ERR_DUPLICATE_FIELD', 6],
    ['two session c=', head + 'c=IN IP4 10.0.0.2\r\n', 'SDP_ERR_DUPLICATE_FIELD', 6],
    ['c= with 2 fields', head + 'm=audio 1 RTP/AVP 0\r\nc=IN IP4\r\n', 'SDP_ERR_CONNECTION', 7],
    ['b= without colon', head + 'b=AS64\r\n', 'SDP_ERR_BANDWIDTH', 6],
    ['b= non-numeric', head + 'b=AS:x\r\n', 'SDP_ERR_BANDWIDTH', 6],
    ['t= one value', 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0\r\n', 'SDP_ERR_TIMING', 4],
    ['r= before t=', 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nr=1 2 3\r\n', 'SDP_ERR_TIMING', 4],
    ['m= port too big', head + 'm=audio 70000 RTP/AVP 0\r\n', 'SDP_ERR_MEDIA', 6],
    ['m= no proto', head + 'm=audio 4000\r\n', 'SDP_ERR_MEDIA', 6],
    ['m= no formats on enabled stream', head + 'm=audio 4000 RTP/AVP\r\n', 'SDP_ERR_MEDIA', 6],
    ['m= RTP format not a payload type', head + 'm=audio 4000 RTP/AVP PCMU\r\n', 'SDP_ERR_MEDIA', 6],
    ['m= payload type 128', head + 'm=audio 4000 RTP/AVP 128\r\n', 'SDP_ERR_MEDIA', 6],
    ['m= bad port count', head + 'm=audio 4000/0 RTP/AVP 0\r\n', 'SDP_ERR_MEDIA', 6],
    ['rtpmap without clock', head + 'm=audio 1 RTP/AVP 96\r\na=rtpmap:96 opus\r\n', 'SDP_ERR_ATTRIBUTE', 7],
    ['rtpmap bad pt', head + 'm=audio 1 RTP/AVP 96\r\na=rtpmap:x opus/48000\r\n', 'SDP_ERR_ATTRIBUTE', 7],
    ['ptime text', head + 'm=audio 1 RTP/AVP 0\r\na=ptime:abc\r\n', 'SDP_ERR_ATTRIBUTE', 7],
    ['rtcp with 2 fields', head + 'm=audio 1 RTP/AVP 0\r\na=rtcp:9 IN\r\n', 'SDP_ERR_ATTRIBUTE', 7],
    ['empty attribute name', head + 'a=:x\r\n', 'SDP_ERR_ATTRIBUTE', 6],
    [
      'no connection anywhere',
      'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n',
      'SDP_ERR_NO_CONNECTION',
      undefined,
    ],
  ];
  for (const [name, text, code, line] of cases) {
    test(name, () => {
      assert.throws(
        () => parseSdp(text),
        (e: unknown) => e instanceof SdpError && e.code === code && e.line === line && e.sipStatus === 400,
      );
    });
  }

  test('message carries the detail and line', () => {
    assert.throws(() => parseSdp('v=0\r\no=- 1 IN IP4 1.2.3.4\r\n'), {
      name: 'SdpError',
      message: 'malformed o= line: "- 1 IN IP4 1.2.3.4" (line 2)',
    });
  });
});
