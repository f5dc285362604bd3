import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSdp } from '../../../src/sdp/parse-sdp.ts';
import { codecs, isTelephoneEvent } from '../../../src/sdp/codec-list.ts';
import { findStaticPayloadType, staticPayloadType } from '../../../src/sdp/static-payload-types.ts';
import { LINPHONE_OFFER, SIPP_OFFER, WEBRTC_OFFER, ZOIPER_OFFER } from './fixtures.ts';

describe('codecs(media)', () => {
  test('sipp: PCMU from rtpmap', () => {
    assert.deepEqual(codecs(parseSdp(SIPP_OFFER).media[0]), [
      { pt: 0, name: 'PCMU', clockRate: 8000, channels: 1, fmtp: null },
    ]);
  });

  test('Zoiper: static payload types without rtpmap resolved per RFC 3551 Table 4, m= order kept', () => {
    assert.deepEqual(codecs(parseSdp(ZOIPER_OFFER).media[0]), [
      { pt: 106, name: 'opus', clockRate: 48000, channels: 2, fmtp: 'sprop-maxcapturerate=16000; minptime=20; useinbandfec=1' },
      { pt: 9, name: 'G722', clockRate: 8000, channels: 1, fmtp: null },
      { pt: 98, name: 'telephone-event', clockRate: 48000, channels: 1, fmtp: '0-16' },
      { pt: 101, name: 'telephone-event', clockRate: 8000, channels: 1, fmtp: '0-16' },
      { pt: 0, name: 'PCMU', clockRate: 8000, channels: 1, fmtp: null },
      { pt: 8, name: 'PCMA', clockRate: 8000, channels: 1, fmtp: null },
      { pt: 3, name: 'GSM', clockRate: 8000, channels: 1, fmtp: null },
    ]);
  });

  test('Linphone: fmtp on a static payload type (G.729 annexb), video section separate', () => {
    const sd = parseSdp(LINPHONE_OFFER);
    const audio = codecs(sd.media[0]);
    assert.deepEqual(
      audio.map((c) => `${c.pt} ${c.name}/${c.clockRate}`),
      ['96 opus/48000', '97 speex/16000', '98 speex/8000', '0 PCMU/8000', '8 PCMA/8000', '18 G729/8000',
        '101 telephone-event/48000', '99 telephone-event/16000', '100 telephone-event/8000'],
    );
    assert.equal(audio[5].fmtp, 'annexb=yes');
    assert.deepEqual(codecs(sd.media[1]).map((c) => `${c.pt} ${c.name}/${c.clockRate} ${c.fmtp}`), [
      '96 VP8/90000 null',
      '97 H264/90000 profile-level-id=42801F',
    ]);
  });

  test('rtpmap overrides the static table; dynamic pt without rtpmap is skipped', () => {
    const sd = parseSdp(
      'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8 96 0\r\na=rtpmap:0 PCMU/16000\r\n',
    );
    assert.deepEqual(codecs(sd.media[0]).map((c) => [c.pt, c.name, c.clockRate]), [
      [8, 'PCMA', 8000],
      [0, 'PCMU', 16000],
    ]);
  });

  test('the first valid rtpmap and fmtp of a format win; a format is not matched by a longer one that starts with it', () => {
    const sd = parseSdp([
      'v=0', 'o=- 1 1 IN IP4 1.2.3.4', 's=-', 'c=IN IP4 1.2.3.4', 't=0 0', 'm=audio 4000 RTP/AVP 9 96',
      'a=rtpmap:096 opus/48000/2', 'a=rtpmap:96 speex/8000', 'a=fmtp:96 first', 'a=fmtp:96 second', '',
    ].join('\r\n'));
    assert.deepEqual(codecs(sd.media[0]), [
      { pt: 9, name: 'G722', clockRate: 8000, channels: 1, fmtp: null },
      { pt: 96, name: 'opus', clockRate: 48000, channels: 2, fmtp: 'first' },
    ]);
  });

  test('non-RTP proto has no codecs', () => {
    assert.deepEqual(codecs(parseSdp(WEBRTC_OFFER).media[1]), []);
  });

  test('isTelephoneEvent is case-insensitive (RFC 4855 §3: names are case-insensitive)', () => {
    assert.equal(isTelephoneEvent({ name: 'Telephone-Event' }), true);
    assert.equal(isTelephoneEvent({ name: 'PCMU' }), false);
  });
});

describe('static payload types (RFC 3551 §6)', () => {
  const cases: Array<[number, string, number, number]> = [
    [0, 'PCMU', 8000, 1],
    [3, 'GSM', 8000, 1],
    [8, 'PCMA', 8000, 1],
    [9, 'G722', 8000, 1],
    [10, 'L16', 44100, 2],
    [13, 'CN', 8000, 1],
    [18, 'G729', 8000, 1],
    [34, 'H263', 90000, 1],
  ];
  for (const [pt, name, clockRate, channels] of cases) {
    test(`${pt} = ${name}/${clockRate}/${channels}`, () => {
      assert.deepEqual(staticPayloadType(pt), { name, clockRate, channels });
      assert.equal(findStaticPayloadType(name.toLowerCase(), clockRate, channels), pt);
    });
  }
  test('unassigned and dynamic payload types', () => {
    assert.equal(staticPayloadType(2), undefined);
    assert.equal(staticPayloadType(96), undefined);
    assert.equal(findStaticPayloadType('opus', 48000, 2), undefined);
  });
});
