/**
 * The worker's endpoint graph with fake sockets, fake codecs and a hand-driven clock: which
 * edges stay zero-decode, what the decode path sends (PT, SSRC, sequence, timestamps per
 * codec), mixing with saturation, PT drop, and the jitter buffer as the graph uses it.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MediaGraph } from '../../../src/media/media-graph.ts';
import { CLOCK_PHASES } from '../../../src/media/graph-phases.ts';
import type { SinkEndpoint, SourceEndpoint } from '../../../src/media/media-graph.ts';
import type { LegCodec } from '../../../src/media/leg-codec.ts';
import { writeRtpHeader } from '../../../src/media/rtp-writer.ts';
import { RtpHeader, readRtpHeader } from '../../../src/media/rtp-header.ts';
import { CONCEAL_MARK, fakeCodecs, fakeResampler } from './fake-codecs.ts';
import { fakeLegCodec, makeLeg, manualClock, type FakeLeg as Leg } from './graph-fakes.ts';

const codec = fakeLegCodec;

function graph(): MediaGraph {
  return new MediaGraph({ codecs: fakeCodecs, resampler: fakeResampler, clock: manualClock });
}

/** A FAKE8 packet whose 160 samples all equal `value`. */
function pcmPacket(pt: number, seq: number, value: number, samples = 160, ssrc = 0x5150): Buffer {
  const pkt = Buffer.alloc(12 + samples * 2);
  writeRtpHeader(pkt, { marker: false, payloadType: pt, sequenceNumber: seq & 0xffff, timestamp: seq * 160, ssrc });
  for (let i = 0; i < samples; i++) pkt.writeInt16BE(value, 12 + i * 2);
  return pkt;
}

function receive(l: Leg, pkt: Buffer, now = 0): void {
  l.leg.receiveRtp(pkt, '192.0.2.1', l.remotePort, now);
}

function parse(pkt: Buffer): { h: RtpHeader; samples: number[] } {
  const h = new RtpHeader();
  const off = readRtpHeader(pkt, h);
  const samples: number[] = [];
  for (let i = off; i + 1 < off + h.payloadLength; i += 2) samples.push(pkt.readInt16BE(i));
  return { h, samples };
}

describe('MediaGraph routing', () => {
  test('same codec both ways: zero-decode relay, PT byte and SSRC/seq/timestamp rewritten, payload as received', () => {
    const g = graph();
    const a = makeLeg(g, codec('FAKE8', 96));
    const b = makeLeg(g, codec('FAKE8', 97));
    g.bridge(a.leg.id, b.leg.id, 0);
    assert.deepEqual([g.modeOf(a.leg.id), g.modeOf(b.leg.id)], ['relay', 'relay']);
    assert.equal(g.clock.running, false, 'no clock for pure relay');
    const pkt = pcmPacket(96, 1, 7);
    const original = Buffer.from(pkt);
    receive(a, pkt);
    assert.equal(b.out.sent.length, 1);
    assert.equal(b.out.sent[0][1] & 0x7f, 97);
    assert.deepEqual(b.out.sent[0].subarray(12), original.subarray(12), 'payload as received');
    const h = parse(b.out.sent[0]).h;
    assert.deepEqual([h.ssrc, h.sequenceNumber, h.timestamp], [b.leg.out.ssrc, b.leg.out.seq, b.leg.out.ts]);
    assert.notEqual(h.ssrc, 0x5150);
  });

  test('legs without codec settings relay as before (legacy pass-through)', () => {
    const g = graph();
    const a = makeLeg(g, null);
    const b = makeLeg(g, null);
    g.bridge(a.leg.id, b.leg.id, 0);
    receive(a, pcmPacket(0, 1, 7));
    receive(a, pcmPacket(33, 2, 7));
    assert.equal(b.out.sent.length, 2);
    assert.equal(g.modeOf(b.leg.id), 'relay');
  });

  test('RTP with a PT not negotiated on the leg is dropped and counted, never forwarded', () => {
    const g = graph();
    const a = makeLeg(g, codec('FAKE8', 96, 101));
    const b = makeLeg(g, codec('FAKE8', 96, 101));
    g.bridge(a.leg.id, b.leg.id, 0);
    receive(a, pcmPacket(0, 1, 7));
    receive(a, pcmPacket(8, 2, 7));
    receive(a, pcmPacket(96, 3, 7));
    assert.equal(b.out.sent.length, 1);
    assert.equal(g.stats(a.leg.id).droppedUnknownPt, 2);
    assert.equal(a.leg.rtp.droppedUnrouted, 0);
  });

  test('different codecs: decode path, own SSRC/seq, timestamps in the sink clock', () => {
    const g = graph();
    const a = makeLeg(g, codec('FAKE8', 96));
    const b = makeLeg(g, codec('FAKE16', 9));
    g.bridge(a.leg.id, b.leg.id, 0);
    assert.deepEqual([g.modeOf(a.leg.id), g.modeOf(b.leg.id)], ['transcode', 'transcode']);
    assert.equal(g.clock.running, true);
    for (let seq = 0; seq < 6; seq++) receive(a, pcmPacket(96, seq, 100 + seq));
    for (let t = 0; t < 6; t++) g.tick();
    const sent = b.out.sent.map(parse);
    assert.equal(sent.length, 6);
    assert.deepEqual(sent.map((p) => p.samples[0]), [100, 101, 102, 103, 104, 105]);
    for (const p of sent) {
      assert.equal(p.h.payloadType, 9);
      assert.equal(p.samples.length, 320, '20 ms at 16 kHz');
      assert.equal(p.h.ssrc, sent[0].h.ssrc);
      assert.notEqual(p.h.ssrc, 0x5150, 'the sink has its own SSRC');
    }
    for (let i = 1; i < sent.length; i++) {
      assert.equal(sent[i].h.sequenceNumber, (sent[i - 1].h.sequenceNumber + 1) & 0xffff);
      // G.722-style: 16 kHz audio, RTP clock 8000 -> 160 per 20 ms (RFC 3551 §4.5.2).
      assert.equal((sent[i].h.timestamp - sent[i - 1].h.timestamp) >>> 0, 160);
    }
    assert.equal(sent[0].h.marker, true);
    assert.equal(sent[1].h.marker, false);
    const st = g.stats(b.leg.id);
    assert.equal(st.framesEncoded, 6);
    assert.equal(g.stats(a.leg.id).framesDecoded, 6);
  });

  test('a leg hearing two sources mixes them with saturation', () => {
    const g = graph();
    const a = makeLeg(g, codec('FAKE8', 96));
    const b = makeLeg(g, codec('FAKE8', 96));
    const c = makeLeg(g, codec('FAKE8', 96));
    g.connect(c.leg.id, [a.leg.id, b.leg.id]);
    assert.equal(g.modeOf(c.leg.id), 'transcode');
    for (let seq = 0; seq < 3; seq++) {
      receive(a, pcmPacket(96, seq, seq === 0 ? 1000 : 30000));
      receive(b, pcmPacket(96, seq, seq === 0 ? 234 : 30000, 160, 0x6666));
    }
    g.tick();
    g.tick();
    const sent = c.out.sent.map(parse);
    assert.equal(sent[0].samples[0], 1234);
    assert.equal(sent[1].samples[0], 32767, 'clipped, not wrapped');
  });

  test('loss is concealed, late and duplicate packets are dropped and counted', () => {
    const g = graph();
    const a = makeLeg(g, codec('FAKE8', 96));
    const b = makeLeg(g, codec('FAKE16', 9));
    g.connect(b.leg.id, [a.leg.id]);
    receive(a, pcmPacket(96, 10, 10));
    receive(a, pcmPacket(96, 12, 12)); // 11 is late
    receive(a, pcmPacket(96, 13, 13));
    receive(a, pcmPacket(96, 13, 13)); // duplicate
    g.tick(); // plays 10
    receive(a, pcmPacket(96, 9, 9)); // after its turn
    g.tick(); // 11 missing -> concealed
    receive(a, pcmPacket(96, 11, 11)); // too late now
    g.tick();
    g.tick();
    const values = b.out.sent.map((p) => parse(p).samples[0]);
    assert.deepEqual(values, [10, CONCEAL_MARK, 12, 13]);
    const j = g.stats(a.leg.id).jitter;
    assert.deepEqual([j.late, j.lost, j.duplicate, j.concealed], [2, 1, 1, 1]);
  });

  test('playout waits for three packets (60 ms) before the first frame', () => {
    const g = graph();
    const a = makeLeg(g, codec('FAKE8', 96));
    const b = makeLeg(g, codec('FAKE16', 9));
    g.connect(b.leg.id, [a.leg.id]);
    const heard: number[] = [];
    for (let seq = 0; seq < 5; seq++) {
      receive(a, pcmPacket(96, seq, 100 + seq));
      g.tick();
      heard.push(parse(b.out.sent.at(-1)!).samples[0]);
    }
    assert.deepEqual(heard, [0, 0, 100, 101, 102]);
  });

  test('packets reordered inside the buffer come out in sequence order', () => {
    const g = graph();
    const a = makeLeg(g, codec('FAKE8', 96));
    const b = makeLeg(g, codec('FAKE16', 97));
    g.connect(b.leg.id, [a.leg.id]);
    for (const seq of [65534, 0, 65535, 2, 1]) receive(a, pcmPacket(96, seq, seq & 0xff)); // across the wrap
    for (let t = 0; t < 5; t++) g.tick();
    assert.deepEqual(b.out.sent.map((p) => parse(p).samples[0]), [254, 255, 0, 1, 2]);
    assert.equal(g.stats(a.leg.id).jitter.lost, 0);
  });

  test('a recorder hearing a relayed call decodes without breaking the relay', () => {
    const g = graph();
    const a = makeLeg(g, codec('FAKE8', 96));
    const b = makeLeg(g, codec('FAKE8', 96));
    g.bridge(a.leg.id, b.leg.id, 0);
    const frames: number[] = [];
    const rec: SinkEndpoint = { rate: 16000, writeFrame: (pcm) => frames.push(pcm[0], pcm.length), close() {} };
    g.addSink(99, rec);
    g.connect(99, [a.leg.id, b.leg.id]);
    assert.deepEqual([g.modeOf(a.leg.id), g.modeOf(b.leg.id)], ['relay', 'relay']);
    for (let seq = 0; seq < 3; seq++) receive(a, pcmPacket(96, seq, 50));
    g.tick();
    assert.equal(b.out.sent.length, 3, 'relayed at once');
    assert.deepEqual(frames, [50, 320]);
  });

  test('a held party hears the player; removing the player leaves silence', () => {
    const g = graph();
    const a = makeLeg(g, codec('FAKE8', 96));
    let n = 0;
    const player: SourceEndpoint = {
      rate: 8000,
      frame: new Int16Array(160),
      advance() {
        this.frame.fill(++n);
        return true;
      },
      close() {},
    };
    g.addSource(50, player);
    g.connect(a.leg.id, [50]);
    g.tick();
    g.tick();
    assert.deepEqual(a.out.sent.map((p) => parse(p).samples[0]), [1, 2]);
    g.remove(50);
    assert.deepEqual(g.sourcesOf(a.leg.id), []);
    assert.equal(g.clock.running, false);
  });

  test('direction: a sendonly source is not mixed; an inactive sink sends nothing but keeps time', () => {
    const g = graph();
    const a = makeLeg(g, codec('FAKE8', 96));
    const b = makeLeg(g, codec('FAKE16', 9));
    g.bridge(a.leg.id, b.leg.id, 0);
    b.leg.setDirection('inactive', 0);
    for (let seq = 0; seq < 3; seq++) receive(a, pcmPacket(96, seq, 5));
    g.tick();
    assert.equal(b.out.sent.length, 0);
    b.leg.setDirection('sendrecv', 0);
    g.tick();
    assert.equal(b.out.sent.length, 1);
  });
});

describe('MediaGraph clock phases', () => {
  /** A transcoded call (FAKE8 <-> FAKE16): both legs on the decode path. */
  function call(g: MediaGraph): [Leg, Leg] {
    const a = makeLeg(g, codec('FAKE8', 96));
    const b = makeLeg(g, codec('FAKE16', 9));
    g.bridge(a.leg.id, b.leg.id, 0);
    return [a, b];
  }

  test('calls are spread over the 4 phases of a frame; a call keeps its phase when others come and go', () => {
    const g = graph();
    const calls = Array.from({ length: 8 }, () => call(g));
    const phaseOfCall = (c: [Leg, Leg]): number[] => {
      const sentBefore = c.map((l) => l.out.sent.length);
      const hits: number[] = [];
      for (let p = 0; p < CLOCK_PHASES; p++) {
        const before = c.map((l) => l.out.sent.length);
        g.tickPhase(p);
        if (c[0].out.sent.length > before[0]) hits.push(p);
        assert.equal(c[1].out.sent.length - before[1], c[0].out.sent.length - before[0], 'both legs of a call in one phase');
      }
      assert.equal(c[0].out.sent.length - sentBefore[0], 1, 'one frame per leg per frame of the clock');
      return hits;
    };
    const phases = calls.map((c) => phaseOfCall(c)[0]);
    assert.deepEqual([0, 1, 2, 3].map((p) => phases.filter((x) => x === p).length), [2, 2, 2, 2]);
    g.remove(calls[0][0].leg.id);
    g.remove(calls[0][1].leg.id);
    const added = call(g);
    assert.deepEqual(calls.slice(1).map((c) => phaseOfCall(c)[0]), phases.slice(1), 'the others did not move');
    assert.equal(phaseOfCall(added)[0], phases[0], 'the new call fills the least loaded phase');
  });
});

describe('MediaGraph re-derives only the part a change touches', () => {
  function counting(): { g: MediaGraph; reported: number[][]; resamplers: () => number } {
    let made = 0;
    const reported: number[][] = [];
    const g = new MediaGraph({
      codecs: fakeCodecs,
      resampler: (from, to) => { made++; return fakeResampler(from, to); },
      clock: manualClock,
      onRecomputed: (legs) => reported.push(legs.map((l) => l.id).sort((x, y) => x - y)),
    });
    return { g, reported, resamplers: () => made };
  }

  test('a change in one call reports its legs only, and leaves the other calls\' decode paths (resamplers) as they were', () => {
    const { g, reported, resamplers } = counting();
    const a = makeLeg(g, codec('FAKE8', 96));
    const b = makeLeg(g, codec('FAKE16', 9));
    g.bridge(a.leg.id, b.leg.id, 0);
    assert.equal(resamplers(), 2, '8 <-> 16 kHz both ways');
    const c = makeLeg(g, codec('FAKE8', 96));
    const d = makeLeg(g, codec('FAKE8', 97));
    reported.length = 0;
    g.bridge(c.leg.id, d.leg.id, 0);
    assert.deepEqual(reported, [[c.leg.id, d.leg.id].sort((x, y) => x - y)]);
    g.setCodec(d.leg.id, codec('FAKE16', 9));
    assert.deepEqual(reported.at(-1), [c.leg.id, d.leg.id].sort((x, y) => x - y));
    assert.equal(resamplers(), 4, 'only the changed call built new resamplers');
    assert.deepEqual([g.modeOf(a.leg.id), g.modeOf(b.leg.id), g.modeOf(c.leg.id), g.modeOf(d.leg.id)], ['transcode', 'transcode', 'transcode', 'transcode']);
    // The first call still carries audio both ways after the other's changes.
    const before = [a.out.sent.length, b.out.sent.length];
    g.tick();
    assert.deepEqual([a.out.sent.length - before[0], b.out.sent.length - before[1]], [1, 1]);
  });

  test('bridging a bridged pair again re-arms its RTP timeout and re-derives nothing', () => {
    const { g, reported, resamplers } = counting();
    const a = makeLeg(g, codec('FAKE8', 96));
    const b = makeLeg(g, codec('FAKE16', 9));
    g.bridge(a.leg.id, b.leg.id, 0);
    const made = resamplers();
    reported.length = 0;
    g.bridge(b.leg.id, a.leg.id, 5000);
    assert.deepEqual(reported, [], 'no part re-derived');
    assert.equal(resamplers(), made, 'the decode path kept');
    assert.deepEqual([a.leg.armedAt, b.leg.armedAt], [5000, 5000], 'both re-armed');
    assert.deepEqual([g.modeOf(a.leg.id), g.modeOf(b.leg.id)], ['transcode', 'transcode']);
    // A pair that hears more than each other (a recorder connected to one) is re-derived as before.
    g.addSource(1001, { rate: 8000, frame: new Int16Array(160), advance: () => true, close: () => {} });
    g.connect(a.leg.id, [b.leg.id, 1001]);
    reported.length = 0;
    g.bridge(a.leg.id, b.leg.id, 6000);
    assert.ok(reported.length > 0, 're-derived: the bridge changed what a hears');
  });

  test('parts a change splits are both re-derived: a recorder removed from a call gives the call back its relay; an unbridged leg goes idle', () => {
    const { g, reported } = counting();
    const a = makeLeg(g, codec('FAKE8', 96));
    const b = makeLeg(g, codec('FAKE8', 96));
    g.bridge(a.leg.id, b.leg.id, 0);
    const frames: number[] = [];
    const rec: SinkEndpoint = { rate: 8000, writeFrame: () => { frames.push(1); }, close: () => {} };
    g.addSink(1000, rec);
    g.connect(1000, [a.leg.id, b.leg.id]);
    assert.equal(g.clock.running, true);
    g.tick();
    assert.equal(frames.length, 1, 'the recorder hears the call');
    reported.length = 0;
    g.remove(1000);
    assert.deepEqual(reported, [[a.leg.id, b.leg.id].sort((x, y) => x - y)], 'the legs the recorder heard were re-derived');
    assert.equal(g.clock.running, false, 'nothing decoded any more');
    assert.deepEqual([a.leg.passEdges.length, b.leg.passEdges.length], [1, 1]);
    g.unbridge(a.leg.id);
    assert.deepEqual([g.modeOf(a.leg.id), g.modeOf(b.leg.id)], ['idle', 'idle']);
    assert.deepEqual([a.leg.passEdges.length, b.leg.passEdges.length], [0, 0]);
  });

  test('a room member leaving: the others keep hearing each other; the leaver hears nothing', () => {
    const { g } = counting();
    const m = [0, 1, 2].map(() => makeLeg(g, codec('FAKE8', 96)));
    for (const x of m) g.connect(x.leg.id, m.filter((y) => y !== x).map((y) => y.leg.id));
    g.remove(m[2].leg.id);
    assert.deepEqual(g.sourcesOf(m[0].leg.id), [m[1].leg.id]);
    assert.deepEqual(g.sourcesOf(m[1].leg.id), [m[0].leg.id]);
    // Two members hearing only each other with one codec: a zero-decode relay again.
    assert.deepEqual([g.modeOf(m[0].leg.id), g.modeOf(m[1].leg.id)], ['relay', 'relay']);
  });
});
