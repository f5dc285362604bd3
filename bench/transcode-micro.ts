/**
 * Micro-benchmark of the transcoded call path without the kernel: N Opus <-> PCMU calls on one
 * MediaGraph with no-op sockets and a hand-driven clock, µs per call per 20 ms tick split by
 * stage (receive of both packets into the jitter buffers, the graph tick: decode, encode,
 * packetize), and the Opus codec calls alone by complexity and by what the caller sent.
 * What it leaves out (the UDP syscalls, ~2 sends + 2 receives per call per tick) is the
 * difference to `npm run bench -- media`.
 *
 *   node --import tsx bench/transcode-micro.ts
 *   TRANSCODE_MICRO_OPUS_RATE=8000 node --import tsx bench/transcode-micro.ts
 */
import { MediaGraph } from '../src/media/media-graph.ts';
import { graphCodecs, graphResampler } from '../src/media/graph-codecs.ts';
import { RelayLeg } from '../src/media/relay-leg.ts';
import type { UdpPort } from '../src/media/relay-leg.ts';
import type { LegCodec } from '../src/media/leg-codec.ts';
import { writeRtpHeader } from '../src/media/rtp-writer.ts';
import { OpusDecoder, OpusEncoder, OPUS_COMPLEXITY } from '../src/media/codec/opus.ts';
import { LINEAR_TO_ULAW, g711Compress } from '../src/media/codec/g711.ts';

const CALLS = Number(process.env.TRANSCODE_MICRO_CALLS ?? 200);
const SOURCE_RATE = Number(process.env.TRANSCODE_MICRO_OPUS_RATE ?? 48000);
const TICKS = Number(process.env.TRANSCODE_MICRO_TICKS ?? 500);

const OPUS: LegCodec = { pt: 111, name: 'opus', clockRate: 48000, channels: 2, fmtp: 'minptime=10;useinbandfec=1', telephoneEventPt: null, ptime: 20 };
const PCMU: LegCodec = { pt: 0, name: 'PCMU', clockRate: 8000, channels: 1, fmtp: null, telephoneEventPt: null, ptime: 20 };

/** Speech-like test audio (partials with vibrato, noise bursts), as in bench/codecs.ts. */
function speech(rate: number, seconds: number): Int16Array {
  const out = new Int16Array(rate * seconds);
  let seed = 12345;
  for (let i = 0; i < out.length; i++) {
    const t = i / rate;
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    const f0 = 180 + 40 * Math.sin(2 * Math.PI * 3 * t);
    const env = 0.5 + 0.5 * Math.sin(2 * Math.PI * 4 * t);
    out[i] = Math.round(env * (6000 * Math.sin(2 * Math.PI * f0 * t) + 3000 * Math.sin(2 * Math.PI * 3 * f0 * t) + 1500 * Math.sin(2 * Math.PI * 7 * f0 * t)) +
      (t % 0.25 < 0.05 ? 2000 * (seed / 2 ** 31 - 1) : 0));
  }
  return out;
}

function encodeAll(rate: number, pcm: Int16Array, complexity?: number): Buffer[] {
  const enc = new OpusEncoder({ sampleRate: rate }, complexity);
  const n = rate / 50;
  const out = Buffer.alloc(1500);
  const packets: Buffer[] = [];
  for (let f = 0; f + n <= pcm.length; f += n) packets.push(Buffer.from(out.subarray(0, enc.encode(pcm.subarray(f, f + n), out))));
  enc.close();
  return packets;
}

const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[xs.length >> 1]!;

/** CPU µs of this process (not wall time: the machine is shared, CPU time is what we spend). */
function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

function timeUs(rounds: number, fn: () => void): number {
  const t: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = cpuUs();
    fn();
    t.push(cpuUs() - t0);
  }
  return median(t);
}

function codecs(): void {
  const pcm8 = speech(8000, 2);
  const pcmSrc = speech(SOURCE_RATE, 2);
  const frames8 = Array.from({ length: 100 }, (_, k) => pcm8.subarray(k * 160, (k + 1) * 160));
  const out = Buffer.alloc(1500);
  console.log(`Opus at 8 kHz, µs per 20 ms frame (median of rounds of 100 frames, after 1,000 warm-up frames; speech-like signal):`);
  for (const c of [0, 1, 2, 3, 4, 5]) {
    const enc = new OpusEncoder({ sampleRate: 8000 }, c);
    for (let i = 0; i < 1000; i++) enc.encode(frames8[i % 100]!, out);
    const us = timeUs(30, () => { for (let i = 0; i < 100; i++) enc.encode(frames8[i]!, out); }) / 100;
    const bytes = encodeAll(8000, pcm8, c).reduce((a, p) => a + p.length, 0) / 100;
    enc.close();
    console.log(`  encode complexity ${c}${c === OPUS_COMPLEXITY ? ' (default)' : ''}: ${us.toFixed(1)} µs, ${bytes.toFixed(1)} bytes/frame`);
  }
  const dst = new Int16Array(960 * 6);
  for (const [label, packets] of [[`${SOURCE_RATE / 1000} kHz caller`, encodeAll(SOURCE_RATE, pcmSrc)], ['8 kHz (SILK NB) caller', encodeAll(8000, pcm8)]] as const) {
    const dec = new OpusDecoder({ sampleRate: 8000 });
    for (let i = 0; i < 1000; i++) dec.decode(packets[i % 100]!, dst);
    const us = timeUs(30, () => { for (let i = 0; i < 100; i++) dec.decode(packets[i]!, dst); }) / 100;
    dec.close();
    console.log(`  decode to 8 kHz, ${label}: ${us.toFixed(1)} µs`);
  }
}

function graph(): void {
  const noop: UdpPort = { send: () => {} };
  const g = new MediaGraph({ codecs: graphCodecs, resampler: graphResampler, clock: { now: () => 0, schedule: () => () => {} } });
  const legs: [RelayLeg, RelayLeg][] = [];
  for (let i = 0; i < CALLS; i++) {
    const a = new RelayLeg(2 * i + 1, 20000 + 4 * i, noop, noop, 3000, 2000);
    const b = new RelayLeg(2 * i + 2, 20002 + 4 * i, noop, noop, 3000, 2000);
    for (const [leg, port] of [[a, 4000], [b, 6000]] as const) {
      leg.setRemote({ address: '192.0.2.1', rtpPort: port + 2 * i, rtcpPort: port + 2 * i + 1, rtcpMux: false }, 0);
      g.addLeg(leg);
    }
    g.setCodec(a.id, OPUS);
    g.setCodec(b.id, PCMU);
    g.bridge(a.id, b.id, 0);
    legs.push([a, b]);
  }
  const opus = encodeAll(SOURCE_RATE, speech(SOURCE_RATE, 1));
  const ulaw = Buffer.alloc(160);
  const pcm8 = speech(8000, 1);
  const ulawFrames = Array.from({ length: 50 }, (_, k) => {
    g711Compress(LINEAR_TO_ULAW, pcm8.subarray(k * 160, (k + 1) * 160), 160, ulaw);
    return Buffer.from(ulaw);
  });
  const pa = Buffer.alloc(1500);
  const pb = Buffer.alloc(172);
  let seq = 0;
  const receive = (): void => {
    seq++;
    const op = opus[seq % opus.length]!;
    op.copy(pa, 12);
    ulawFrames[seq % 50]!.copy(pb, 12);
    for (let i = 0; i < CALLS; i++) {
      const [a, b] = legs[i]!;
      writeRtpHeader(pa, { marker: false, payloadType: 111, sequenceNumber: seq & 0xffff, timestamp: seq * 960, ssrc: 1000 + i });
      writeRtpHeader(pb, { marker: false, payloadType: 0, sequenceNumber: seq & 0xffff, timestamp: seq * 160, ssrc: 5000 + i });
      a.receiveRtp(pa.subarray(0, 12 + op.length), '192.0.2.1', 4000 + 2 * i, seq * 20);
      b.receiveRtp(pb, '192.0.2.1', 6000 + 2 * i, seq * 20);
    }
  };
  // Prime the jitter buffers and warm everything up.
  for (let i = 0; i < 600; i++) {
    receive();
    g.tick();
  }
  const rx: number[] = [];
  const tk: number[] = [];
  for (let i = 0; i < TICKS; i++) {
    let t0 = cpuUs();
    receive();
    rx.push((cpuUs() - t0) / CALLS);
    t0 = cpuUs();
    g.tick();
    tk.push((cpuUs() - t0) / CALLS);
  }
  const s = g.stats(legs[0]![0].id);
  console.log(`graph, ${CALLS} Opus (${SOURCE_RATE / 1000} kHz caller) <-> PCMU calls, no-op sockets, CPU µs per call per 20 ms tick (median of ${TICKS} ticks):`);
  console.log(`  receive 2 packets into the jitter buffers: ${median(rx).toFixed(1)} | tick (decode both, encode both, packetize): ${median(tk).toFixed(1)} (p99 ${tk.sort((a, b) => a - b)[Math.floor(tk.length * 0.99)]!.toFixed(1)}) | total ${(median(rx) + median(tk)).toFixed(1)}`);
  console.log(`  leg A: ${s.framesDecoded} decoded, ${s.jitter.concealed} concealed, ${s.framesEncoded} encoded`);
}

if (process.env.TRANSCODE_MICRO_CODECS !== "0") codecs();
graph();
