import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RtpHeader, readRtpHeader } from '../../../src/media/rtp-header.ts';
import { writeRtpHeader, writeSequence, writeTimestamp } from '../../../src/media/rtp-writer.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('readRtpHeader (RFC 3550 §5.1)', () => {
  test('packet with a one-word header extension (pion/rtp packet_test vector)', () => {
    const buf = hex('90e0698f d9c293da 1c642782 0001 0001 ffffffff 9836be889e');
    const h = new RtpHeader();
    assert.equal(readRtpHeader(buf, h), 20);
    assert.equal(h.version, 2);
    assert.equal(h.padding, false);
    assert.equal(h.extension, true);
    assert.equal(h.csrcCount, 0);
    assert.equal(h.marker, true);
    assert.equal(h.payloadType, 96);
    assert.equal(h.sequenceNumber, 27023);
    assert.equal(h.timestamp, 3653407706);
    assert.equal(h.ssrc, 476325762);
    assert.equal(h.extensionProfile, 1);
    assert.equal(h.extensionOffset, 16);
    assert.equal(h.extensionLength, 4);
    assert.equal(h.payloadLength, 5);
    assert.deepEqual(buf.subarray(20, 20 + h.payloadLength), hex('9836be889e'));
  });

  test('PCMU packet, 160-octet payload, 32-bit fields read unsigned', () => {
    const buf = Buffer.alloc(172, 0xff);
    buf.set(hex('8000ffff ffffffff ffffffff'));
    const h = new RtpHeader();
    assert.equal(readRtpHeader(buf, h), 12);
    assert.equal(h.payloadType, 0);
    assert.equal(h.marker, false);
    assert.equal(h.sequenceNumber, 65535);
    assert.equal(h.timestamp, 0xffffffff);
    assert.equal(h.ssrc, 0xffffffff);
    assert.equal(h.payloadLength, 160);
    assert.equal(h.extensionLength, 0);
  });

  test('CSRC list (CC=2) is read into the reused array', () => {
    const buf = hex('82080001 00000010 0000abcd 11111111 22222222 cafe');
    const h = new RtpHeader();
    const csrc = h.csrc;
    assert.equal(readRtpHeader(buf, h), 20);
    assert.equal(h.csrcCount, 2);
    assert.equal(h.payloadType, 8);
    assert.equal(h.csrc, csrc);
    assert.deepEqual([...h.csrc.subarray(0, 2)], [0x11111111, 0x22222222]);
    assert.equal(h.payloadLength, 2);
  });

  test('padding: the last octet counts itself (§5.1 P)', () => {
    const buf = hex('a0000001 00000000 00000001 aabb 000003');
    const h = new RtpHeader();
    assert.equal(readRtpHeader(buf, h), 12);
    assert.equal(h.padding, true);
    assert.equal(h.paddingLength, 3);
    assert.equal(h.payloadLength, 2);
  });

  const invalid: [string, string][] = [
    ['shorter than the fixed header', '80000001 00000000 000000'],
    ['version 1', '40000001 00000000 00000001 00'],
    ['version 0 (e.g. STUN)', '00010000 2112a442 00000000 0000'],
    ['CSRC list runs past the end (CC=3, 2 present)', '83000001 00000000 00000001 11111111 22222222'],
    ['extension header truncated', '90000001 00000000 00000001 0001'],
    ['extension data runs past the end', '90000001 00000000 00000001 00010002 ffffffff'],
    ['padding count 0', 'a0000001 00000000 00000001 aa00'],
    ['padding count larger than the payload', 'a0000001 00000000 00000001 aa05'],
  ];
  for (const [name, bytes] of invalid) {
    test(`invalid: ${name} -> -1`, () => {
      assert.equal(readRtpHeader(hex(bytes), new RtpHeader()), -1);
    });
  }
});

describe('writeRtpHeader', () => {
  test('writes the exact fixed header and round-trips through readRtpHeader', () => {
    const buf = Buffer.alloc(12 + 160);
    const end = writeRtpHeader(buf, { marker: true, payloadType: 8, sequenceNumber: 0x1234, timestamp: 0xdeadbeef, ssrc: 0x80000001 });
    assert.equal(end, 12);
    assert.deepEqual(buf.subarray(0, 12), hex('80881234 deadbeef 80000001'));
    writeSequence(buf, 0xfffe);
    writeTimestamp(buf, 160);
    const h = new RtpHeader();
    assert.equal(readRtpHeader(buf, h), 12);
    assert.equal(h.sequenceNumber, 0xfffe);
    assert.equal(h.timestamp, 160);
    assert.equal(h.ssrc, 0x80000001);
    assert.equal(h.payloadLength, 160);
  });

  test('refuses a buffer with no room for the header', () => {
    assert.throws(() => writeRtpHeader(Buffer.alloc(11), { marker: false, payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 0 }), RangeError);
  });
});
