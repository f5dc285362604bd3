/**
 * The SDP translations of a WebRTC endpoint (`sdp-view.ts`): a browser's offer read as plain RTP
 * at the shim, and werift's description narrowed to what the anchoring chose.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isWebRtcSdp, plainView, shapeLocal } from '../../../../src/media/webrtc/sdp-view.ts';
import { legCodecOf } from '../../../../src/media/webrtc/webrtc-codecs.ts';

/** Chromium's audio offer, trimmed to what matters (JsSIP sends it as is). */
const CHROME_OFFER = [
  'v=0', 'o=- 4611731400430051336 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0', 'a=msid-semantic: WMS stream',
  'm=audio 49152 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126', 'c=IN IP4 127.0.0.1', 'a=rtcp:9 IN IP4 0.0.0.0',
  'a=candidate:1 1 udp 2122260223 127.0.0.1 49152 typ host generation 0', 'a=ice-ufrag:abcd', 'a=ice-pwd:0123456789012345678901',
  'a=ice-options:trickle', 'a=fingerprint:sha-256 7E:60:48:38:B6:D2:29:3E:DC:3A:85:77:34:56:0C:D4:50:B1:46:C8:1C:8A:D8:1A:AF:01:00:BA:28:4F:C9:2E',
  'a=setup:actpass', 'a=mid:0', 'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level', 'a=sendrecv', 'a=msid:stream track', 'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2', 'a=rtcp-fb:111 transport-cc', 'a=fmtp:111 minptime=10;useinbandfec=1', 'a=rtpmap:63 red/48000/2',
  'a=fmtp:63 111/111', 'a=rtpmap:9 G722/8000', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:13 CN/8000',
  'a=rtpmap:110 telephone-event/48000', 'a=rtpmap:126 telephone-event/8000', 'a=ssrc:1 cname:x', '',
].join('\r\n');

const PLAIN_OFFER = ['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 't=0 0', 'm=audio 4000 RTP/AVP 0 101', 'c=IN IP4 192.0.2.1',
  'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=sendrecv', ''].join('\r\n');

describe('WebRTC SDP views', () => {
  test('isWebRtcSdp: the DTLS-SRTP profile (or fingerprint + ICE) marks a browser; plain RTP does not', () => {
    assert.equal(isWebRtcSdp(CHROME_OFFER), true);
    assert.equal(isWebRtcSdp(PLAIN_OFFER), false);
    assert.equal(isWebRtcSdp(CHROME_OFFER.replace('UDP/TLS/RTP/SAVPF', 'RTP/SAVPF')), true, 'fingerprint + ice-ufrag');
  });

  test('plainView: RTP/AVP at the shim, rtcp-mux, only codecs werift carries, no ICE/DTLS attributes', () => {
    const v = plainView(CHROME_OFFER, { address: '127.0.0.1', port: 40000 });
    assert.match(v, /^m=audio 40000 RTP\/AVP 111 0 8 110 126\r$/m);
    assert.match(v, /^c=IN IP4 127\.0\.0\.1\r$/m);
    assert.match(v, /^a=rtcp-mux\r$/m);
    assert.match(v, /^a=fmtp:111 minptime=10;useinbandfec=1\r$/m);
    for (const gone of ['candidate', 'ice-ufrag', 'fingerprint', 'setup', 'extmap', 'rtcp-fb', 'ssrc', 'group', 'rtpmap:63', 'rtpmap:13', 'rtpmap:9 ']) {
      assert.ok(!v.includes(`a=${gone}`), `a=${gone} removed`);
    }
    assert.match(v, /^a=sendrecv\r$/m);
  });

  test('shapeLocal: werift\'s description keeps only the anchored codecs, in their order, and their direction', () => {
    const chosen = PLAIN_OFFER.replace('m=audio 4000 RTP/AVP 0 101', 'm=audio 4000 RTP/AVP 0 126').replace('101 telephone', '126 telephone').replace('fmtp:101', 'fmtp:126').replace('a=sendrecv', 'a=sendonly');
    const shaped = shapeLocal(CHROME_OFFER, chosen);
    assert.match(shaped, /^m=audio 49152 UDP\/TLS\/RTP\/SAVPF 0 126\r$/m);
    assert.ok(!shaped.includes('rtpmap:111'));
    assert.match(shaped, /^a=sendonly\r$/m);
    assert.match(shaped, /^a=fingerprint:sha-256 /m, 'transport attributes stay');
  });

  test('legCodecOf: first codec and the telephone-event of its rate; fmtp from the remote SDP', () => {
    assert.deepEqual(legCodecOf(CHROME_OFFER), {
      pt: 111, name: 'opus', clockRate: 48000, channels: 2, fmtp: 'minptime=10;useinbandfec=1', telephoneEventPt: 110, ptime: 20,
    });
    assert.equal(legCodecOf(PLAIN_OFFER)?.telephoneEventPt, 101);
  });
});
