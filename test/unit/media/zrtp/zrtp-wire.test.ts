/** ZRTP framing and messages (RFC 6189 §5): CRC-32C vectors, encode/parse round trips. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c } from '../../../../src/media/zrtp/crc32c.ts';
import { framePacket, isZrtpPacket, unframePacket } from '../../../../src/media/zrtp/zrtp-packet.ts';
import {
  encodeCommit, encodeConfirm, encodeConfirmBody, encodeDhPart, encodeError, encodeHello, encodeSimple, parseConfirmBody, parseMessage, ZrtpParseError,
} from '../../../../src/media/zrtp/zrtp-messages.ts';
import { renderSasB32 } from '../../../../src/media/zrtp/zrtp-sas.ts';
import { hmacSha256, kdf } from '../../../../src/media/zrtp/zrtp-crypto.ts';

test('CRC-32C: RFC 3720 B.4 vectors and the check value', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(Buffer.alloc(32, 0)), 0x8a9136aa);
  assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
  assert.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => i))), 0x46dd794e);
  assert.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i))), 0x113fdb5c);
});

test('packet framing: header, cookie, CRC-32C least significant byte first (as libbzrtp sends it); a flipped bit is refused', () => {
  const msg = encodeSimple('HelloACK');
  const p = framePacket(msg, 0x1234, 0xdeadbeef);
  assert.equal(p[0], 0x10);
  assert.equal(p.readUInt16BE(2), 0x1234);
  assert.equal(p.readUInt32BE(4), 0x5a525450);
  assert.equal(p.readUInt32BE(8), 0xdeadbeef);
  assert.equal(p.readUInt32LE(p.length - 4), crc32c(p, 0, p.length - 4));
  assert.ok(isZrtpPacket(p));
  const u = unframePacket(p);
  assert.ok(u.ok && u.packet.message.equals(msg) && u.packet.sequence === 0x1234);
  const bad = Buffer.from(p);
  bad[14] ^= 1;
  const r = unframePacket(bad);
  assert.ok(!r.ok && /CRC/.test(r.reason));
  // A Hello captured from linphone 5.1 (libbzrtp 5.1.64): its CRC checks.
  const linphone = Buffer.from('10000a725a525450c2d57d94505a001e48656c6c6f202020312e3130425a52545076312e310000000000000036067e927fdcfb6c51a210d21d549f97776d2cbaf36fba5c83384b31a3ec7afadf04d8e45ae1df9d1a6be3700001222153323536414553314145533348533830485333324448336b4d756c74423332205480ef00a1b6f8bba44fb98e', 'hex');
  const l = unframePacket(linphone);
  assert.ok(l.ok, 'linphone Hello unframes');
  const hello = parseMessage(l.packet.message);
  assert.ok(hello.type === 'Hello' && hello.clientId === 'BZRTPv1.1' && hello.keyAgreements.join() === 'DH3k,Mult');
  assert.ok(!isZrtpPacket(Buffer.from([0x80, 0, 0, 0, 0x5a, 0x52, 0x54, 0x50, ...Buffer.alloc(20)])), 'RTP is not ZRTP');
});

test('Hello round trip (§5.2): fields, flags, algorithm counts and length', () => {
  const h3 = Buffer.alloc(32, 3);
  const zid = Buffer.alloc(12, 9);
  const raw = encodeHello({
    version: '1.10', clientId: 'Strowger        ', h3, zid, signature: false, mitm: true, passive: true,
    hashes: ['S256'], ciphers: ['AES1'], authTags: ['HS80', 'HS32'], keyAgreements: ['EC25', 'DH3k'], sasTypes: ['B32 '],
  });
  assert.equal(raw.readUInt16BE(0), 0x505a);
  assert.equal(raw.readUInt16BE(2), 22 + 7);
  assert.equal(raw.toString('latin1', 4, 12), 'Hello   ');
  const m = parseMessage(raw);
  assert.equal(m.type, 'Hello');
  if (m.type !== 'Hello') return;
  assert.equal(m.version, '1.10');
  assert.ok(m.h3.equals(h3) && m.zid.equals(zid));
  assert.deepEqual([m.mitm, m.passive, m.signature], [true, true, false]);
  assert.deepEqual(m.authTags, ['HS80', 'HS32']);
  assert.deepEqual(m.keyAgreements, ['EC25', 'DH3k']);
  assert.deepEqual(m.sasTypes, ['B32 ']);
});

test('Commit, DHPart, Confirm, Error round trips (§5.4-5.9)', () => {
  const commit = encodeCommit({ h2: Buffer.alloc(32, 2), zid: Buffer.alloc(12, 1), hash: 'S256', cipher: 'AES1', authTag: 'HS80', keyAgreement: 'DH3k', sas: 'B32 ', hvi: Buffer.alloc(32, 7) });
  assert.equal(commit.length, 29 * 4);
  const c = parseMessage(commit);
  assert.ok(c.type === 'Commit' && c.keyAgreement === 'DH3k' && c.hvi.equals(Buffer.alloc(32, 7)) && c.authTag === 'HS80');

  for (const [kind, pvLen, words] of [['DH3k', 384, 117], ['EC25', 64, 37]] as const) {
    const dh = encodeDhPart({ type: 'DHPart1', h1: Buffer.alloc(32, 1), rs1Id: Buffer.alloc(8, 2), rs2Id: Buffer.alloc(8, 3), auxId: Buffer.alloc(8, 4), pbxId: Buffer.alloc(8, 5), pv: Buffer.alloc(pvLen, 6) });
    assert.equal(dh.readUInt16BE(2), words, kind);
    const d = parseMessage(dh);
    assert.ok(d.type === 'DHPart1' && d.pv.length === pvLen && d.rs2Id.equals(Buffer.alloc(8, 3)) && d.pbxId.equals(Buffer.alloc(8, 5)));
  }

  const body = encodeConfirmBody({ h0: Buffer.alloc(32, 8), enrollment: false, sasVerified: true, allowClear: false, disclosure: false, cacheExpiry: 0xffffffff });
  assert.deepEqual(parseConfirmBody(body), { h0: Buffer.alloc(32, 8), enrollment: false, sasVerified: true, allowClear: false, disclosure: false, cacheExpiry: 0xffffffff });
  const confirm = encodeConfirm({ type: 'Confirm2', confirmMac: Buffer.alloc(8, 1), iv: Buffer.alloc(16, 2), encrypted: body });
  assert.equal(confirm.readUInt16BE(2), 19);
  const cm = parseMessage(confirm);
  assert.ok(cm.type === 'Confirm2' && cm.encrypted.equals(body) && cm.iv.equals(Buffer.alloc(16, 2)));

  const e = parseMessage(encodeError(0x61));
  assert.ok(e.type === 'Error' && e.code === 0x61);
  assert.equal(parseMessage(encodeSimple('Conf2ACK')).type, 'Conf2ACK');
});

test('malformed messages are refused with ZrtpParseError, never a crash', () => {
  const commit = encodeCommit({ h2: Buffer.alloc(32), zid: Buffer.alloc(12), hash: 'S256', cipher: 'AES1', authTag: 'HS80', keyAgreement: 'DH3k', sas: 'B32 ', hvi: Buffer.alloc(32) });
  const cases: Buffer[] = [
    Buffer.alloc(4),
    Buffer.from(commit.subarray(0, 100)), // length field says 29 words
    (() => { const b = Buffer.from(commit); b.write('Bogus   ', 4, 'latin1'); return b; })(),
    (() => { const b = Buffer.from(commit); b.writeUInt16BE(0x1234, 0); return b; })(),
    (() => { const b = encodeSimple('HelloACK'); return Buffer.concat([b, Buffer.alloc(4)]); })(),
  ];
  for (const c of cases) assert.throws(() => parseMessage(c), ZrtpParseError);
});

test('KDF (§4.5.1) is HMAC(KI, 1 || label || 0x00 || context || L) truncated to L bits', () => {
  const ki = Buffer.alloc(32, 0x11);
  const ctx = Buffer.alloc(12 + 12 + 32, 0x22);
  const expected = hmacSha256(ki, Buffer.from([0, 0, 0, 1]), Buffer.from('SAS'), Buffer.from([0]), ctx, Buffer.from([0, 0, 1, 0])).subarray(0, 32);
  assert.ok(kdf(ki, 'SAS', ctx, 256).equals(expected));
  const salt = kdf(ki, 'Initiator SRTP master salt', ctx, 112);
  assert.equal(salt.length, 14);
  assert.ok(salt.equals(hmacSha256(ki, Buffer.from([0, 0, 0, 1]), Buffer.from('Initiator SRTP master salt'), Buffer.from([0]), ctx, Buffer.from([0, 0, 0, 112])).subarray(0, 14)));
});

test('SAS B32 (§5.1.6): the leftmost 20 bits in z-base-32', () => {
  assert.equal(renderSasB32(Buffer.from([0, 0, 0, 0])), 'yyyy');
  assert.equal(renderSasB32(Buffer.from([0xff, 0xff, 0xf0, 0])), '9999');
  // 0x08 0x86 0x42 -> 00001 00010 00011 00100 -> b n d r
  assert.equal(renderSasB32(Buffer.from([0x08, 0x86, 0x42, 0xff])), 'bndr');
});
