import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { G722, OPUS, PCMA, PCMU, codecCapabilities, findCodec, SUPPORTED_CODECS } from '../../../../src/media/codec/index.ts';
import { negotiate } from '../../../../src/sdp/negotiate.ts';
import { parseSdp } from '../../../../src/sdp/parse-sdp.ts';

describe('codec registry', () => {
  test('findCodec matches name case-insensitively, clock rate and channels', () => {
    assert.equal(findCodec('pcmu', 8000), PCMU);
    assert.equal(findCodec('PCMA', 8000, 1), PCMA);
    assert.equal(findCodec('g722', 8000), G722);
    assert.equal(findCodec('OPUS', 48000, 2), OPUS);
    assert.equal(findCodec('opus', 48000), OPUS);
    assert.equal(findCodec('opus', 48000, 1), null);
    assert.equal(findCodec('G722', 16000), null);
    assert.equal(findCodec('GSM', 8000), null);
    assert.deepEqual(SUPPORTED_CODECS.map((c) => c.info.name), ['opus', 'G722', 'PCMU', 'PCMA']);
  });

  test('codecCapabilities lists our codecs then telephone-event /48000 and /8000 with 0-16', () => {
    assert.deepEqual(codecCapabilities().map((c) => `${c.name}/${c.clockRate}/${c.channels}${c.fmtp ? ` ${c.fmtp}` : ''}`), [
      'opus/48000/2 minptime=10;useinbandfec=1',
      'G722/8000/1',
      'PCMU/8000/1',
      'PCMA/8000/1',
      'telephone-event/48000/1 0-16',
      'telephone-event/8000/1 0-16',
    ]);
  });

  test('negotiate() with our capabilities accepts a baresip-style offer in its order', () => {
    const offer = parseSdp([
      'v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
      'm=audio 4000 RTP/AVP 96 9 0 8 101',
      'a=rtpmap:96 opus/48000/2', 'a=fmtp:96 stereo=1;sprop-stereo=1',
      'a=rtpmap:9 G722/8000', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000',
      'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15', '',
    ].join('\r\n'));
    const n = negotiate(offer, codecCapabilities());
    const m = n.media[0]!;
    assert.equal(m.accepted, true);
    assert.deepEqual(m.codecs.map((c) => `${c.pt} ${c.name}`), ['96 opus', '9 G722', '0 PCMU', '8 PCMA', '101 telephone-event']);
  });
});
