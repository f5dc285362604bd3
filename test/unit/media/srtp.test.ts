/**
 * SRTP/SRTCP against published vectors: RFC 3711 B.2 (AES-CM keystream) and B.3 (key
 * derivation), libsrtp's reference packets for AES_CM_128_HMAC_SHA1_80 (srtp_driver.c), and
 * RFC 7714 §16.1 and §17.1 (AEAD_AES_128_GCM SRTP and SRTCP). Then what no vector shows: rollover, reordering, replay,
 * tampering, the 32-bit tag, unencrypted SRTCP.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveSessionKey, LABEL } from '../../../src/media/srtp/srtp-kdf.ts';
import { SrtpContext, estimateRoc } from '../../../src/media/srtp/srtp-context.ts';
import { SRTP_SUITES } from '../../../src/media/srtp/srtp-suites.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const CM80 = SRTP_SUITES.AES_CM_128_HMAC_SHA1_80;
const GCM = SRTP_SUITES.AEAD_AES_128_GCM;

test('RFC 3711 B.3: session keys from the master key and salt', () => {
  const key = hex('E1F97A0D3E018BE0D64FA32C06DE4139');
  const salt = hex('0EC675AD498AFEEBB6960B3AABE6');
  assert.equal(deriveSessionKey(key, salt, LABEL.rtpEncryption, 16).toString('hex'), 'c61e7a93744f39ee10734afe3ff7a087');
  assert.equal(deriveSessionKey(key, salt, LABEL.rtpSalt, 14).toString('hex'), '30cbbc08863d8c85d49db34a9ae1');
  assert.equal(deriveSessionKey(key, salt, LABEL.rtpAuth, 94).toString('hex'), hex(`
    CEBE321F6FF7716B6FD4AB49AF256A15 6D38BAA48F0A0ACF3C34E2359E6CDBCE E049646C43D9327AD175578EF7227098
    6371C10C9A369AC2F94A8C5FBCDDDC25 6D6E919A48B610EF17C2041E47403576 6B68642C59BBFC2F34DB60DBDFB2`).toString('hex'));
});

test('RFC 3711 B.2: the AES-CM keystream of SSRC 0, index 0 (a zero payload encrypts to it)', () => {
  const keys = { encryption: hex('2B7E151628AED2A6ABF7158809CF4F3C'), auth: Buffer.alloc(20), salt: hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD') };
  const ctx = new SrtpContext(CM80, keys, keys);
  const rtp = Buffer.concat([hex('80000000 00000000 00000000'), Buffer.alloc(48)]);
  const out = ctx.protectRtp(rtp);
  assert.equal(out.subarray(12, 60).toString('hex'), hex(`
    E03EAD0935C95E80E166B16DD92B4EB4 D23513162B02D0F72A43A2FE4A5F97AB 41E95B3BB0A2E8DD477901E4FCA894C0`).toString('hex'));
});

test('libsrtp reference packets (AES_CM_128_HMAC_SHA1_80): SRTP and SRTCP, both directions', () => {
  const key = hex('e1f97a0d3e018be0d64fa32c06de4139');
  const salt = hex('0ec675ad498afeebb6960b3aabe6');
  const plain = hex('800f1234decafbadcafebabe abababababababababababababababab');
  const prot = hex('800f1234decafbadcafebabe 4e55dc4ce79978d88ca4d215949d2402 b78d6acc99ea179b8dbb');
  const tx = SrtpContext.fromMasterKey(CM80, key, salt);
  assert.equal(tx.protectRtp(plain).toString('hex'), prot.toString('hex'));
  const rx = SrtpContext.fromMasterKey(CM80, key, salt);
  assert.equal(rx.unprotectRtp(prot)?.toString('hex'), plain.toString('hex'));

  // libsrtp numbers its first SRTCP packet 1 (RFC 3711 §3.4 says 0): protect one packet first.
  const rtcp = hex('81c8000bcafebabe abababababababababababababababab');
  tx.protectRtcp(rtcp);
  const srtcp = hex('81c8000bcafebabe 7128035be487b9bdbef89041f977a5a8 80000001 993e08cd54d6c1230798');
  assert.equal(tx.protectRtcp(rtcp).toString('hex'), srtcp.toString('hex'));
  assert.equal(rx.unprotectRtcp(srtcp)?.toString('hex'), rtcp.toString('hex'));
  assert.equal(rx.unprotectRtcp(srtcp), null, 'a replayed SRTCP packet is refused');
  assert.equal(rx.stats.replays, 1);
});

test('RFC 7714 §16.1: AEAD_AES_128_GCM SRTP packet', () => {
  const keys = { encryption: hex('000102030405060708090a0b0c0d0e0f'), auth: Buffer.alloc(0), salt: hex('517569642070726f2071756f') };
  const plain = hex('8040f17b8041f8d35501a0b2 47616c6c696120657374206f6d6e69732064697669736120696e207061727465732074726573');
  const prot = hex(`8040f17b8041f8d35501a0b2 f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f42a5f47a51c7d19b36de3adf8833
    899d7f27beb16a9152cf765ee4390cce`);
  assert.equal(new SrtpContext(GCM, keys, keys).protectRtp(plain).toString('hex'), prot.toString('hex'));
  const rx = new SrtpContext(GCM, keys, keys);
  assert.equal(rx.unprotectRtp(prot)?.toString('hex'), plain.toString('hex'));
  const bad = Buffer.from(prot);
  bad[20]! ^= 1;
  assert.equal(new SrtpContext(GCM, keys, keys).unprotectRtp(bad), null);
});

test('RFC 7714 §17.1: AEAD_AES_128_GCM SRTCP packet (index 0x5d4) opens to the published RTCP packet', () => {
  const keys = { encryption: hex('000102030405060708090a0b0c0d0e0f'), auth: Buffer.alloc(0), salt: hex('517569642070726f2071756f') };
  const rtcp = hex('81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61 deadbeef deadbeef deadbeef deadbeef deadbeef');
  const srtcp = hex(`81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7 6c06f32d c676a5f1 730d6fda
    4ce09b46 86303ded 0bb9275b c84aa458 96cf4d2f c5abf872 45d9eade 800005d4`);
  const rx = new SrtpContext(GCM, keys, keys);
  assert.equal(rx.unprotectRtcp(srtcp)?.toString('hex'), rtcp.toString('hex'));
  assert.equal(rx.unprotectRtcp(srtcp), null, 'replayed');
  const bad = Buffer.from(srtcp);
  bad[30]! ^= 0x08;
  assert.equal(new SrtpContext(GCM, keys, keys).unprotectRtcp(bad), null, 'tampered');
  const otherIndex = Buffer.from(srtcp);
  otherIndex[otherIndex.length - 1]! ^= 1;
  assert.equal(new SrtpContext(GCM, keys, keys).unprotectRtcp(otherIndex), null, 'the index is authenticated');
});

function rtpPacket(seq: number, ssrc = 0x11223344, payload = 160): Buffer {
  const p = Buffer.alloc(12 + payload, seq & 0xff);
  p[0] = 0x80; p[1] = 0;
  p.writeUInt16BE(seq & 0xffff, 2);
  p.writeUInt32BE((seq * 160) >>> 0, 4);
  p.writeUInt32BE(ssrc, 8);
  return p;
}

for (const suite of Object.values(SRTP_SUITES)) {
  test(`${suite.name}: rollover, reordering, replay and tampering`, () => {
    const key = Buffer.alloc(suite.keyLength, 7);
    const salt = Buffer.alloc(suite.saltLength, 9);
    const tx = SrtpContext.fromMasterKey(suite, key, salt);
    const rx = SrtpContext.fromMasterKey(suite, key, salt);
    // 65,530 … 65,535, 0 … 5: the ROC goes to 1 on both sides.
    const seqs = [65530, 65531, 65532, 65533, 65534, 65535, 65536, 65537, 65538, 65539, 65540, 65541];
    const wire = seqs.map((s) => tx.protectRtp(rtpPacket(s)));
    assert.equal(wire[0]!.length, 12 + 160 + suite.tagLength);
    // Delivered out of order around the wrap.
    const order = [0, 1, 3, 2, 4, 6, 5, 7, 9, 8, 10, 11];
    for (const i of order) assert.deepEqual(rx.unprotectRtp(wire[i]!), rtpPacket(seqs[i]!), `seq ${seqs[i]}`);
    assert.equal(rx.unprotectRtp(wire[8]!), null, 'replay after the wrap');
    const tampered = Buffer.from(tx.protectRtp(rtpPacket(65545)));
    tampered[30]! ^= 0x40;
    assert.equal(rx.unprotectRtp(tampered), null);
    assert.equal(rx.unprotectRtp(wire[0]!.subarray(0, 12 + suite.tagLength - 1)), null, 'shorter than header and tag');
    assert.deepEqual(rx.stats, { authFailures: 1, replays: 1, malformed: 1 });
    // A forged packet far ahead does not move the window: the next real one still plays.
    const forged = Buffer.from(tx.protectRtp(rtpPacket(70000)));
    forged[forged.length - 1]! ^= 1;
    assert.equal(rx.unprotectRtp(forged), null);
    const next = tx.protectRtp(rtpPacket(65542));
    assert.deepEqual(rx.unprotectRtp(next), rtpPacket(65542));
    // Another key does not open it.
    const other = SrtpContext.fromMasterKey(suite, Buffer.alloc(suite.keyLength, 8), salt);
    assert.equal(other.unprotectRtp(tx.protectRtp(rtpPacket(65543))), null);

    const rtcp = Buffer.concat([hex('81c80006 11223344'), Buffer.alloc(20, 0x5a)]);
    const s1 = tx.protectRtcp(rtcp);
    assert.equal(s1.length, rtcp.length + 4 + suite.rtcpTagLength);
    assert.deepEqual(rx.unprotectRtcp(s1), rtcp);
    const t = Buffer.from(tx.protectRtcp(rtcp));
    t[10]! ^= 1;
    assert.equal(rx.unprotectRtcp(t), null);
  });
}

test('estimateRoc follows RFC 3711 Appendix A', () => {
  assert.equal(estimateRoc(0, 100, 101), 0);
  assert.equal(estimateRoc(0, 65535, 2), 1);
  assert.equal(estimateRoc(1, 3, 65534), 0);
  assert.equal(estimateRoc(0, 3, 65534), -1);
});

test('the master key and salt must have the suite\'s lengths', () => {
  assert.throws(() => SrtpContext.fromMasterKey(GCM, Buffer.alloc(16), Buffer.alloc(14)), /12-octet salt/);
});
