import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { buildRtpPacket, parseRtpPacket } from '../../helpers/rtp-packet.ts';
import { sendRtp } from '../../helpers/rtp-sender.ts';
import { startRtpReceiver } from '../../helpers/rtp-receiver.ts';

describe('rtp-packet (RFC 3550 §5.1)', () => {
  test('build: exact header bytes', () => {
    const p = buildRtpPacket(
      { marker: true, payloadType: 8, sequenceNumber: 0x1234, timestamp: 0xdeadbeef, ssrc: 0x01020304 },
      Buffer.from([0xd5, 0xd5]),
    );
    assert.equal(p.toString('hex'), '8088' + '1234' + 'deadbeef' + '01020304' + 'd5d5');
  });

  test('parse skips CSRCs, extension and padding', () => {
    const packet = Buffer.from(
      'b' + '1' + '00' + '0001' + '00000002' + '00000003' + // V=2 P=1 X=1 CC=1, PT 0
        '0000000a' + // CSRC
        'bede0001' + '11223344' + // extension, 1 word
        'aabbcc' + '0002', // payload aabbcc + padding (2 bytes, last says 2)
      'hex',
    );
    // first byte 0xb1 = 1011 0001: V=2, P=1, X=1, CC=1
    const p = parseRtpPacket(packet);
    assert.ok(p);
    assert.equal(p.payload.toString('hex'), 'aabbcc');
    assert.deepEqual([p.payloadType, p.sequenceNumber, p.timestamp, p.ssrc, p.marker], [0, 1, 2, 3, false]);
  });

  test('parse rejects version != 2 and truncated packets', () => {
    assert.equal(parseRtpPacket(Buffer.alloc(11, 0x80)), null);
    assert.equal(parseRtpPacket(Buffer.from('400000000000000000000000', 'hex')), null);
  });
});

describe('RTP sender -> receiver on loopback', () => {
  test('50 paced PCMA packets (20 ms) arrive in order, one SSRC, no loss', async () => {
    const receiver = await startRtpReceiver({ capture: true });
    try {
      const result = await sendRtp({
        host: '127.0.0.1',
        port: receiver.port,
        ssrc: 0x11223344,
        payloadType: 8,
        count: 50,
        firstSequence: 65530, // crosses the 16-bit wrap
        firstTimestamp: 1000,
      });
      await receiver.waitFor(50, 2000);
      assert.equal(result.sent, 50);
      assert.equal(result.lastSequence, (65530 + 49) & 0xffff);
      // 49 intervals of 20 ms; timers never fire early, allow scheduling slack upwards.
      assert.ok(result.durationMs >= 975 && result.durationMs < 2500, `took ${result.durationMs} ms`);
      const [s] = receiver.sources();
      assert.equal(receiver.sources().length, 1);
      assert.equal(s.ssrc, 0x11223344);
      assert.equal(s.packets, 50);
      assert.equal(s.expected, 50);
      assert.equal(s.lost, 0);
      assert.equal(s.discontinuities, 0);
      assert.equal(s.duplicates, 0);
      assert.equal(s.markers, 1);
      assert.deepEqual([...s.payloadTypes], [8]);
      assert.equal(s.payloadBytes, 50 * 160);
      assert.deepEqual(s.payloads[0], Buffer.alloc(160, 0xd5));
    } finally {
      await receiver.close();
    }
  });

  test('gaps, duplicates, reordering and two SSRCs are counted; RTCP is not media', async () => {
    const receiver = await startRtpReceiver();
    const socket = dgram.createSocket('udp4');
    try {
      const send = (seq: number, ssrc: number) =>
        new Promise<void>((resolve) =>
          socket.send(
            buildRtpPacket({ marker: false, payloadType: 0, sequenceNumber: seq, timestamp: seq * 160, ssrc }, Buffer.alloc(160)),
            receiver.port,
            '127.0.0.1',
            () => resolve(),
          ),
        );
      for (const seq of [10, 11, 13, 12, 13, 14]) await send(seq, 1); // gap then reorder, one duplicate
      for (const seq of [100, 101]) await send(seq, 2);
      // RTCP receiver report (PT 201), muxed on the same port (RFC 5761).
      await new Promise<void>((r) => socket.send(Buffer.from('81c90001' + '00000001', 'hex'), receiver.port, '127.0.0.1', () => r()));
      await receiver.waitFor(8, 2000);
      await new Promise((r) => setTimeout(r, 20));
      const one = receiver.source(1)!;
      assert.deepEqual(
        [one.packets, one.expected, one.lost, one.duplicates, one.discontinuities, one.highestSequence],
        [6, 5, 0, 1, 2, 14],
      );
      assert.equal(receiver.source(2)!.packets, 2);
      assert.equal(receiver.total(), 8);
      assert.equal(receiver.invalid, 1);
      const address = socket.address();
      assert.equal(one.from, `127.0.0.1:${address.port}`);
    } finally {
      socket.close();
      await receiver.close();
    }
  });

  test('sendRtp from a caller-owned socket leaves it open (symmetric RTP)', async () => {
    const receiver = await startRtpReceiver();
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    try {
      await sendRtp({ host: '127.0.0.1', port: receiver.port, socket, ssrc: 7, count: 3, ptimeMs: 0 });
      await receiver.waitFor(3, 2000);
      assert.equal(receiver.source(7)!.from, `127.0.0.1:${socket.address().port}`);
      assert.equal(socket.address().port > 0, true); // still bound: address() throws on a closed socket
    } finally {
      socket.close();
      await receiver.close();
    }
  });

  test('waitFor rejects with the counts on timeout', async () => {
    const receiver = await startRtpReceiver();
    try {
      await assert.rejects(receiver.waitFor(1, 50), { message: `RTP receiver on 127.0.0.1:${receiver.port}: got 0 packets, need 1` });
    } finally {
      await receiver.close();
    }
  });
});
