import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatRtcp,
  parseCrypto,
  parseFingerprint,
  parseFmtp,
  parseFmtpParameters,
  parsePacketTime,
  parseRtcp,
  parseRtpmap,
} from '../../../src/sdp/attribute-values.ts';
import {
  addAttribute,
  getAttribute,
  getAttributes,
  hasAttribute,
  removeAttributes,
  setAttribute,
} from '../../../src/sdp/attribute-access.ts';
import type { SdpAttributeOwner } from '../../../src/sdp/types.ts';

describe('typed attribute values', () => {
  test('rtpmap (RFC 8866 §6.6)', () => {
    assert.deepEqual(parseRtpmap('111 opus/48000/2'), { payloadType: 111, encodingName: 'opus', clockRate: 48000, channels: 2 });
    assert.deepEqual(parseRtpmap('0 PCMU/8000'), { payloadType: 0, encodingName: 'PCMU', clockRate: 8000, channels: null });
    for (const bad of ['', '0', '0 PCMU', '0 /8000', '128 X/8000', '0 PCMU/8000/2/1', '0 PCMU/0', 'a PCMU/8000']) {
      assert.equal(parseRtpmap(bad), null, bad);
    }
  });

  test('fmtp and its parameters', () => {
    assert.deepEqual(parseFmtp('101 0-16'), { format: '101', parameters: '0-16' });
    assert.deepEqual(parseFmtp('101'), { format: '101', parameters: '' });
    assert.equal(parseFmtp(''), null);
    assert.deepEqual(
      [...parseFmtpParameters('sprop-maxcapturerate=16000; minPtime=20;useinbandfec=1;')],
      [['sprop-maxcapturerate', '16000'], ['minptime', '20'], ['useinbandfec', '1']],
    );
    assert.deepEqual([...parseFmtpParameters('0-15')], [['0-15', '']]);
  });

  test('ptime', () => {
    assert.equal(parsePacketTime('20'), 20);
    assert.equal(parsePacketTime('2.5'), 2.5);
    assert.equal(parsePacketTime('0'), null);
    assert.equal(parsePacketTime('-20'), null);
  });

  test('rtcp (RFC 3605 §2.1) round trip', () => {
    assert.deepEqual(parseRtcp('53020'), { port: 53020, connection: null });
    const r = parseRtcp('9 IN IP6 2001:db8::1');
    assert.deepEqual(r, { port: 9, connection: { netType: 'IN', addrType: 'IP6', address: '2001:db8::1' } });
    assert.equal(formatRtcp(r!), '9 IN IP6 2001:db8::1');
    assert.equal(parseRtcp('x'), null);
    assert.equal(parseRtcp('9 IN IP4'), null);
  });

  test('crypto (RFC 4568 §9.1)', () => {
    assert.deepEqual(parseCrypto('1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32 KDR=1'), {
      tag: 1,
      suite: 'AES_CM_128_HMAC_SHA1_80',
      keyParams: ['inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32'],
      sessionParams: ['KDR=1'],
    });
    assert.equal(parseCrypto('1 AES_CM_128_HMAC_SHA1_80'), null);
  });

  test('fingerprint (RFC 8122 §5)', () => {
    assert.deepEqual(parseFingerprint('SHA-256 AB:cd:01'), { hashFunction: 'sha-256', fingerprint: 'AB:cd:01' });
    assert.equal(parseFingerprint('sha-256 ABC'), null);
    assert.equal(parseFingerprint('sha-256'), null);
  });
});

describe('attribute access', () => {
  const owner = (): SdpAttributeOwner => ({
    attributes: [
      { name: 'rtpmap', value: '0 PCMU/8000' },
      { name: 'ptime', value: '20' },
      { name: 'rtcp-mux', value: null },
      { name: 'ptime', value: '30' },
    ],
  });

  test('get/has', () => {
    const o = owner();
    assert.equal(getAttribute(o, 'ptime'), '20');
    assert.equal(getAttribute(o, 'rtcp-mux'), null);
    assert.equal(getAttribute(o, 'mid'), undefined);
    assert.deepEqual(getAttributes(o, 'ptime'), ['20', '30']);
    assert.equal(hasAttribute(o, 'rtcp-mux'), true);
    assert.equal(hasAttribute(o, 'RTCP-MUX'), false);
  });

  test('setAttribute replaces the first in place and drops the rest', () => {
    const o = owner();
    setAttribute(o, 'ptime', '40');
    assert.deepEqual(o.attributes.map((a) => `${a.name}:${a.value}`), ['rtpmap:0 PCMU/8000', 'ptime:40', 'rtcp-mux:null']);
    setAttribute(o, 'mid', '0');
    assert.deepEqual(o.attributes.at(-1), { name: 'mid', value: '0' });
  });

  test('add and remove', () => {
    const o = owner();
    addAttribute(o, 'sendonly');
    assert.deepEqual(o.attributes.at(-1), { name: 'sendonly', value: null });
    assert.equal(removeAttributes(o, 'ptime'), 2);
    assert.equal(removeAttributes(o, (a) => a.value === null), 2);
    assert.deepEqual(o.attributes, [{ name: 'rtpmap', value: '0 PCMU/8000' }]);
  });
});
