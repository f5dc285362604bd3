import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSdp } from '../../../src/sdp/parse-sdp.ts';
import { negotiate } from '../../../src/sdp/negotiate.ts';
import type { CodecCapability } from '../../../src/sdp/negotiate.ts';
import { SdpError } from '../../../src/sdp/errors.ts';
import { LINPHONE_OFFER, SIPP_OFFER, WEBRTC_OFFER, ZOIPER_OFFER } from './fixtures.ts';

const G711: CodecCapability[] = [
  { name: 'PCMA', clockRate: 8000 },
  { name: 'PCMU', clockRate: 8000 },
  { name: 'telephone-event', clockRate: 8000 },
];
const WIDE: CodecCapability[] = [
  { name: 'opus', clockRate: 48000, channels: 2, fmtp: 'minptime=10;useinbandfec=1' },
  { name: 'G722', clockRate: 8000 },
  ...G711,
  { name: 'telephone-event', clockRate: 48000 },
  { name: 'CN', clockRate: 8000 },
];
const summary = (codecs: Array<{ pt: number; name: string; clockRate: number }>) =>
  codecs.map((c) => `${c.pt} ${c.name}/${c.clockRate}`);

describe('negotiate (RFC 3264 §6.1)', () => {
  test('sipp PCMU offer against G.711 capabilities', () => {
    const n = negotiate(parseSdp(SIPP_OFFER), G711);
    assert.deepEqual(n.media, [
      {
        index: 0,
        type: 'audio',
        proto: 'RTP/AVP',
        accepted: true,
        outcome: 'accepted',
        codecs: [{ pt: 0, name: 'PCMU', clockRate: 8000, channels: 1, fmtp: null }],
      },
    ]);
  });

  test("Zoiper: offerer's order and payload types kept, telephone-event/8000 only, fmtp echoed", () => {
    const n = negotiate(parseSdp(ZOIPER_OFFER), G711);
    assert.deepEqual(summary(n.media[0].codecs), ['0 PCMU/8000', '8 PCMA/8000', '101 telephone-event/8000']);
    assert.equal(n.media[0].codecs[2].fmtp, '0-16');
  });

  test('Zoiper with Opus: both telephone-event rates kept, opus fmtp replaced by ours', () => {
    const n = negotiate(parseSdp(ZOIPER_OFFER), WIDE);
    assert.deepEqual(summary(n.media[0].codecs), [
      '106 opus/48000', '9 G722/8000', '0 PCMU/8000', '8 PCMA/8000',
      '98 telephone-event/48000', '101 telephone-event/8000',
    ]);
    assert.equal(n.media[0].codecs[0].fmtp, 'minptime=10;useinbandfec=1');
  });

  test('preferLocalOrder sorts by our capability order', () => {
    const n = negotiate(parseSdp(ZOIPER_OFFER), G711, { preferLocalOrder: true });
    assert.deepEqual(summary(n.media[0].codecs), ['8 PCMA/8000', '0 PCMU/8000', '101 telephone-event/8000']);
  });

  test('singleCodec keeps the first primary codec and the telephone-event of its rate', () => {
    const n = negotiate(parseSdp(ZOIPER_OFFER), WIDE, { singleCodec: true });
    assert.deepEqual(summary(n.media[0].codecs), ['106 opus/48000', '98 telephone-event/48000']);
  });

  test('telephone-event at 16000 is dropped when no primary codec runs at 16000 (Linphone)', () => {
    const local: CodecCapability[] = [...G711, { name: 'telephone-event', clockRate: 16000 }];
    const n = negotiate(parseSdp(LINPHONE_OFFER), local);
    assert.deepEqual(summary(n.media[0].codecs), ['0 PCMU/8000', '8 PCMA/8000', '100 telephone-event/8000']);
    assert.deepEqual(
      { accepted: n.media[1].accepted, outcome: n.media[1].outcome, codecs: n.media[1].codecs },
      { accepted: false, outcome: 'no-common-codec', codecs: [] },
    );
  });

  test('channel count must match: opus/48000/2 is not opus/48000', () => {
    assert.throws(() => negotiate(parseSdp(ZOIPER_OFFER), [{ name: 'opus', clockRate: 48000 }]), SdpError);
  });

  test('telephone-event and CN alone do not accept a stream', () => {
    const offer = parseSdp(
      'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n' +
        'm=audio 4000 RTP/AVP 18 13 101\r\na=rtpmap:101 telephone-event/8000\r\n',
    );
    assert.throws(
      () => negotiate(offer, WIDE),
      (e: unknown) =>
        e instanceof SdpError &&
        e.code === 'SDP_ERR_NO_COMMON_CODEC' &&
        e.sipStatus === 488 &&
        e.message === 'no common codec in any media description: offered G729/8000, CN/8000, telephone-event/8000',
    );
  });

  test('WebRTC SAVPF is rejected by default, accepted when the proto is allowed; data channel rejected', () => {
    const offer = parseSdp(WEBRTC_OFFER);
    assert.throws(() => negotiate(offer, WIDE), (e: unknown) => e instanceof SdpError && e.code === 'SDP_ERR_NO_COMMON_CODEC');
    const n = negotiate(offer, WIDE, { protos: ['UDP/TLS/RTP/SAVPF'] });
    assert.deepEqual(summary(n.media[0].codecs), [
      '111 opus/48000', '9 G722/8000', '0 PCMU/8000', '8 PCMA/8000',
      '13 CN/8000', '110 telephone-event/48000', '126 telephone-event/8000',
    ]);
    assert.equal(n.media[1].outcome, 'unsupported-proto');
  });

  test('stream disabled by the offerer stays rejected; other streams negotiate', () => {
    const offer = parseSdp(
      'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n' +
        'm=audio 0 RTP/AVP 0\r\nm=audio 4002 RTP/AVP 8\r\n',
    );
    const n = negotiate(offer, G711);
    assert.deepEqual(n.media.map((m) => m.outcome), ['disabled-by-offerer', 'accepted']);
  });

  test('offer whose streams are all disabled is not an error', () => {
    const offer = parseSdp('v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\n');
    assert.deepEqual(negotiate(offer, G711).media.map((m) => m.accepted), [false]);
  });

  test('video capabilities are matched only against video m= lines', () => {
    const n = negotiate(parseSdp(LINPHONE_OFFER), [...G711, { name: 'VP8', clockRate: 90000, media: 'video' }]);
    assert.deepEqual(summary(n.media[1].codecs), ['96 VP8/90000']);
    assert.equal(summary(n.media[0].codecs).includes('96 VP8/90000'), false);
  });
});
