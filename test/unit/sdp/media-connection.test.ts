import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSdp } from '../../../src/sdp/parse-sdp.ts';
import { serializeSdp } from '../../../src/sdp/serialize-sdp.ts';
import { cloneSdp } from '../../../src/sdp/clone-sdp.ts';
import { bumpVersion, rewriteConnection } from '../../../src/sdp/media-connection.ts';
import { SdpError } from '../../../src/sdp/errors.ts';
import { FULL_FIELDS_OFFER, LINPHONE_OFFER, SIPP_OFFER, WEBRTC_OFFER } from './fixtures.ts';

describe('rewriteConnection', () => {
  test('sipp offer: session c= and m= port', () => {
    const sd = parseSdp(SIPP_OFFER);
    rewriteConnection(sd, { address: '203.0.113.5', ports: [30000] });
    assert.equal(
      serializeSdp(sd),
      SIPP_OFFER.replace('c=IN IP4 127.0.0.1', 'c=IN IP4 203.0.113.5').replace('m=audio 6004', 'm=audio 30000'),
    );
    // o= names the creator and is not touched
    assert.equal(sd.origin.address, '127.0.0.1');
  });

  test('Linphone offer: two m= lines, a=rtcp keeps its +1 offset', () => {
    const sd = parseSdp(LINPHONE_OFFER);
    rewriteConnection(sd, { address: '203.0.113.5', ports: [30000, 30002] });
    const text = serializeSdp(sd);
    assert.equal(
      text,
      LINPHONE_OFFER.replace('c=IN IP4 192.168.1.20', 'c=IN IP4 203.0.113.5')
        .replace('m=audio 7078', 'm=audio 30000')
        .replace('a=rtcp:7079', 'a=rtcp:30001')
        .replace('m=video 9078', 'm=video 30002'),
    );
  });

  test('media-level c=, IPv6 address, session multicast c= rewritten', () => {
    const sd = parseSdp(FULL_FIELDS_OFFER);
    rewriteConnection(sd, { address: '2001:db8::7', ports: [40000, 40002] });
    assert.deepEqual(sd.connection, { netType: 'IN', addrType: 'IP6', address: '2001:db8::7' });
    assert.deepEqual(sd.media[0].connections, [{ netType: 'IN', addrType: 'IP6', address: '2001:db8::7' }]);
    assert.equal(sd.media[1].port, 40002);
    assert.equal(sd.media[1].portCount, 2);
  });

  test('WebRTC: 0.0.0.0 with ICE is rewritten, a=rtcp with address too; mux offset 0 kept', () => {
    const sd = parseSdp(WEBRTC_OFFER);
    rewriteConnection(sd, { address: '198.51.100.1', ports: [20000, 20000] });
    const audio = sd.media[0];
    assert.deepEqual(audio.connections, [{ netType: 'IN', addrType: 'IP4', address: '198.51.100.1' }]);
    assert.deepEqual(audio.attributes[0], { name: 'rtcp', value: '20000 IN IP4 198.51.100.1' });
    // every other attribute (candidates, fingerprint, ssrc...) untouched
    assert.deepEqual(audio.attributes.slice(1), parseSdp(WEBRTC_OFFER).media[0].attributes.slice(1));
  });

  test('legacy hold c=0.0.0.0 is preserved, rejected stream keeps port 0', () => {
    const text =
      'v=0\r\no=- 1 2 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n' +
      'm=audio 4000 RTP/AVP 0\r\nm=video 0 RTP/AVP 31\r\n';
    const sd = parseSdp(text);
    rewriteConnection(sd, { address: '198.51.100.1', ports: [20000, 20002] });
    assert.equal(serializeSdp(sd), text.replace('m=audio 4000', 'm=audio 20000'));
  });

  test('wrong port count is a typed error', () => {
    const sd = parseSdp(LINPHONE_OFFER);
    assert.throws(
      () => rewriteConnection(sd, { address: '10.0.0.1', ports: [1] }),
      (e: unknown) => e instanceof SdpError && e.code === 'SDP_ERR_PORT_COUNT' && e.message.endsWith('got 1, need 2'),
    );
  });

  test('cloneSdp isolates the rewrite from the original', () => {
    const original = parseSdp(LINPHONE_OFFER);
    const copy = cloneSdp(original);
    rewriteConnection(copy, { address: '203.0.113.5', ports: [1000, 1002] });
    bumpVersion(copy);
    assert.equal(serializeSdp(original), LINPHONE_OFFER);
    assert.notEqual(serializeSdp(copy), LINPHONE_OFFER);
  });
});

describe('bumpVersion (RFC 3264 §8)', () => {
  test('increments by one', () => {
    const sd = parseSdp(SIPP_OFFER);
    bumpVersion(sd);
    assert.equal(sd.origin.sessionVersion, '2353687638');
    assert.equal(serializeSdp(sd), SIPP_OFFER.replace('2353687637', '2353687638'));
  });
  test('beyond 2^53 without precision loss', () => {
    const sd = parseSdp(SIPP_OFFER.replace('2353687637', '18446744073709551614'));
    bumpVersion(sd);
    assert.equal(sd.origin.sessionVersion, '18446744073709551615');
  });
});
