import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSdp } from '../../../src/sdp/parse-sdp.ts';
import { serializeSdp } from '../../../src/sdp/serialize-sdp.ts';
import { answerDirection, getDirection, isOnHold, setDirection } from '../../../src/sdp/media-direction.ts';
import type { MediaDirection } from '../../../src/sdp/types.ts';
import { SIPP_OFFER, WEBRTC_OFFER, ZOIPER_OFFER } from './fixtures.ts';

const withLines = (session: string, media: string, c = 'c=IN IP4 10.0.0.1\r\n') =>
  parseSdp(`v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\n${c}t=0 0\r\n${session}m=audio 4000 RTP/AVP 0\r\n${media}`);

describe('getDirection (RFC 3264 §5.1, RFC 8866 §6.7)', () => {
  test('default sendrecv', () => {
    const sd = parseSdp(SIPP_OFFER);
    assert.equal(getDirection(sd.media[0], sd), 'sendrecv');
  });
  test('media level', () => {
    const sd = withLines('', 'a=recvonly\r\n');
    assert.equal(getDirection(sd.media[0], sd), 'recvonly');
  });
  test('session level applies when the media has none, media level overrides', () => {
    assert.equal(getDirection(withLines('a=inactive\r\n', '').media[0], withLines('a=inactive\r\n', '')), 'inactive');
    const sd = withLines('a=inactive\r\n', 'a=sendonly\r\n');
    assert.equal(getDirection(sd.media[0], sd), 'sendonly');
    assert.equal(getDirection(sd.media[0]), 'sendonly');
  });
  test('a=sendonly:x (with a value) is not a direction', () => {
    const sd = withLines('', 'a=sendonly:x\r\n');
    assert.equal(getDirection(sd.media[0], sd), 'sendrecv');
  });
});

describe('setDirection', () => {
  test('replaces in place and removes duplicates', () => {
    const sd = parseSdp(ZOIPER_OFFER);
    setDirection(sd.media[0], 'sendonly');
    assert.equal(serializeSdp(sd), ZOIPER_OFFER.replace('a=sendrecv', 'a=sendonly'));
    sd.media[0].attributes.push({ name: 'inactive', value: null });
    setDirection(sd.media[0], 'recvonly');
    assert.equal(serializeSdp(sd), ZOIPER_OFFER.replace('a=sendrecv', 'a=recvonly'));
  });
  test('appends when absent', () => {
    const sd = parseSdp(SIPP_OFFER);
    setDirection(sd.media[0], 'inactive');
    assert.equal(serializeSdp(sd), SIPP_OFFER + 'a=inactive\r\n');
  });
});

describe('isOnHold (RFC 3264 §8.4)', () => {
  const cases: Array<[string, string, string, string | undefined, boolean]> = [
    ['sendrecv', '', 'a=sendrecv\r\n', undefined, false],
    ['recvonly is not hold', '', 'a=recvonly\r\n', undefined, false],
    ['sendonly', '', 'a=sendonly\r\n', undefined, true],
    ['inactive', '', 'a=inactive\r\n', undefined, true],
    ['session-level sendonly', 'a=sendonly\r\n', '', undefined, true],
    ['legacy c=0.0.0.0 (RFC 2543)', '', '', 'c=IN IP4 0.0.0.0\r\n', true],
    ['legacy c=0.0.0.0 at media level', '', 'c=IN IP4 0.0.0.0\r\n', '', true],
    ['media c= overrides session 0.0.0.0', '', 'c=IN IP4 10.0.0.9\r\n', 'c=IN IP4 0.0.0.0\r\n', false],
  ];
  for (const [name, session, media, c, expected] of cases) {
    test(name, () => {
      const sd = withLines(session, media, c);
      assert.equal(isOnHold(sd, sd.media[0]), expected);
    });
  }
  test('WebRTC c=0.0.0.0 with ICE is not hold (RFC 8839)', () => {
    const sd = parseSdp(WEBRTC_OFFER);
    assert.equal(isOnHold(sd, sd.media[0]), false);
  });
});

describe('answerDirection (RFC 3264 §6.1)', () => {
  const cases: Array<[MediaDirection, MediaDirection, MediaDirection]> = [
    ['sendrecv', 'sendrecv', 'sendrecv'],
    ['sendonly', 'sendrecv', 'recvonly'],
    ['recvonly', 'sendrecv', 'sendonly'],
    ['inactive', 'sendrecv', 'inactive'],
    ['sendrecv', 'sendonly', 'sendonly'],
    ['sendrecv', 'recvonly', 'recvonly'],
    ['sendrecv', 'inactive', 'inactive'],
    ['sendonly', 'sendonly', 'inactive'],
    ['recvonly', 'recvonly', 'inactive'],
  ];
  for (const [offer, local, expected] of cases) {
    test(`offer ${offer}, local ${local} -> ${expected}`, () => {
      assert.equal(answerDirection(offer, local), expected);
    });
  }
});
