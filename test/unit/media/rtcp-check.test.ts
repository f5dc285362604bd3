import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRtcpCompound, isRtcpMuxed, rtcpSenderSsrc } from '../../../src/media/rtcp-check.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// RR with no report block (RC=0, length 1 = 2 words), sender SSRC 0x11223344.
const RR = '80c90001 11223344';
// SDES, one chunk: SSRC 0x11223344, CNAME "ab", END + null padding to a word (RFC 3550 §6.5).
const SDES = '81ca0003 11223344 01026162 00000000';
// SR (RC=0): sender SSRC, NTP ts (2 words), RTP ts, packet count, octet count -> length 6.
const SR = '80c80006 aabbccdd 00000001 00000002 00000003 00000004 00000005';

describe('isRtcpMuxed (RFC 5761 §4)', () => {
  const cases: [string, string, boolean][] = [
    ['SR (200)', SR, true],
    ['RR (201)', RR, true],
    ['PT 192 (FIR), lower bound', '80c00001 00000000', true],
    ['PT 223, upper bound', '80df0001 00000000', true],
    ['RTP PCMU', '80000001 00000000 00000001', false],
    ['RTP PT 96 with marker (second octet 224)', '80e00001 00000000 00000001', false],
    ['RTP PT 63 with marker (second octet 191)', '80bf0001 00000000 00000001', false],
    ['one octet', '80', false],
  ];
  for (const [name, bytes, want] of cases) test(name, () => assert.equal(isRtcpMuxed(hex(bytes)), want));
});

describe('rtcpSenderSsrc', () => {
  test('reads the sender SSRC unsigned', () => assert.equal(rtcpSenderSsrc(hex(SR)), 0xaabbccdd));
  test('RR', () => assert.equal(rtcpSenderSsrc(hex(RR)), 0x11223344));
  test('SRTCP trailer does not matter', () => assert.equal(rtcpSenderSsrc(hex(RR + '80000001 0102030405060708090a')), 0x11223344));
  test('RTP is refused', () => assert.equal(rtcpSenderSsrc(hex('80000001 00000000 00000001')), -1));
  test('version 1 is refused', () => assert.equal(rtcpSenderSsrc(hex('40c90001 11223344')), -1));
  test('too short', () => assert.equal(rtcpSenderSsrc(hex('80c90001 1122')), -1));
});

describe('checkRtcpCompound (RFC 3550 A.2)', () => {
  test('RR + SDES compound: 2 packets', () => assert.equal(checkRtcpCompound(hex(RR + SDES)), 2));
  test('SR alone', () => assert.equal(checkRtcpCompound(hex(SR)), 1));
  test('lengths not adding up', () => assert.equal(checkRtcpCompound(hex('80c90002 11223344')), -1));
  test('padding on the first packet', () => assert.equal(checkRtcpCompound(hex('a0c90001 11223344')), -1));
  test('first packet SDES: invalid compound...', () => assert.equal(checkRtcpCompound(hex(SDES)), -1));
  test('...but valid reduced-size RTCP (RFC 5506)', () => assert.equal(checkRtcpCompound(hex(SDES), true), 1));
  test('second packet with version 1', () => assert.equal(checkRtcpCompound(hex(RR + '41ca0002 11223344 01026162')), -1));
  test('not a multiple of 4', () => assert.equal(checkRtcpCompound(hex(RR + '00')), -1));
});
