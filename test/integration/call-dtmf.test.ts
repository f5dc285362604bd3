/**
 * Issue 10 acceptance, DTMF through the B2BUA: a sipp caller (PCMU + telephone-event) plays
 * Debian's `dtmf_2833_1.pcap` (RFC 4733 key "1") and sends SIP INFO digits; the callee answers
 * PCMA + telephone-event with its media on a socket of this test, so the call is transcoded
 * and every RTP packet the callee gets is read here: the key must arrive as RFC 4733 events
 * regenerated on the callee leg (our SSRC, the callee's PT), the INFO digit too, and the
 * B2BUA's digit stream reports both.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import type { TestServer } from '../helpers/server.ts';
import { runSipp, startSippServer, type SippServer } from '../helpers/sipp.ts';
import { RtpHeader, readRtpHeader } from '../../src/media/rtp-header.ts';
import { TelephoneEvent, readTelephoneEvent } from '../../src/media/dtmf/rfc4733.ts';
import type { CallDigit } from '../../src/pbx/call-dtmf.ts';
import { assertIdle, defaultTrunk, did, eventually, finalStatuses, inboundTrunk, route, startCallServer, trunkCall } from './call-fixtures.ts';

const DID = '+15551240000';
const FORWARD_TO = '+15559990001';

describe('DTMF through the B2BUA (sipp pcap + INFO)', () => {
  let t: TestServer;
  let uas: SippServer;
  let rtp: dgram.Socket;
  const packets: { h: RtpHeader; payload: Buffer }[] = [];

  before(async () => {
    rtp = dgram.createSocket('udp4');
    rtp.bind(0, '127.0.0.1');
    await once(rtp, 'listening');
    rtp.on('message', (msg) => {
      const h = new RtpHeader();
      const off = readRtpHeader(msg, h);
      if (off >= 0) packets.push({ h, payload: Buffer.from(msg.subarray(off, off + h.payloadLength)) });
    });
    t = await startCallServer(23400);
    uas = await startSippServer({ scenario: 'uas-answer-dtmf.xml', vars: { rtpport: rtp.address().port } });
    await inboundTrunk(t);
    await defaultTrunk(t, uas.port);
    const didId = await did(t, DID);
    await route(t, didId, { action: 'forward', action_data: { number: FORWARD_TO } });
  });
  after(async () => {
    await uas.stop();
    await t.close();
    rtp.close();
  });
  afterEach(() => assertIdle(t));

  test('RFC 4733 from the pcap and an INFO digit reach the callee as RFC 4733; 415/400 for bad INFOs', async () => {
    const digits: CallDigit[] = [];
    const off = t.server.ctx.sip!.b2bua.digits.on((d) => digits.push(d));
    try {
      const r = await runSipp(trunkCall(t, DID, '+15550100100', { scenario: 'uac-pcap-dtmf.xml', timeoutMs: 15000 }));
      assert.equal(r.stats.successful, 1, `${r.errors}\n${r.messages?.slice(-3000)}`);
      assert.deepEqual(finalStatuses(r.messages ?? ''), [415, 400]);

      await eventually('both digits reported', () => digits.length >= 2 || undefined, 3000).catch(() => {});
      assert.deepEqual(digits.map((d) => [d.side, d.digit, d.via]), [['a', '1', 'rfc4733'], ['a', '5', 'info']]);
      assert.equal(digits[1].durationMs, 160);
      assert.ok(digits[0].durationMs >= 100 && digits[0].durationMs <= 300, `pcap key ${digits[0].durationMs} ms`);

      // What the callee received: PCMA audio and RFC 4733 on PT 101, one SSRC (ours).
      const e = new TelephoneEvent();
      const keys: string[] = [];
      const seen = new Set<number>();
      for (const p of packets) {
        if (p.h.payloadType !== 101 || !readTelephoneEvent(p.payload, e) || !e.end || seen.has(p.h.timestamp)) continue;
        seen.add(p.h.timestamp);
        keys.push('0123456789*#ABCD'[e.event]);
      }
      assert.deepEqual(keys, ['1', '5']);
      assert.ok(packets.some((p) => p.h.payloadType === 8), 'PCMA audio on the callee leg');
      assert.equal(new Set(packets.map((p) => p.h.ssrc)).size, 1, 'events and audio in one stream');
    } finally {
      off();
    }
  });
});
