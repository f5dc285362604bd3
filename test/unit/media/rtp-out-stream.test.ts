import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RtpOutStream } from '../../../src/media/rtp-out-stream.ts';
import { RtpHeader, readRtpHeader } from '../../../src/media/rtp-header.ts';
import { writeRtpHeader } from '../../../src/media/rtp-writer.ts';

function packet(ssrc: number, seq: number, ts: number): { msg: Buffer; h: RtpHeader } {
  const msg = Buffer.alloc(20);
  writeRtpHeader(msg, { marker: false, payloadType: 0, sequenceNumber: seq, timestamp: ts, ssrc });
  const h = new RtpHeader();
  readRtpHeader(msg, h);
  return { msg, h };
}

describe('RtpOutStream state hand-over (native relay)', () => {
  test('importState continues the stream exactly where exportState left it', () => {
    let r = 0.25;
    const a = new RtpOutStream(() => (r = (r * 7.3) % 1));
    const b = new RtpOutStream(() => 0.5);
    for (let i = 0; i < 3; i++) {
      const p = packet(0x1111, 100 + i, 8000 + 160 * i);
      a.relay(p.msg, p.h, false, 1000 + 20 * i, 8000);
    }
    b.importState(a.exportState());
    assert.deepEqual({ ...b.exportState(), ssrc: 0 }, { ...a.exportState(), ssrc: 0 }, 'everything but the SSRC, which stays the stream\'s own');
    // Same input, same rewrite: the same source continues, then another one takes over.
    for (const [ssrc, seq, ts, now] of [[0x1111, 103, 8480, 1060], [0x2222, 7, 90000, 1500], [0x2222, 8, 90160, 1520]] as const) {
      const pa = packet(ssrc, seq, ts);
      const pb = packet(ssrc, seq, ts);
      a.relay(pa.msg, pa.h, false, now, 8000);
      b.relay(pb.msg, pb.h, false, now, 8000);
      assert.deepEqual(pb.msg.subarray(0, 8), pa.msg.subarray(0, 8), `marker/PT/sequence/timestamp of ${ssrc}/${seq}`);
    }
  });
});
