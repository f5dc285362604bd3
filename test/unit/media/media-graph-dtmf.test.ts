/**
 * DTMF through the media graph (RFC 4733 §2.5), with fake sockets, fake linear codecs and a
 * hand-driven clock: events reported once per key press, relayed with the PT rewritten,
 * regenerated as RFC 4733 (own SSRC/sequence, sink clock, audio muted) or as tones, in-band
 * detection on decoded legs without telephone-event, and `sendDtmf`.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MediaGraph } from '../../../src/media/media-graph.ts';
import type { GraphDtmfEvent } from '../../../src/media/media-graph.ts';
import type { LegCodec } from '../../../src/media/leg-codec.ts';
import { writeRtpHeader } from '../../../src/media/rtp-writer.ts';
import { RtpHeader, readRtpHeader } from '../../../src/media/rtp-header.ts';
import { InbandDtmfDetector } from '../../../src/media/dtmf/inband-detector.ts';
import { TelephoneEvent, readTelephoneEvent, writeTelephoneEvent } from '../../../src/media/dtmf/rfc4733.ts';
import { dtmfTone } from '../../../src/media/tone.ts';
import type { DtmfDigit } from '../../../src/media/tone.ts';
import { fakeCodecs, fakeResampler } from './fake-codecs.ts';
import { fakeLegCodec, makeLeg, manualClock, type FakeLeg as Leg } from './graph-fakes.ts';

const codec = fakeLegCodec;

function setup(): { g: MediaGraph; events: GraphDtmfEvent[]; clock: { t: number } } {
  const events: GraphDtmfEvent[] = [];
  const clock = { t: 0 };
  const g = new MediaGraph({
    codecs: fakeCodecs, resampler: fakeResampler, clock: manualClock,
    onDtmf: (e) => events.push(e), now: () => clock.t,
  });
  return { g, events, clock };
}

/** The packets of one RFC 4733 key press as a phone sends them: 20 ms updates, end x3. */
function eventPackets(pt: number, code: number, durationTicks: number, ts = 48000, seq0 = 500): Buffer[] {
  const out: Buffer[] = [];
  let seq = seq0;
  const push = (dur: number, end: boolean, marker: boolean): void => {
    const pkt = Buffer.alloc(16);
    writeRtpHeader(pkt, { marker, payloadType: pt, sequenceNumber: seq++ & 0xffff, timestamp: ts, ssrc: 0x7777 });
    writeTelephoneEvent(pkt, code, end, 10, dur, 12);
    out.push(pkt);
  };
  let first = true;
  for (let d = 160; d < durationTicks; d += 160) {
    push(d, false, first);
    first = false;
  }
  for (let i = 0; i < 3; i++) push(durationTicks, true, false);
  return out;
}

function pcmPacket(pt: number, seq: number, pcm: Int16Array, ssrc = 0x5150): Buffer {
  const pkt = Buffer.alloc(12 + pcm.length * 2);
  writeRtpHeader(pkt, { marker: false, payloadType: pt, sequenceNumber: seq & 0xffff, timestamp: seq * pcm.length, ssrc });
  for (let i = 0; i < pcm.length; i++) pkt.writeInt16BE(pcm[i], 12 + i * 2);
  return pkt;
}

const receive = (l: Leg, pkt: Buffer): void => l.leg.receiveRtp(pkt, '192.0.2.1', l.remotePort, 0);

interface Parsed {
  h: RtpHeader;
  event: TelephoneEvent | null;
  samples: Int16Array;
}

function parse(pkt: Buffer, tePt: number | null): Parsed {
  const h = new RtpHeader();
  const off = readRtpHeader(pkt, h);
  if (h.payloadType === tePt) {
    const e = new TelephoneEvent();
    readTelephoneEvent(pkt, e, off);
    return { h, event: e, samples: new Int16Array(0) };
  }
  const samples = new Int16Array(h.payloadLength >> 1);
  for (let i = 0; i < samples.length; i++) samples[i] = pkt.readInt16BE(off + i * 2);
  return { h, event: null, samples };
}

/** Digits an in-band detector hears in the audio packets of `pkts`. */
function inbandDigits(pkts: Parsed[], rate: number): string {
  let digits = '';
  const det = new InbandDtmfDetector({ sampleRate: rate, onDigit: (d) => { digits += d; } });
  for (const p of pkts) if (p.event === null) det.process(p.samples);
  return digits;
}

/** Digits in a stream of RFC 4733 packets (one per distinct event timestamp with an end). */
function eventDigits(pkts: Parsed[]): string {
  const codes = '0123456789*#ABCD';
  let digits = '';
  let lastTs = -1;
  for (const p of pkts) {
    if (p.event === null || !p.event.end || p.h.timestamp === lastTs) continue;
    lastTs = p.h.timestamp;
    digits += codes[p.event.event];
  }
  return digits;
}

/** 20 ms frames of `digit` for `ms`, then silence to `totalMs`. */
function toneFrames(digit: DtmfDigit, ms: number, totalMs: number, rate = 8000): Int16Array[] {
  const gen = dtmfTone(digit, rate);
  const frames: Int16Array[] = [];
  const n = rate / 50;
  for (let t = 0; t < totalMs; t += 20) {
    const f = new Int16Array(n);
    if (t < ms) gen.fill(f);
    frames.push(f);
  }
  return frames;
}

describe('MediaGraph DTMF: RFC 4733 in', () => {
  test('relay: events forwarded with the PT rewritten, reported once per key press', () => {
    const { g, events } = setup();
    const a = makeLeg(g, codec('FAKE8', 96, 101));
    const b = makeLeg(g, codec('FAKE8', 96, 100));
    g.bridge(a.leg.id, b.leg.id, 0);
    assert.equal(g.modeOf(b.leg.id), 'relay');
    const pkts = eventPackets(101, 5, 800);
    for (const p of pkts) receive(a, p);
    assert.equal(b.out.sent.length, pkts.length, 'every event packet relayed (end x3 included)');
    for (const p of b.out.sent) assert.equal(p[1] & 0x7f, 100);
    assert.deepEqual(events, [{ legId: a.leg.id, digit: '5', durationMs: 100, source: 'rfc4733' }]);
    assert.equal(g.stats(a.leg.id).dtmfIn, 1);
    assert.equal(g.stats(b.leg.id).dtmfOut, 0, 'relayed, not regenerated');
  });

  test('an event whose end packets are lost is reported after the receiver timeout', () => {
    const { g, events, clock } = setup();
    const a = makeLeg(g, codec('FAKE8', 96, 101));
    const b = makeLeg(g, codec('FAKE8', 96, 101));
    g.bridge(a.leg.id, b.leg.id, 0);
    for (const p of eventPackets(101, 11, 800).slice(0, 3)) receive(a, p);
    g.pollDtmf();
    assert.equal(events.length, 0);
    clock.t = 1000;
    g.pollDtmf();
    assert.deepEqual(events.map((e) => e.digit), ['#']);
  });

  test('transcoded to a telephone-event sink: regenerated with its own SSRC/seq, audio muted', () => {
    const { g, events } = setup();
    const a = makeLeg(g, codec('FAKE8', 96, 101));
    const b = makeLeg(g, codec('FAKE16', 9, 100));
    g.bridge(a.leg.id, b.leg.id, 0);
    assert.equal(g.modeOf(b.leg.id), 'transcode');
    const silence = new Int16Array(160).fill(300);
    let seq = 0;
    // audio first, then the key press (one event packet per 20 ms tick), then audio again
    for (let i = 0; i < 4; i++) { receive(a, pcmPacket(96, seq++, silence)); g.tick(); }
    for (const p of eventPackets(101, 9, 1280)) { receive(a, p); g.tick(); }
    for (let i = 0; i < 8; i++) { receive(a, pcmPacket(96, seq++, silence)); g.tick(); }
    const out = b.out.sent.map((p) => parse(p, 100));
    const ev = out.filter((p) => p.event !== null);
    assert.ok(ev.length >= 9, `event packets sent: ${ev.length}`);
    assert.equal(eventDigits(out), '9');
    assert.equal(ev[0].h.marker, true);
    assert.equal(ev.filter((p) => p.event!.end).length, 3, 'end sent three times (§2.5.1.4)');
    assert.equal(ev.at(-1)!.event!.duration, 1280);
    for (const p of out) assert.equal(p.h.ssrc, out[0].h.ssrc, 'one SSRC for audio and events');
    assert.notEqual(out[0].h.ssrc, 0x7777);
    for (let i = 1; i < out.length; i++) assert.equal(out[i].h.sequenceNumber, (out[i - 1].h.sequenceNumber + 1) & 0xffff);
    // The event timestamp is the sink's clock at the event start, between its audio packets.
    const firstEv = out.findIndex((p) => p.event !== null);
    const lastEv = out.findLastIndex((p) => p.event !== null);
    assert.ok(firstEv > 0);
    assert.equal((ev[0].h.timestamp - out[firstEv - 1].h.timestamp) >>> 0, 160);
    assert.ok(out.slice(firstEv, lastEv + 1).every((p) => p.event !== null), 'no audio while the event lasts');
    assert.equal(out[lastEv + 1].h.marker, true, 'audio resumes as a new talkspurt');
    assert.deepEqual(events.map((e) => [e.digit, e.source]), [['9', 'rfc4733']]);
    assert.equal(g.stats(b.leg.id).dtmfOut, 1);
  });

  test('transcoded to a sink without telephone-event: the digit becomes a Q.23 tone', () => {
    const { g } = setup();
    const a = makeLeg(g, codec('FAKE8', 96, 101));
    const b = makeLeg(g, codec('FAKE16', 9));
    g.bridge(a.leg.id, b.leg.id, 0);
    for (const p of eventPackets(101, 3, 960)) { receive(a, p); g.tick(); }
    for (let i = 0; i < 10; i++) g.tick();
    const out = b.out.sent.map((p) => parse(p, null));
    assert.ok(out.every((p) => p.event === null));
    assert.equal(inbandDigits(out, 16000), '3');
  });

  test('a telephone-event source is never relayed to a sink without it (decoded instead)', () => {
    const { g } = setup();
    const a = makeLeg(g, codec('FAKE8', 96, 101));
    const b = makeLeg(g, codec('FAKE8', 96));
    g.bridge(a.leg.id, b.leg.id, 0);
    assert.equal(g.modeOf(b.leg.id), 'transcode');
    assert.equal(g.modeOf(a.leg.id), 'relay', 'the other way stays zero-decode');
  });
});

describe('MediaGraph DTMF: in-band', () => {
  test('decoded leg without telephone-event: tones detected, re-sent as RFC 4733', () => {
    const { g, events } = setup();
    const a = makeLeg(g, codec('FAKE8', 96));
    const b = makeLeg(g, codec('FAKE16', 9, 101));
    g.bridge(a.leg.id, b.leg.id, 0);
    let seq = 0;
    for (const digit of ['7', '#'] as DtmfDigit[]) {
      for (const f of toneFrames(digit, 100, 200)) { receive(a, pcmPacket(96, seq++, f)); g.tick(); }
    }
    for (let i = 0; i < 6; i++) g.tick();
    assert.deepEqual(events.map((e) => [e.digit, e.source]), [['7', 'inband'], ['#', 'inband']]);
    assert.ok(events.every((e) => e.durationMs >= 80 && e.durationMs <= 120), JSON.stringify(events));
    const out = b.out.sent.map((p) => parse(p, 101));
    assert.equal(eventDigits(out), '7#');
    assert.equal(g.stats(a.leg.id).dtmfIn, 2);
  });

  test('a sink without telephone-event gets the tone as audio only (no second tone)', () => {
    const { g, events } = setup();
    const a = makeLeg(g, codec('FAKE8', 96));
    const b = makeLeg(g, codec('FAKE16', 9));
    g.bridge(a.leg.id, b.leg.id, 0);
    let seq = 0;
    for (const f of toneFrames('4', 100, 300)) { receive(a, pcmPacket(96, seq++, f)); g.tick(); }
    assert.deepEqual(events.map((e) => e.digit), ['4']);
    assert.equal(g.stats(b.leg.id).dtmfOut, 0);
    assert.equal(inbandDigits(b.out.sent.map((p) => parse(p, null)), 16000), '4');
  });

  test('relayed legs without telephone-event are not decoded for detection', () => {
    const { g, events } = setup();
    const a = makeLeg(g, codec('FAKE8', 96));
    const b = makeLeg(g, codec('FAKE8', 96));
    g.bridge(a.leg.id, b.leg.id, 0);
    let seq = 0;
    for (const f of toneFrames('4', 100, 200)) receive(a, pcmPacket(96, seq++, f));
    assert.equal(g.modeOf(b.leg.id), 'relay');
    assert.equal(events.length, 0);
    assert.equal(b.out.sent.length, 10, 'the tone reaches the other side untouched');
  });
});

describe('MediaGraph DTMF: sendDtmf', () => {
  test('a relayed leg moves to the decode path for the digits, then back to relay', () => {
    const { g } = setup();
    const a = makeLeg(g, codec('FAKE8', 96, 101));
    const b = makeLeg(g, codec('FAKE8', 96, 101));
    g.bridge(a.leg.id, b.leg.id, 0);
    g.sendDtmf(b.leg.id, ['1', '2'], 100);
    assert.equal(g.modeOf(b.leg.id), 'transcode');
    assert.equal(g.modeOf(a.leg.id), 'relay');
    for (let i = 0; i < 40 && g.modeOf(b.leg.id) !== 'relay'; i++) g.tick();
    assert.equal(g.modeOf(b.leg.id), 'relay');
    const out = b.out.sent.map((p) => parse(p, 101));
    assert.equal(eventDigits(out), '12');
    const ends = out.filter((p) => p.event?.end);
    assert.deepEqual(ends.map((p) => p.event!.duration), [800, 800, 800, 800, 800, 800]);
    assert.equal(g.stats(b.leg.id).dtmfOut, 2);
  });

  test('a leg without telephone-event gets tones, even when it hears nothing', () => {
    const { g } = setup();
    const b = makeLeg(g, codec('FAKE8', 96));
    g.sendDtmf(b.leg.id, ['0', 'D'], 100);
    assert.equal(g.clock.running, true);
    for (let i = 0; i < 30; i++) g.tick();
    assert.equal(inbandDigits(b.out.sent.map((p) => parse(p, null)), 8000), '0D');
    assert.equal(g.clock.running, false, 'the clock stops once the digits are out');
  });

  test('a leg without codec settings cannot play DTMF', () => {
    const { g } = setup();
    const b = makeLeg(g, null);
    assert.throws(() => g.sendDtmf(b.leg.id, ['1'], 100), RangeError);
  });
});

describe('MediaGraph DTMF: in-band end without audio after it', () => {
  test('a phone that stops sending after the tone still gets its digit reported', () => {
    const { g, events } = setup();
    const a = makeLeg(g, codec('FAKE8', 96));
    const b = makeLeg(g, codec('FAKE16', 9, 101));
    g.bridge(a.leg.id, b.leg.id, 0);
    let seq = 0;
    for (const f of toneFrames('6', 100, 100)) { receive(a, pcmPacket(96, seq++, f)); g.tick(); }
    for (let i = 0; i < 6; i++) g.tick(); // nothing arrives any more
    assert.deepEqual(events.map((e) => [e.digit, e.source]), [['6', 'inband']]);
  });
});
