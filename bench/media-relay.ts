/**
 * The media bench's sender process (20 ms packets from 8 sockets: identical 172-octet packets
 * in `relay` mode, the load of `media-passthrough.ts` when gcc is missing; Opus/PCMU frames in
 * `transcode` mode) and the **transcoded** calls. The pass-through relay, with its C load
 * generator and the rtpengine reference, is `media-passthrough.ts`.
 *
 * Transcoded calls, on ONE engine worker (MEDIA_BENCH_WORKERS): leg A speaks Opus
 * (pre-encoded 20 ms packets of a 1 kHz tone, PT 111), leg B PCMU; the worker decodes, runs its
 * 20 ms clock and encodes both ways. Per step: late clock ticks / ticks, frames lost at the
 * receivers (frames a receiver got fewer than one per 20 ms: skipped ticks, dropped datagrams),
 * frames concealed on input, worker CPU, µs per transcoded frame, RSS per call.
 * Target: >= 200 calls on one core with < 0.1 % late ticks.
 *
 *   node --import tsx bench/media-relay.ts
 *   MEDIA_BENCH_TRANSCODE_STEPS=100,200 node --import tsx bench/media-relay.ts
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { setImmediate, setTimeout as sleep } from 'node:timers/promises';
import { createMediaEngine } from '../src/media/index.ts';
import type { MediaEngine } from '../src/media/index.ts';
import type { LegCodec } from '../src/media/leg-codec.ts';
import type { RelayWorkerLoad } from '../src/media/relay-worker-handle.ts';
import { writeRtpHeader, writeSequence, writeTimestamp } from '../src/media/rtp-writer.ts';
import { OpusEncoder } from '../src/media/codec/opus.ts';
import { LINEAR_TO_ULAW, g711Compress } from '../src/media/codec/g711.ts';
import { currentRssMb, footprint } from './memory.ts';
import { warmUpCodecs } from '../src/media/graph-codecs.ts';
import { RtpOutStream } from '../src/media/rtp-out-stream.ts';

const SLICE_NOTE = '5 ms slices';

const HOST = '127.0.0.1';
const PTIME_MS = 20;
const PACKET_BYTES = 172; // 12-octet RTP header + 160 octets of PCMU (20 ms at 8 kHz)
const SENDER_SOCKETS = 8;
const SENDER_FLAG = '--media-relay-sender';
const BIG_BUFFER = 4 << 20;

/** Sender process -> bench messages. */
type SenderMessage =
  | { type: 'ports'; ports: number[] }
  | { type: 'result'; sent: [number, number]; received: [number, number]; corrupt: number; cpuMs: number; lateMs: number; elapsedMs: number; expected: [number, number] };

/**
 * Bench -> sender: stream s goes from sender socket s % SENDER_SOCKETS to `targets[s]`.
 * `relay`: identical 172-octet packets both ways, counted back by the run tag in their SSRC.
 * `transcode`: even streams send Opus (PT 111), odd ones PCMU (PT 0); what comes back carries the
 * engine's own SSRCs and runs on the engine's clock, so it is counted in a time window (expected:
 * one frame per stream per 20 ms of the window) and its direction told by the payload type.
 */
interface TrafficOrder {
  type: 'run';
  mode: 'relay' | 'transcode';
  targets: number[];
  durationMs: number;
}

const OPUS_PT = 111;
const PCMU_PT = 0;
/** Returning stream in transcode mode: first/last timestamp seen and packets counted. */
interface ReturnStream {
  dir: 0 | 1;
  count: number;
}

const literalLookup = ((address: string, _family: unknown, cb: (e: null, a: string, f: number) => void) => cb(null, address, 4)) as unknown as dgram.SocketOptions['lookup'];

// ---------------------------------------------------------------- sender (child process)

/** Rate the caller's Opus is encoded at (a phone sends 48 kHz Opus; the engine decodes at 8). */
const OPUS_SOURCE_RATE = Number(process.env.MEDIA_BENCH_OPUS_RATE ?? 48000);

/** One second of 20 ms Opus packets of a 1 kHz tone, encoded once (the sender cycles them). */
const opusFrames: Buffer[] = [];
/** 20 ms of a 1 kHz tone in µ-law (a whole number of periods, so it repeats seamlessly). */
const pcmuFrame = Buffer.alloc(160);

function tone(rate: number, from: number, n: number): Int16Array {
  const pcm = new Int16Array(n);
  for (let i = 0; i < n; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * 1000 * (from + i)) / rate));
  return pcm;
}

function prepareFrames(): void {
  const enc = new OpusEncoder({ sampleRate: OPUS_SOURCE_RATE });
  const n = OPUS_SOURCE_RATE / 50;
  const out = Buffer.alloc(1500);
  for (let f = 0; f < 50; f++) {
    const len = enc.encode(tone(OPUS_SOURCE_RATE, f * n, n), out);
    opusFrames.push(Buffer.from(out.subarray(0, len)));
  }
  enc.close();
  g711Compress(LINEAR_TO_ULAW, tone(8000, 0, 160), 160, pcmuFrame);
}

async function senderMain(): Promise<void> {
  prepareFrames();
  const sockets: dgram.Socket[] = [];
  const received: [number, number] = [0, 0];
  let corrupt = 0;
  let run = 0;
  let mode: TrafficOrder['mode'] = 'relay';
  let counting = false;
  const returns = new Map<number, ReturnStream>();
  for (let i = 0; i < SENDER_SOCKETS; i++) {
    const s = dgram.createSocket({ type: 'udp4', lookup: literalLookup, recvBufferSize: BIG_BUFFER, sendBufferSize: BIG_BUFFER });
    s.on('message', (msg) => {
      const ssrc = msg.readUInt32BE(8);
      if (mode === 'transcode') {
        // The engine's decode path sends all the time (silence between runs): count in the window.
        if (!counting || msg.length < 12) return;
        const pt = msg[1] & 0x7f;
        let r = returns.get(ssrc);
        if (r === undefined) {
          // PCMU arriving = Opus transcoded A>B; Opus arriving = PCMU transcoded B>A.
          r = { dir: pt === PCMU_PT ? 0 : 1, count: 0 };
          returns.set(ssrc, r);
        }
        r.count++;
        received[r.dir]++;
        if (pt === PCMU_PT ? msg.length !== 172 : pt !== OPUS_PT) corrupt++;
        return;
      }
      // Tag (first 4 payload octets; the relay rewrites the SSRC into the sink leg's stream) =
      // run << 16 | stream: stream bit 0 is the direction (0 = A side, 1 = B side); the run tag
      // keeps stragglers of the previous run out of this one's count.
      if (msg.length < 16) return;
      const tag = msg.readUInt32BE(12);
      if (tag >>> 16 !== run) return;
      received[tag & 1]++;
      if (msg.length !== PACKET_BYTES || msg[PACKET_BYTES - 1] !== (tag & 0xff)) corrupt++;
    });
    // With a synchronous lookup, 'listening' fires inside bind(): pass the callback to bind.
    await new Promise<void>((resolve) => s.bind(0, HOST, resolve));
    sockets.push(s);
  }
  process.send!({ type: 'ports', ports: sockets.map((s) => s.address().port) } satisfies SenderMessage);

  process.on('message', async (order: TrafficOrder | { type: 'exit' }) => {
    if (order.type === 'exit') {
      for (const s of sockets) s.close();
      process.disconnect();
      return;
    }
    received[0] = received[1] = 0;
    corrupt = 0;
    run++;
    mode = order.mode ?? 'relay';
    returns.clear();
    const cpu0 = process.cpuUsage();
    // Transcode: start counting once the jitter buffers (60 ms) are primed, stop at the end of
    // sending; the frames between are what the engine had to deliver.
    let countFrom = 0;
    const startCounting = mode === 'transcode' ? setTimeout(() => { counting = true; countFrom = performance.now(); }, 200) : null;
    const { sent, lateMs, elapsedMs } = await pace(sockets, order.targets, order.durationMs, run, mode);
    const countTo = performance.now();
    if (startCounting !== null) {
      clearTimeout(startCounting);
      counting = false;
    }
    await sleep(400); // drain what is still in flight
    const cpu = process.cpuUsage(cpu0);
    // Transcode: every call's engine leg owes its receiver one frame per 20 ms of the window,
    // whether the worker ran the tick late, skipped it, or a datagram was dropped.
    const perDirection = ((countTo - countFrom) / PTIME_MS) * (order.targets.length / 2);
    const expected: [number, number] = mode === 'transcode' && countFrom > 0 ? [perDirection, perDirection] : [0, 0];
    process.send!({
      type: 'result',
      sent,
      received: [received[0], received[1]],
      corrupt,
      cpuMs: (cpu.user + cpu.system) / 1000,
      lateMs,
      elapsedMs,
      expected,
    } satisfies SenderMessage);
  });
}

/**
 * Sends one packet per stream every 20 ms, spread evenly over the period: every ~1 ms timer
 * tick sends the packets that are due by then, in stream order, yielding every 256 sends so
 * the returning packets are read too. One buffer per stream, rewritten in place (sequence +
 * timestamp). `lateMs` is how far the sender fell behind the schedule at worst: beyond a few
 * ptimes the sender, not the relay, is the bottleneck.
 */
async function pace(
  sockets: dgram.Socket[],
  targets: number[],
  durationMs: number,
  run: number,
  mode: TrafficOrder['mode'],
): Promise<{ sent: [number, number]; lateMs: number; elapsedMs: number }> {
  const streams = targets.length;
  const transcode = mode === 'transcode';
  const packets = targets.map((_, s) => {
    // Transcode: a header only; the payload goes as a second buffer of the same datagram.
    const buf = transcode ? Buffer.alloc(12) : Buffer.alloc(PACKET_BYTES, s & 0xff);
    const payloadType = transcode && (s & 1) === 0 ? OPUS_PT : PCMU_PT;
    writeRtpHeader(buf, { marker: false, payloadType, sequenceNumber: 0, timestamp: 0, ssrc: ((run << 16) | s) >>> 0 });
    if (!transcode) buf.writeUInt32BE(((run << 16) | s) >>> 0, 12);
    return buf;
  });
  const pair: Buffer[] = [packets[0], packets[0]];
  const seq = new Uint16Array(streams);
  const sent: [number, number] = [0, 0];
  const start = performance.now();
  const total = Math.floor((durationMs / PTIME_MS) * streams);
  let done = 0;
  let lateMs = 0;
  // A sender that falls behind stops at the deadline anyway: the step then shows fewer pkt/s.
  while (done < total && performance.now() - start < durationMs) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / PTIME_MS) * streams));
    lateMs = Math.max(lateMs, ((due - done) / streams) * PTIME_MS);
    const stop = Math.min(due, done + 256);
    for (; done < stop; done++) {
      const s = done % streams;
      const pkt = packets[s];
      const n = ++seq[s];
      writeSequence(pkt, n);
      if (transcode) {
        const opus = (s & 1) === 0;
        writeTimestamp(pkt, n * (opus ? 960 : 160));
        pair[0] = pkt;
        pair[1] = opus ? opusFrames[(n + s) % opusFrames.length] : pcmuFrame;
        sockets[s % sockets.length].send(pair, targets[s], HOST);
      } else {
        writeTimestamp(pkt, n * 160);
        sockets[s % sockets.length].send(pkt, targets[s], HOST);
      }
      sent[s & 1]++;
    }
    await (done < due ? setImmediate() : sleep(1));
  }
  return { sent, lateMs, elapsedMs: performance.now() - start };
}

// ---------------------------------------------------------------- bench (main)

export class Sender {
  private constructor(private readonly child: ChildProcess, readonly ports: number[]) {}

  static async start(): Promise<Sender> {
    const child = fork(fileURLToPath(import.meta.url), [SENDER_FLAG], { execArgv: ['--import', 'tsx'] });
    const [msg] = (await once(child, 'message')) as [SenderMessage];
    if (msg.type !== 'ports') throw new Error('sender did not report its ports');
    return new Sender(child, msg.ports);
  }

  async run(targets: number[], durationMs: number, mode: TrafficOrder['mode'] = 'relay'): Promise<Extract<SenderMessage, { type: 'result' }>> {
    const result = once(this.child, 'message') as Promise<[SenderMessage]>;
    this.child.send({ type: 'run', mode, targets, durationMs } satisfies TrafficOrder);
    const [msg] = await result;
    if (msg.type !== 'result') throw new Error('unexpected sender message');
    return msg;
  }

  async stop(): Promise<void> {
    const exited = once(this.child, 'exit');
    this.child.send({ type: 'exit' });
    await exited;
  }
}

/**
 * Adds bridged calls until there are `calls`, noting the engine port each stream targets (and the
 * leg ids when asked). With `codecs`, leg A and leg B get those negotiated codecs (transcoding
 * when they differ); without, the legs are pass-through.
 */
export async function growCalls(engine: MediaEngine, ports: number[], targets: number[], calls: number, o: { codecs?: [LegCodec, LegCodec]; legIds?: number[]; batch?: number } = {}): Promise<void> {
  const batch: Promise<void>[] = [];
  for (let i = targets.length / 2; i < calls; i++) {
    batch.push(
      (async () => {
        const [a, b] = await engine.createLegPair();
        // Stream 2i (A side) leaves sender socket 2i % K, stream 2i+1 (B side) the next one.
        await engine.setRemote(a.id, { address: HOST, rtpPort: ports[(2 * i) % ports.length] });
        await engine.setRemote(b.id, { address: HOST, rtpPort: ports[(2 * i + 1) % ports.length] });
        if (o.codecs) {
          await engine.setCodec(a.id, o.codecs[0]);
          await engine.setCodec(b.id, o.codecs[1]);
        }
        await engine.bridge(a.id, b.id);
        targets[2 * i] = a.rtpPort;
        targets[2 * i + 1] = b.rtpPort;
        o.legIds?.push(a.id, b.id);
      })(),
    );
    if (batch.length === (o.batch ?? 200)) await Promise.all(batch.splice(0));
  }
  await Promise.all(batch);
}

const pct = (lost: number, sent: number): number => (sent === 0 ? 0 : (100 * lost) / sent);
const pad = (v: string | number, width: number): string => String(v).padStart(width);

export interface MediaBenchResult {
  transcode: TranscodeStep[];
}

const stepList = (value: string | undefined, fallback: string): number[] =>
  (value ?? fallback).split(',').filter((v) => v.trim() !== '').map(Number);

export async function run(): Promise<MediaBenchResult> {
  // What each media worker pays at start (measured here, in a thread where libopus is still cold).
  const warm = await warmUpCodecs();
  console.log(`Opus warm-up (each media worker at start, off the hot path): ${warm.frames} frames at 8 + 48 kHz, ${warm.busyMs.toFixed(0)} ms CPU in ${SLICE_NOTE}, ${warm.wallMs.toFixed(0)} ms wall`);
  const transcodeSteps = stepList(process.env.MEDIA_BENCH_TRANSCODE_STEPS, '50,100,200,300,400');
  const stepMs = Number(process.env.MEDIA_BENCH_STEP_MS ?? 5000);
  const workers = Number(process.env.MEDIA_BENCH_WORKERS ?? 1);
  const maxCalls = Math.max(0, ...transcodeSteps);
  const engine = await createMediaEngine({
    portRange: [20000, 20000 + maxCalls * 4 + 400],
    bindAddress: HOST,
    workers,
    rtpTimeoutMs: 600_000,
    tickMs: 250, // worker CPU and clock counters sampled often enough to bracket each step
  });
  const sender = await Sender.start();
  let peakRss = process.memoryUsage.rss();
  const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 250);
  try {
    const transcode = await runTranscode(engine, sender, transcodeSteps, stepMs);
    console.log(`\ntranscoded Opus<->PCMU: ${bestTranscode(transcode)} calls on one worker (< 0.1 % late ticks); the pass-through relay of the same \`npm run bench -- media\` is printed above`);
    console.log(`peak RSS of the bench process (engine workers included): ${(peakRss / 2 ** 20).toFixed(0)} MB`);
    return { transcode };
  } finally {
    clearInterval(rssTimer);
    await sender.stop();
    await engine.close();
  }
}

// ---------------------------------------------------------------- transcoded calls

export interface TranscodeStep {
  calls: number;
  /** Clock ticks of the worker during the step, and those that ran > 10 ms after their due time. */
  ticks: number;
  lateTicks: number;
  skippedTicks: number;
  latePct: number;
  /** Frames the receivers missed (fewer than one per 20 ms), % of expected, per direction. */
  lostAtoB: number;
  lostBtoA: number;
  /** Input frames the decoders concealed (lost or late in the jitter buffer), % of frames in. */
  concealedPct: number;
  /** Worker thread CPU, % of one core. */
  workerCpu: number;
  /** Worker CPU per transcoded frame (one 20 ms frame carried one way: jitter, decode, encode, send). */
  usPerFrame: number;
  senderCpu: number;
  senderLateMs: number;
  /** Growth of the process RSS since before the first transcoded call, per call. */
  rssPerCallKb: number;
}

interface JitterSums {
  decoded: number;
  concealed: number;
}

/** Sum of decode-path counters over `legs` (stats round trips, batched by the engine). */
async function jitterSums(engine: MediaEngine, legs: number[]): Promise<JitterSums> {
  const sums: JitterSums = { decoded: 0, concealed: 0 };
  for (let i = 0; i < legs.length; i += 200) {
    const stats = await Promise.all(legs.slice(i, i + 200).map((id) => engine.stats(id)));
    for (const st of stats) {
      sums.decoded += st.media.framesDecoded;
      sums.concealed += st.media.jitter.concealed;
    }
  }
  return sums;
}

/** Leg A of a transcoded call negotiated Opus (PT 111), leg B PCMU. */
const TRANSCODED: [LegCodec, LegCodec] = [
  { pt: OPUS_PT, name: 'opus', clockRate: 48000, channels: 2, fmtp: 'minptime=10;useinbandfec=1', telephoneEventPt: null, ptime: 20 },
  { pt: PCMU_PT, name: 'PCMU', clockRate: 8000, channels: 1, fmtp: null, telephoneEventPt: null, ptime: 20 },
];

/** The worker's pushed counters, once a fresh push has arrived (so CPU and ticks are current). */
async function freshLoad(engine: MediaEngine): Promise<RelayWorkerLoad> {
  const before = engine.totals().perWorker[0].sampledAt;
  for (let i = 0; i < 40 && engine.totals().perWorker[0].sampledAt === before; i++) await sleep(25);
  return { ...engine.totals().perWorker[0] };
}

function bestTranscode(steps: TranscodeStep[]): string {
  const ok = steps.filter((s) => s.latePct < 0.1 && s.skippedTicks === 0);
  return ok.length ? String(Math.max(...ok.map((s) => s.calls))) : '-';
}

async function runTranscode(engine: MediaEngine, sender: Sender, steps: number[], stepMs: number): Promise<TranscodeStep[]> {
  const results: TranscodeStep[] = [];
  if (steps.length === 0) return results;
  const targets: number[] = [];
  const legIds: number[] = [];
  const base = await footprint();
  console.log(`\ntranscoded calls: Opus (${OPUS_SOURCE_RATE / 1000} kHz source, PT ${OPUS_PT}) <-> PCMU, 20 ms frames both ways, all on engine worker 0, ${stepMs} ms per step; RSS before: ${base.rss.toFixed(0)} MB`);
  console.log('calls  late ticks        lost A>B  lost B>A  concealed  worker CPU  us/frame  calls/core  sender   RSS/call');
  console.log('  (late: ticks > 10 ms behind / ticks, skipped in brackets; lost: frames the receivers never got; us/frame: worker CPU per 20 ms frame carried one way; calls/core: 100 frames/s per call at 100 % CPU)');
  for (const calls of steps) {
    await growCalls(engine, sender.ports, targets, calls, { codecs: TRANSCODED, legIds, batch: 100 });
    // Warm-up traffic: the new legs latch onto the sender and their jitter buffers settle.
    await sender.run(targets, 500, 'transcode');
    await sleep(200);
    const rssNow = currentRssMb();
    const j0 = await jitterSums(engine, legIds);
    const l0 = await freshLoad(engine);
    const r = await sender.run(targets, stepMs, 'transcode');
    const l1 = await freshLoad(engine);
    const j1 = await jitterSums(engine, legIds);
    const ticks = l1.clockTicks - l0.clockTicks;
    const lateTicks = l1.lateTicks - l0.lateTicks;
    const cpuMs = l1.cpuMs - l0.cpuMs;
    const spanMs = l1.sampledAt - l0.sampledAt;
    // Frames the worker carried, one way each: 2 per call per tick run (A>B and B>A).
    const frames = 2 * calls * ticks;
    const decoded = j1.decoded - j0.decoded;
    const concealed = j1.concealed - j0.concealed;
    const step: TranscodeStep = {
      calls,
      ticks,
      lateTicks,
      skippedTicks: l1.skippedTicks - l0.skippedTicks,
      latePct: pct(lateTicks, ticks),
      lostAtoB: pct(Math.max(0, r.expected[0] - r.received[0]), r.expected[0]),
      lostBtoA: pct(Math.max(0, r.expected[1] - r.received[1]), r.expected[1]),
      concealedPct: pct(concealed, decoded + concealed),
      workerCpu: (100 * cpuMs) / spanMs,
      usPerFrame: (1000 * cpuMs) / frames,
      senderCpu: (100 * r.cpuMs) / r.elapsedMs,
      senderLateMs: r.lateMs,
      rssPerCallKb: ((rssNow - base.rss) * 1024) / calls,
    };
    results.push(step);
    console.log(
      [
        pad(calls, 5),
        pad(`${step.latePct.toFixed(3)}% (${lateTicks}/${ticks}${step.skippedTicks ? `, ${step.skippedTicks} skipped` : ''})`, 17),
        pad(`${step.lostAtoB.toFixed(3)}%`, 8),
        pad(`${step.lostBtoA.toFixed(3)}%`, 8),
        pad(`${step.concealedPct.toFixed(3)}%`, 9),
        pad(`${step.workerCpu.toFixed(1)}%`, 10),
        pad(step.usPerFrame.toFixed(1), 8),
        pad(Math.round(1e6 / (step.usPerFrame * 100)), 10),
        pad(`${step.senderCpu.toFixed(0)}%`, 6),
        pad(`${step.rssPerCallKb.toFixed(0)} KB`, 9),
      ].join('  ') +
        (r.corrupt > 0 ? `  CORRUPT ${r.corrupt}` : '') +
        (r.lateMs > 5 * PTIME_MS ? `  (sender ${r.lateMs.toFixed(0)} ms behind: sender-bound)` : ''),
    );
  }
  const mem = await decodePathFootprint(200);
  console.log(
    `memory per transcoded call: RSS ${results.at(-1)!.rssPerCallKb.toFixed(0)} KB (process growth at ${results.at(-1)!.calls} calls, sockets and worker included); ` +
      `decode path alone (2 jitter buffers, Opus enc+dec, PCMU enc+dec, packet buffers; ${mem.calls} built in this thread): ` +
      `JS heap ${mem.heapKb.toFixed(1)} KB + array buffers ${mem.arrayKb.toFixed(1)} KB + libopus WASM ${mem.wasmKb.toFixed(1)} KB`,
  );
  console.log(`highest N with < 0.1 % late ticks and none skipped: ${bestTranscode(results)} (target >= 200; Asterisk ~33 per core, FreeSWITCH ~20-25)`);
  return results;
}

/**
 * Memory of one call's decode path, measured in this thread (the worker's heap is not visible
 * from here): both legs' RtpLegSource (jitter buffer + decoder) and RtpLegSink (encoder +
 * packetizer), as the graph builds them for an Opus <-> PCMU bridge.
 */
async function decodePathFootprint(calls: number): Promise<{ calls: number; heapKb: number; arrayKb: number; wasmKb: number }> {
  const { RtpLegSink, RtpLegSource } = await import('../src/media/rtp-leg-audio.ts');
  const { graphCodecs } = await import('../src/media/graph-codecs.ts');
  const { opusWasm } = await import('../src/media/codec/opus-wasm.ts');
  const opus = { pt: OPUS_PT, name: 'opus', clockRate: 48000, channels: 2, fmtp: null, telephoneEventPt: null, ptime: 20 };
  const pcmu = { pt: PCMU_PT, name: 'PCMU', clockRate: 8000, channels: 1, fmtp: null, telephoneEventPt: null, ptime: 20 };
  // A sink only needs its leg's outgoing stream and `sends` here: nothing is transmitted.
  const leg = { sends: false, out: new RtpOutStream() } as unknown as ConstructorParameters<typeof RtpLegSink>[3];
  opusWasm();
  const wasm0 = opusWasm().exports.memory.buffer.byteLength;
  const f0 = await footprint();
  const a0 = process.memoryUsage().arrayBuffers;
  const keep: unknown[] = [];
  for (let i = 0; i < calls; i++) {
    keep.push(
      new RtpLegSource(graphCodecs('opus', 48000, 2)!, opus, 8000),
      new RtpLegSink(graphCodecs('opus', 48000, 2)!, opus, 8000, leg),
      new RtpLegSource(graphCodecs('PCMU', 8000, 1)!, pcmu, 8000),
      new RtpLegSink(graphCodecs('PCMU', 8000, 1)!, pcmu, 8000, leg),
    );
  }
  const f1 = await footprint();
  const a1 = process.memoryUsage().arrayBuffers;
  const wasm1 = opusWasm().exports.memory.buffer.byteLength;
  const result = {
    calls,
    heapKb: ((f1.heap - f0.heap) * 1024) / calls,
    arrayKb: (a1 - a0) / 1024 / calls,
    wasmKb: (wasm1 - wasm0) / 1024 / calls,
  };
  for (const k of keep) (k as { close(): void }).close();
  return result;
}

if (process.argv.includes(SENDER_FLAG)) {
  await senderMain();
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await run();
}
