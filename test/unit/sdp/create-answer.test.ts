import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSdp } from '../../../src/sdp/parse-sdp.ts';
import { serializeSdp } from '../../../src/sdp/serialize-sdp.ts';
import { createAnswer } from '../../../src/sdp/create-answer.ts';
import type { CodecCapability } from '../../../src/sdp/negotiate.ts';
import { SdpError } from '../../../src/sdp/errors.ts';
import { LINPHONE_OFFER, SIPP_OFFER, WEBRTC_OFFER, ZOIPER_OFFER } from './fixtures.ts';

const G711: CodecCapability[] = [
  { name: 'PCMU', clockRate: 8000 },
  { name: 'PCMA', clockRate: 8000 },
  { name: 'telephone-event', clockRate: 8000 },
];
const origin = { username: 'strowger', sessionId: '1000', sessionVersion: '1' };

describe('createAnswer (RFC 3264 §6)', () => {
  test('answer to the sipp offer, exact bytes', () => {
    const { sdp } = createAnswer(parseSdp(SIPP_OFFER), { address: '192.0.2.10', ports: [20000], codecs: G711, origin, ptime: 20 });
    assert.equal(
      serializeSdp(sdp),
      [
        'v=0',
        'o=strowger 1000 1 IN IP4 192.0.2.10',
        's=-',
        'c=IN IP4 192.0.2.10',
        't=0 0',
        'm=audio 20000 RTP/AVP 0',
        'a=rtpmap:0 PCMU/8000',
        'a=ptime:20',
        'a=sendrecv',
        '',
      ].join('\r\n'),
    );
  });

  test('answer to Zoiper: telephone-event fmtp echoed, rtcp-mux answered when enabled', () => {
    const { sdp } = createAnswer(parseSdp(ZOIPER_OFFER), {
      address: '192.0.2.10',
      ports: [20000],
      codecs: G711,
      origin,
      rtcpMux: true,
    });
    assert.equal(
      serializeSdp(sdp),
      [
        'v=0',
        'o=strowger 1000 1 IN IP4 192.0.2.10',
        's=-',
        'c=IN IP4 192.0.2.10',
        't=0 0',
        'm=audio 20000 RTP/AVP 0 8 101',
        'a=rtpmap:0 PCMU/8000',
        'a=rtpmap:8 PCMA/8000',
        'a=rtpmap:101 telephone-event/8000',
        'a=fmtp:101 0-16',
        'a=sendrecv',
        'a=rtcp-mux',
        '',
      ].join('\r\n'),
    );
  });

  test('Linphone audio+video: video rejected with port 0, same m= count, answer parses back', () => {
    const { sdp, negotiation } = createAnswer(parseSdp(LINPHONE_OFFER), {
      address: '2001:db8::10',
      ports: [20000, 20002],
      codecs: [{ name: 'opus', clockRate: 48000, channels: 2, fmtp: 'useinbandfec=1' }],
      origin,
      singleCodec: true,
    });
    const text = serializeSdp(sdp);
    assert.equal(
      text,
      [
        'v=0',
        'o=strowger 1000 1 IN IP6 2001:db8::10',
        's=-',
        'c=IN IP6 2001:db8::10',
        't=0 0',
        'm=audio 20000 RTP/AVP 96',
        'a=rtpmap:96 opus/48000/2',
        'a=fmtp:96 useinbandfec=1',
        'a=sendrecv',
        'm=video 0 RTP/AVP 96 97',
        '',
      ].join('\r\n'),
    );
    assert.deepEqual(negotiation.media.map((m) => m.outcome), ['accepted', 'no-common-codec']);
    assert.equal(serializeSdp(parseSdp(text)), text);
  });

  test('hold offer (sendonly) is answered recvonly; local inactive gives inactive', () => {
    const held = parseSdp(SIPP_OFFER + 'a=sendonly\r\n');
    const a1 = createAnswer(held, { address: '192.0.2.10', ports: [20000], codecs: G711, origin });
    assert.equal(a1.sdp.media[0].attributes.at(-1)?.name, 'recvonly');
    const a2 = createAnswer(held, { address: '192.0.2.10', ports: [20000], codecs: G711, origin, direction: 'inactive' });
    assert.equal(a2.sdp.media[0].attributes.at(-1)?.name, 'inactive');
  });

  test('WebRTC (SAVPF allowed): a=mid echoed, rejected data channel keeps its mid and formats', () => {
    const { sdp } = createAnswer(parseSdp(WEBRTC_OFFER), {
      address: '192.0.2.10',
      ports: [20000, 20002],
      codecs: G711,
      origin,
      protos: ['UDP/TLS/RTP/SAVPF'],
    });
    const text = serializeSdp(sdp);
    assert.ok(text.endsWith('m=audio 20000 UDP/TLS/RTP/SAVPF 0 8 126\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n' +
      'a=rtpmap:126 telephone-event/8000\r\na=sendrecv\r\na=mid:0\r\nm=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:1\r\n'), text);
  });

  test('default o= from the injected clock (NTP seconds, RFC 8866 §5.2)', () => {
    const { sdp } = createAnswer(parseSdp(SIPP_OFFER), { address: '192.0.2.10', ports: [20000], codecs: G711, now: () => 1_700_000_000_500 });
    assert.deepEqual(sdp.origin, {
      username: '-',
      sessionId: '3908988800',
      sessionVersion: '3908988800',
      netType: 'IN',
      addrType: 'IP4',
      address: '192.0.2.10',
    });
  });

  test('no common codec -> SdpError 488; wrong port count -> SDP_ERR_PORT_COUNT', () => {
    const offer = parseSdp(SIPP_OFFER);
    assert.throws(
      () => createAnswer(offer, { address: '192.0.2.10', ports: [20000], codecs: [{ name: 'PCMA', clockRate: 8000 }] }),
      (e: unknown) => e instanceof SdpError && e.code === 'SDP_ERR_NO_COMMON_CODEC' && e.sipStatus === 488,
    );
    assert.throws(
      () => createAnswer(offer, { address: '192.0.2.10', ports: [], codecs: G711 }),
      (e: unknown) => e instanceof SdpError && e.code === 'SDP_ERR_PORT_COUNT',
    );
  });
});
