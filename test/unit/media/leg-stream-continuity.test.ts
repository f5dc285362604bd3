/**
 * One outgoing stream per sink leg across feeder switches (RFC 3550 §5.1): whatever feeds a leg
 * — relayed packets, the player, the DTMF generator, another relayed source — the endpoint sees
 * one SSRC, sequence + 1 per packet, timestamps that follow wall time, and the marker bit on
 * the first packet after a switch. Within one relayed source its own gaps and timestamp jumps
 * are kept. Fake sockets, fake codecs, a hand-driven clock and a fake `now`.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MediaGraph } from '../../../src/media/media-graph.ts';
import type { SourceEndpoint } from '../../../src/media/media-graph.ts';
import type { LegCodec } from '../../../src/media/leg-codec.ts';
import { writeRtpHeader } from '../../../src/media/rtp-writer.ts';
import { RtpHeader, readRtpHeader } from '../../../src/media/rtp-header.ts';
import { RtpOutStream } from '../../../src/media/rtp-out-stream.ts';
import { fakeCodecs, fakeResampler } from './fake-codecs.ts';
import { fakeLegCodec, makeLeg, manualClock, type FakeLeg as Leg } from './graph-fakes.ts';

const SOURCE_SSRC = 0x5150;

function setup(): { g: MediaGraph; clock: { ms: number }; makeLeg: (c: LegCodec) => Leg } {
  const clock = { ms: 1000 };
  const g = new MediaGraph({ codecs: fakeCodecs, resampler: fakeResampler, clock: manualClock, now: () => clock.ms });
  return { g, clock, makeLeg: (c: LegCodec) => makeLeg(g, c) };
}

const codec = (pt: number, te: number | null = null): LegCodec => fakeLegCodec('FAKE8', pt, te);

/** A FAKE8 packet of the caller's stream: its SSRC, seq, timestamp = seq * 160 + `tsOffset`. */
function pcmPacket(pt: number, seq: number, value: number, ssrc = SOURCE_SSRC, tsOffset = 0x10000000): Buffer {
  const pkt = Buffer.alloc(12 + 320);
  writeRtpHeader(pkt, { marker: false, payloadType: pt, sequenceNumber: seq & 0xffff, timestamp: (tsOffset + seq * 160) >>> 0, ssrc });
  for (let i = 0; i < 160; i++) pkt.writeInt16BE(value, 12 + i * 2);
  return pkt;
}

function header(pkt: Buffer): RtpHeader {
  const h = new RtpHeader();
  readRtpHeader(pkt, h);
  return h;
}

/**
 * Checks one stream: one SSRC (not the source's), sequence + 1 per packet except the listed
 * gaps (index of the packet after the gap -> missing count), timestamps never going back.
 */
function assertOneStream(hs: RtpHeader[], gaps: Map<number, number> = new Map()): void {
  assert.ok(hs.length > 1);
  for (let i = 0; i < hs.length; i++) {
    assert.equal(hs[i].ssrc, hs[0].ssrc, `packet ${i}: one SSRC`);
    assert.notEqual(hs[i].ssrc, SOURCE_SSRC, `packet ${i}: the leg's SSRC, not the caller's`);
    if (i === 0) continue;
    const step = (hs[i].sequenceNumber - hs[i - 1].sequenceNumber) & 0xffff;
    assert.equal(step, 1 + (gaps.get(i) ?? 0), `packet ${i}: sequence step`);
    const dts = (hs[i].timestamp - hs[i - 1].timestamp) | 0;
    assert.ok(dts >= 0, `packet ${i}: timestamp went back by ${-dts}`);
  }
}

function playerOf(value: number): SourceEndpoint {
  return { rate: 8000, frame: new Int16Array(160).fill(value), advance: () => true, close() {} };
}

describe('one outgoing stream per leg', () => {
  test('relay -> player (hold) -> relay (resume): one SSRC, seq + 1, timestamps follow wall time, source gap kept', () => {
    const { g, clock, makeLeg } = setup();
    const a = makeLeg(codec(96));
    const b = makeLeg(codec(97));
    g.bridge(a.leg.id, b.leg.id, 0);
    let seq = 100;
    const relay = (n: number, skip: number[] = []): void => {
      for (let i = 0; i < n; i++, seq++, clock.ms += 20) {
        if (!skip.includes(seq)) a.leg.receiveRtp(pcmPacket(96, seq, 7), '192.0.2.1', a.remotePort, clock.ms);
      }
    };
    relay(10, [105]); // the caller lost one packet: the gap reaches B as is
    const relayed1 = b.out.sent.length;
    assert.equal(relayed1, 9);
    clock.ms += 7; // the hold takes a while to signal
    g.addSource(50, playerOf(1234));
    g.connect(b.leg.id, [50]);
    assert.equal(g.modeOf(b.leg.id), 'transcode');
    for (let i = 0; i < 25; i++, clock.ms += 20) {
      g.tick();
      // The caller keeps talking meanwhile: nobody relays it to B.
      a.leg.receiveRtp(pcmPacket(96, seq++, 7), '192.0.2.1', a.remotePort, clock.ms);
    }
    const played = b.out.sent.length - relayed1;
    assert.equal(played, 25);
    clock.ms += 13;
    g.connect(b.leg.id, [a.leg.id]);
    assert.equal(g.modeOf(b.leg.id), 'relay');
    relay(10);
    const hs = b.out.sent.map(header);
    assert.equal(hs.length, 9 + 25 + 10);
    assertOneStream(hs, new Map([[5, 1]]));
    // Within the first relayed segment the caller's timestamps keep their spacing (and gap).
    assert.equal((hs[5].timestamp - hs[4].timestamp) >>> 0, 320);
    // Payloads: relayed, then the player's, then relayed again.
    const value = (p: Buffer): number => p.readInt16BE(12);
    assert.deepEqual([value(b.out.sent[0]), value(b.out.sent[9]), value(b.out.sent[33]), value(b.out.sent[34])], [7, 1234, 1234, 7]);
    // Markers exactly on the first packet after each switch (and the relay's own first one).
    assert.deepEqual(hs.flatMap((h, i) => (h.marker ? [i] : [])), [0, 9, 34]);
    // Timestamp across each switch = wall time elapsed (8 ticks/ms), within one frame.
    const gap1 = (hs[9].timestamp - hs[8].timestamp) >>> 0;
    assert.ok(Math.abs(gap1 - (20 + 7) * 8) <= 160, `relay -> player: ${gap1}`);
    const gap2 = (hs[34].timestamp - hs[33].timestamp) >>> 0;
    assert.ok(Math.abs(gap2 - (20 + 13) * 8) <= 160, `player -> relay: ${gap2}`);
    // The packetizer's own frames: 160 per 20 ms.
    for (let i = 10; i < 34; i++) assert.equal((hs[i].timestamp - hs[i - 1].timestamp) >>> 0, 160);
    for (let i = 35; i < 44; i++) assert.equal((hs[i].timestamp - hs[i - 1].timestamp) >>> 0, 160);
  });

  test('relay -> sendDtmf -> relay: RFC 4733 and audio in the same stream as the relayed packets', () => {
    const { g, clock, makeLeg } = setup();
    const a = makeLeg(codec(96, 101));
    const b = makeLeg(codec(96, 101));
    g.bridge(a.leg.id, b.leg.id, 0);
    let seq = 7;
    const step = (): void => {
      a.leg.receiveRtp(pcmPacket(96, seq++, 5), '192.0.2.1', a.remotePort, clock.ms);
      if (g.modeOf(b.leg.id) === 'transcode') g.tick();
      clock.ms += 20;
    };
    for (let i = 0; i < 5; i++) step();
    g.sendDtmf(b.leg.id, ['1'], 100);
    assert.equal(g.modeOf(b.leg.id), 'transcode');
    for (let i = 0; i < 40 && g.modeOf(b.leg.id) !== 'relay'; i++) step();
    assert.equal(g.modeOf(b.leg.id), 'relay');
    const before = b.out.sent.length;
    for (let i = 0; i < 5; i++) step();
    const hs = b.out.sent.map(header);
    assert.equal(hs.length, before + 5);
    assert.ok(hs.some((h) => h.payloadType === 101), 'the digit went out as RFC 4733');
    assertOneStream(hs);
    // Audio packets (events carry their start time) never go back and follow wall time.
    const audio = hs.filter((h) => h.payloadType === 96);
    for (let i = 1; i < audio.length; i++) assert.ok(((audio[i].timestamp - audio[i - 1].timestamp) | 0) > 0, `audio ${i}`);
    const lastAudio = (audio[audio.length - 1].timestamp - audio[0].timestamp) >>> 0;
    const wall = (hs.length - 1) * 20 * 8;
    assert.ok(Math.abs(lastAudio - wall) <= 2 * 160, `timeline ${lastAudio} vs wall ${wall}`);
  });

  test('relayed RFC 4733 packets and a second source (transfer) join the leg\'s stream', () => {
    const { g, clock, makeLeg } = setup();
    const a = makeLeg(codec(96, 101));
    const b = makeLeg(codec(96, 101));
    const c = makeLeg(codec(96, 101));
    g.bridge(a.leg.id, b.leg.id, 0);
    a.leg.receiveRtp(pcmPacket(96, 1, 5), '192.0.2.1', a.remotePort, clock.ms);
    const ev = pcmPacket(101, 2, 0);
    ev[1] |= 0x80;
    clock.ms += 20;
    a.leg.receiveRtp(ev.subarray(0, 16), '192.0.2.1', a.remotePort, clock.ms);
    clock.ms += 500;
    g.bridge(c.leg.id, b.leg.id, 0); // B now hears C, another caller with its own SSRC and clock
    c.leg.receiveRtp(pcmPacket(96, 40000, 9, 0x7777, 12345), '192.0.2.1', c.remotePort, clock.ms);
    clock.ms += 20;
    c.leg.receiveRtp(pcmPacket(96, 40001, 9, 0x7777, 12345), '192.0.2.1', c.remotePort, clock.ms);
    const hs = b.out.sent.map(header);
    assert.equal(hs.length, 4);
    assertOneStream(hs);
    assert.equal(hs[1].payloadType, 101);
    assert.equal(hs[1].marker, true, 'the event keeps its own marker');
    assert.equal((hs[1].timestamp - hs[0].timestamp) >>> 0, 160, 'the event keeps its place in the source timeline');
    assert.equal(hs[2].marker, true);
    assert.ok(Math.abs(((hs[2].timestamp - hs[0].timestamp) >>> 0) - 520 * 8) <= 1);
    assert.equal(hs[3].marker, false);
    assert.equal((hs[3].timestamp - hs[2].timestamp) >>> 0, 160);
  });
});

describe('RtpOutStream', () => {
  test('within one source: reordering and timestamp jumps kept, late packets do not move the reference', () => {
    const s = new RtpOutStream(() => 0.5);
    const h = new RtpHeader();
    const out: RtpHeader[] = [];
    const send = (seq: number, ts: number, now: number): void => {
      const pkt = Buffer.alloc(20);
      writeRtpHeader(pkt, { marker: false, payloadType: 0, sequenceNumber: seq, timestamp: ts, ssrc: 9 });
      readRtpHeader(pkt, h);
      s.relay(pkt, h, false, now, 8000);
      out.push(header(pkt));
    };
    send(0xfffe, 1000, 0);
    send(0, 1320, 40); // reordered: 0xffff comes late, across the wrap
    send(0xffff, 1160, 41);
    send(1, 9000, 60); // silence suppression: the timestamp jumps
    assert.deepEqual(out.map((x) => x.ssrc), [s.ssrc, s.ssrc, s.ssrc, s.ssrc]);
    const seq0 = out[0].sequenceNumber;
    assert.deepEqual(out.map((x) => (x.sequenceNumber - seq0) & 0xffff), [0, 2, 1, 3]);
    assert.deepEqual(out.map((x) => (x.timestamp - out[0].timestamp) >>> 0), [0, 320, 160, 8000]);
    assert.deepEqual(out.map((x) => x.marker), [true, false, false, false]);
    assert.equal(s.seq, (seq0 + 3) & 0xffff);
    assert.equal(s.at, 60);
  });
});
