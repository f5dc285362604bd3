/**
 * DTMF through the media engine over real UDP on loopback (issue 10 acceptance): RFC 4733
 * digits into a transcoded call, in-band tones on a leg without telephone-event, and
 * `engine.sendDtmf` — checked on the engine's `dtmf` events and on the RFC 4733 packets that
 * leave the other leg.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { PCMU } from '../../src/media/codec/g711.ts';
import { createMediaEngine } from '../../src/media/index.ts';
import type { DtmfEvent, LegCodec, MediaEngine } from '../../src/media/index.ts';
import { dtmfEventCode, readTelephoneEvent, TelephoneEvent, writeTelephoneEvent } from '../../src/media/dtmf/rfc4733.ts';
import { RtpHeader, readRtpHeader } from '../../src/media/rtp-header.ts';
import { writeRtpHeader } from '../../src/media/rtp-writer.ts';
import { dtmfTone } from '../../src/media/tone.ts';
import type { DtmfDigit } from '../../src/media/tone.ts';

const HOST = '127.0.0.1';
const BASE = 40000 + 2 * Math.floor(Math.random() * 2000);
const settings = (name: string, pt: number, te: number | null): LegCodec => ({
  pt, name, clockRate: 8000, channels: 1, fmtp: null, telephoneEventPt: te, ptime: 20,
});

interface Endpoint {
  socket: dgram.Socket;
  port: number;
  packets: { h: RtpHeader; payload: Buffer }[];
  close(): Promise<void>;
}

async function endpoint(): Promise<Endpoint> {
  const socket = dgram.createSocket('udp4');
  socket.bind(0, HOST);
  await once(socket, 'listening');
  const packets: Endpoint['packets'] = [];
  socket.on('message', (msg) => {
    const h = new RtpHeader();
    const off = readRtpHeader(msg, h);
    if (off >= 0) packets.push({ h, payload: Buffer.from(msg.subarray(off, off + h.payloadLength)) });
  });
  return {
    socket, port: socket.address().port, packets,
    close: () => new Promise((r) => socket.close(() => r())),
  };
}

/** Digits of the RFC 4733 packets of payload type `pt` (one per event timestamp with E set). */
function eventDigits(ep: Endpoint, pt: number): string {
  const codes = '0123456789*#ABCD';
  const e = new TelephoneEvent();
  const seen = new Set<number>();
  let digits = '';
  for (const p of ep.packets) {
    if (p.h.payloadType !== pt || !readTelephoneEvent(p.payload, e) || !e.end || seen.has(p.h.timestamp)) continue;
    seen.add(p.h.timestamp);
    digits += codes[e.event];
  }
  return digits;
}

/** One 20 ms step of what a phone sends: audio (160 PCMU bytes) or an RFC 4733 payload. */
type Step = { pt: number; payload: Buffer; marker: boolean; timestamp: number };

/** Paces `steps` at 20 ms from `from` to `port`, with one SSRC and running sequence numbers. */
async function play(from: dgram.Socket, port: number, steps: Step[]): Promise<void> {
  let seq = 1000;
  const t0 = performance.now();
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i];
    const pkt = Buffer.alloc(12 + s.payload.length);
    writeRtpHeader(pkt, { marker: s.marker, payloadType: s.pt, sequenceNumber: seq++, timestamp: s.timestamp, ssrc: 0x1234 });
    s.payload.copy(pkt, 12);
    from.send(pkt, port, HOST);
    const wait = t0 + (i + 1) * 20 - performance.now();
    if (wait > 0) await sleep(wait);
  }
}

function pcmuFrame(pcm: Int16Array): Buffer {
  const out = Buffer.alloc(160);
  PCMU.createEncoder({ sampleRate: 8000, fmtp: null }).encode(pcm, out);
  return out;
}

/** Audio, then each digit as RFC 4733 (100 ms, end x3) on PT `tePt`, with audio between. */
function rfc4733Steps(digits: DtmfDigit[], tePt: number): Step[] {
  const silence = Buffer.alloc(160, 0xff);
  const steps: Step[] = [];
  let ts = 16000;
  const audio = (n: number): void => {
    for (let i = 0; i < n; i++) {
      steps.push({ pt: 0, payload: silence, marker: false, timestamp: ts });
      ts += 160;
    }
  };
  audio(5);
  for (const d of digits) {
    const start = ts;
    for (let k = 1; k <= 5; k++) {
      const p = Buffer.alloc(4);
      writeTelephoneEvent(p, dtmfEventCode(d), k === 5, 10, k * 160);
      steps.push({ pt: tePt, payload: p, marker: k === 1, timestamp: start });
      ts += 160;
    }
    for (let k = 0; k < 2; k++) {
      const p = Buffer.alloc(4);
      writeTelephoneEvent(p, dtmfEventCode(d), true, 10, 800);
      steps.push({ pt: tePt, payload: p, marker: false, timestamp: start });
      ts += 160;
    }
    audio(5);
  }
  audio(5);
  return steps;
}

/** Each digit as a 100 ms Q.23 tone in PCMU, 100 ms of silence between. */
function inbandSteps(digits: DtmfDigit[]): Step[] {
  const steps: Step[] = [];
  let ts = 16000;
  const frame = (pcm: Int16Array): void => {
    steps.push({ pt: 0, payload: pcmuFrame(pcm), marker: false, timestamp: ts });
    ts += 160;
  };
  for (let i = 0; i < 5; i++) frame(new Int16Array(160));
  for (const d of digits) {
    const gen = dtmfTone(d, 8000);
    for (let i = 0; i < 5; i++) {
      const f = new Int16Array(160);
      gen.fill(f);
      frame(f);
    }
    for (let i = 0; i < 5; i++) frame(new Int16Array(160));
  }
  for (let i = 0; i < 5; i++) frame(new Int16Array(160));
  return steps;
}

describe('DTMF through the media engine (UDP loopback)', () => {
  let engine: MediaEngine;
  let events: DtmfEvent[];
  before(async () => {
    engine = await createMediaEngine({ portRange: [BASE, BASE + 99], bindAddress: HOST, workers: 1 });
    engine.on('dtmf', (e) => events.push(e));
  });
  after(() => engine.close());

  async function call(codecA: LegCodec, codecB: LegCodec): Promise<{ a: Endpoint; b: Endpoint; la: number; lb: number; aPort: number; done: () => Promise<void> }> {
    events = [];
    const [a, b] = [await endpoint(), await endpoint()];
    const [la, lb] = await engine.createLegPair();
    await engine.setCodec(la.id, codecA);
    await engine.setCodec(lb.id, codecB);
    await engine.setRemote(la.id, { address: HOST, rtpPort: a.port });
    await engine.setRemote(lb.id, { address: HOST, rtpPort: b.port });
    await engine.bridge(la.id, lb.id);
    return {
      a, b, la: la.id, lb: lb.id, aPort: la.rtpPort,
      done: async () => {
        await engine.releaseLeg(la.id);
        await engine.releaseLeg(lb.id);
        await a.close();
        await b.close();
      },
    };
  }

  test('RFC 4733 into a PCMU <-> PCMA call: dtmf events, regenerated RFC 4733 out of the other leg', async () => {
    const c = await call(settings('PCMU', 0, 101), settings('PCMA', 8, 96));
    try {
      await play(c.a.socket, c.aPort, rfc4733Steps(['1', '5', '#'], 101));
      await sleep(200);
      assert.deepEqual(events.map((e) => [e.legId, e.digit, e.source]), [[c.la, '1', 'rfc4733'], [c.la, '5', 'rfc4733'], [c.la, '#', 'rfc4733']]);
      assert.ok(events.every((e) => e.durationMs === 100), JSON.stringify(events));
      assert.equal(eventDigits(c.b, 96), '15#');
      assert.equal(eventDigits(c.b, 101), '', 'never the source PT');
      assert.ok(c.b.packets.some((p) => p.h.payloadType === 8), 'PCMA audio around the events');
      const ssrcs = new Set(c.b.packets.map((p) => p.h.ssrc));
      assert.equal(ssrcs.size, 1, 'events share the audio stream of the leg');
      assert.ok(!ssrcs.has(0x1234), 'regenerated, not relayed');
      const st = await engine.stats(c.la);
      assert.equal(st.media.dtmfIn, 3);
      assert.equal((await engine.stats(c.lb)).media.dtmfOut, 3);
    } finally {
      await c.done();
    }
  });

  test('in-band tones in PCMU (no telephone-event) -> inband events, RFC 4733 on the leg that has it', async () => {
    const c = await call(settings('PCMU', 0, null), settings('PCMA', 8, 101));
    try {
      await play(c.a.socket, c.aPort, inbandSteps(['3', '9', '*']));
      await sleep(200);
      assert.deepEqual(events.map((e) => [e.digit, e.source]), [['3', 'inband'], ['9', 'inband'], ['*', 'inband']]);
      assert.equal(eventDigits(c.b, 101), '39*');
    } finally {
      await c.done();
    }
  });

  test('sendDtmf on a relayed leg: RFC 4733 digits out, then back to relay', async () => {
    const c = await call(settings('PCMU', 0, 101), settings('PCMU', 0, 101));
    try {
      assert.equal((await engine.stats(c.lb)).media.mode, 'relay');
      await engine.sendDtmf(c.lb, '42', 80);
      await assert.rejects(engine.sendDtmf(c.lb, '4x'), { code: 'MEDIA_ERR_BAD_OPTION' });
      for (let i = 0; i < 100 && eventDigits(c.b, 101).length < 2; i++) await sleep(20);
      assert.equal(eventDigits(c.b, 101), '42');
      for (let i = 0; i < 50 && (await engine.stats(c.lb)).media.mode !== 'relay'; i++) await sleep(20);
      assert.equal((await engine.stats(c.lb)).media.mode, 'relay');
    } finally {
      await c.done();
    }
  });
});
