/**
 * `npm run bench -- codecs`: CPU cost of each codec of the media graph per 20 ms mono frame,
 * encode and decode separately, and of each Opus package that was a candidate (the choice and
 * its reasons are in bench/README.md). Reference from the same run: a plain JS loop copying a
 * 960-sample frame (the least any per-frame stage costs), so ratios compare across machines.
 *
 * Frames per second per core = 1e6 / (encode + decode µs): encode+decode pairs a core sustains.
 * A call transcoding both ways needs 50 a second (per 20 ms: one encode one way, one decode the other).
 * Candidates that are not installed are reported and skipped.
 */
import { createRequire } from 'node:module';
import { PCMA, PCMU } from '../src/media/codec/g711.ts';
import { OPUS, OpusDecoder, OpusEncoder } from '../src/media/codec/opus.ts';
import { Resampler } from '../src/media/codec/resampler.ts';
import type { AudioCodec } from '../src/media/codec/types.ts';

const require = createRequire(import.meta.url);
/** Enough for V8 to tier the WASM up to TurboFan (the first ~500 Opus frames run on Liftoff, ~5× slower). */
const WARMUP_FRAMES = 1000;
const MIN_MS = Number(process.env.BENCH_CODECS_MS ?? 600);

/** One second of speech-like test audio at `rate`: three partials, vibrato and noise bursts. */
function signal(rate: number): Int16Array {
  const out = new Int16Array(rate);
  let seed = 12345;
  for (let i = 0; i < rate; i++) {
    const t = i / rate;
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    const f0 = 180 + 40 * Math.sin(2 * Math.PI * 3 * t);
    const env = 0.5 + 0.5 * Math.sin(2 * Math.PI * 4 * t);
    const v = env * (6000 * Math.sin(2 * Math.PI * f0 * t) + 3000 * Math.sin(2 * Math.PI * 3 * f0 * t) + 1500 * Math.sin(2 * Math.PI * 7 * f0 * t)) +
      (t % 0.25 < 0.05 ? 2000 * (seed / 2 ** 31 - 1) : 0);
    out[i] = Math.round(v);
  }
  return out;
}

/** µs per call of `fn(frameIndex)`, after a warm-up, over at least MIN_MS. */
function timeIt(fn: (i: number) => void): number {
  for (let i = 0; i < WARMUP_FRAMES; i++) fn(i);
  let n = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < MIN_MS * 1e6) {
    for (let k = 0; k < 50; k++) fn(n++);
    elapsed = Number(process.hrtime.bigint() - start);
  }
  return elapsed / 1e3 / n;
}

interface Row {
  name: string;
  rate: number;
  enc: number;
  dec: number;
  bytes: number;
}

/** A candidate reduced to "encode a frame, decode a packet"; both may allocate (package APIs do). */
interface Pair {
  encode(pcm: Int16Array): Uint8Array;
  decode(pkt: Uint8Array): number;
  close?(): void;
}

function measurePair(name: string, rate: number, make: () => Pair): Row {
  const frame = rate / 50;
  const src = signal(rate);
  const frames = Array.from({ length: 50 }, (_, k) => src.slice(k * frame, (k + 1) * frame));
  const p = make();
  const packets = frames.map((f) => Buffer.from(p.encode(f)));
  const bytes = packets.reduce((a, b) => a + b.length, 0) / packets.length;
  const enc = timeIt((i) => p.encode(frames[i % 50]!));
  const q = make(); // fresh decoder state, fed the packets in order
  const dec = timeIt((i) => q.decode(packets[i % 50]!));
  p.close?.();
  q.close?.();
  return { name, rate, enc, dec, bytes };
}

/** Our AudioCodec interface: caller-owned buffers, no allocation per frame. */
function ours(codec: AudioCodec, rate: number, label = codec.info.name, mkEnc = () => codec.createEncoder({ sampleRate: rate }), mkDec = () => codec.createDecoder({ sampleRate: rate })): Row {
  const out = Buffer.alloc(1500);
  const pcm = new Int16Array(rate * 0.12);
  return measurePair(label, rate, () => {
    const e = mkEnc();
    const d = mkDec();
    return {
      encode: (f) => out.subarray(0, e.encode(f, out)),
      decode: (pkt) => d.decode(pkt, pcm),
      close: () => (e.close(), d.close()),
    };
  });
}

function evanOpus(rate: number): Pair {
  const { Encoder, Decoder } = require('@evan/opus') as typeof import('@evan/opus');
  const e = new Encoder({ channels: 1, sample_rate: rate as 48000, application: 'voip' });
  e.complexity = 3;
  e.bitrate = rate <= 12000 ? 16000 : 24000;
  const d = new Decoder({ channels: 1, sample_rate: rate as 48000 });
  return { encode: (f) => e.encode(f), decode: (p) => d.decode(p).length };
}

function discordOpus(rate: number): Pair {
  const { OpusEncoder: Native } = require('@discordjs/opus') as { OpusEncoder: new (rate: number, channels: number) => {
    encode(b: Buffer): Buffer; decode(b: Buffer): Buffer; applyEncoderCTL(ctl: number, v: number): void; setBitrate(b: number): void;
  } };
  const c = new Native(rate, 1);
  c.applyEncoderCTL(4010, 3);
  c.setBitrate(rate <= 12000 ? 16000 : 24000);
  return {
    encode: (f) => c.encode(Buffer.from(f.buffer, f.byteOffset, f.byteLength)),
    decode: (p) => c.decode(p as Buffer).length,
  };
}

function opusscript(rate: number): Pair {
  const OpusScript = require('opusscript') as {
    new (rate: number, ch: number, app: number): { encode(b: Buffer, n: number): Buffer; decode(b: Buffer): Buffer; encoderCTL(c: number, v: number): void; setBitrate(b: number): void; delete(): void };
  };
  const c = new OpusScript(rate, 1, 2048);
  c.encoderCTL(4010, 3);
  c.setBitrate(rate <= 12000 ? 16000 : 24000);
  return {
    encode: (f) => c.encode(Buffer.from(f.buffer, f.byteOffset, f.byteLength), f.length),
    decode: (p) => c.decode(p as Buffer).length,
    close: () => c.delete(),
  };
}

function optional(name: string, rate: number, make: (rate: number) => Pair): Row | string {
  try {
    return measurePair(name, rate, () => make(rate));
  } catch (err) {
    return `${name} @ ${rate}: not measured (${(err as Error).message.split('\n')[0]})`;
  }
}

/** Opus at each complexity, for the server setting (OPUS_COMPLEXITY). */
function complexityRow(rate: number, complexity: number): Row {
  return ours(OPUS, rate, `opus (ours) complexity ${complexity}`, () => {
    const e = new OpusEncoder({ sampleRate: rate });
    (e as unknown as { wasm: { exports: { opus_encoder_ctl_set(st: number, r: number, v: number): number } }; st: number }).wasm.exports
      .opus_encoder_ctl_set((e as unknown as { st: number }).st, 4010, complexity);
    return e;
  }, () => new OpusDecoder({ sampleRate: rate }));
}

function resamplerRow(from: number, to: number): Row {
  const r = new Resampler(from, to);
  const src = signal(from);
  const frame = from / 50;
  const out = new Int16Array(r.maxOutput(frame));
  const us = timeIt((i) => r.process(src.subarray((i % 50) * frame, (i % 50 + 1) * frame), out));
  return { name: `resampler ${from} -> ${to}`, rate: from, enc: us, dec: 0, bytes: 0 };
}

const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number): string => (s.length >= n ? s : ' '.repeat(n - s.length) + s);

export async function run(): Promise<void> {
  // Reference: copy a 960-sample frame element by element.
  const a = signal(48000).subarray(0, 960);
  const b = new Int16Array(960);
  const copyUs = timeIt(() => {
    for (let i = 0; i < 960; i++) b[i] = a[i]!;
  });
  process.stdout.write(`reference: JS loop copying a 960-sample frame: ${copyUs.toFixed(3)} µs\n\n`);

  const rows: (Row | string)[] = [];
  const g722 = await import('../src/media/codec/g722.ts').then((m) => (m as { G722: AudioCodec }).G722, () => null);
  rows.push(ours(PCMU, 8000), ours(PCMA, 8000));
  if (g722 !== null) rows.push(ours(g722, 16000));
  for (const rate of [48000, 8000]) {
    rows.push(ours(OPUS, rate, `opus (ours: libopus wasm, c=3)`));
    rows.push(optional('@evan/opus 1.0.3 API (native .node)', rate, evanOpus));
    rows.push(optional('@discordjs/opus 0.10.0 (node-gyp)', rate, discordOpus));
    rows.push(optional('opusscript 0.1.1 (wasm)', rate, opusscript));
  }
  for (const c of [0, 1, 3, 5, 10]) rows.push(complexityRow(48000, c));
  for (const [f, t] of [[8000, 48000], [48000, 8000], [8000, 16000], [16000, 8000], [16000, 48000], [48000, 16000]] as const) rows.push(resamplerRow(f, t));

  process.stdout.write(`${pad('codec', 42)} ${lpad('rate', 6)} ${lpad('enc µs', 8)} ${lpad('dec µs', 8)} ${lpad('×copy', 6)} ${lpad('frames/s/core', 14)} ${lpad('B/frame', 8)}\n`);
  for (const r of rows) {
    if (typeof r === 'string') {
      process.stdout.write(`${r}\n`);
      continue;
    }
    const total = r.enc + r.dec;
    process.stdout.write(
      `${pad(r.name, 42)} ${lpad(String(r.rate), 6)} ${lpad(r.enc.toFixed(1), 8)} ${lpad(r.dec ? r.dec.toFixed(1) : '-', 8)} ${lpad((total / copyUs).toFixed(0), 6)} ${lpad(Math.round(1e6 / total).toLocaleString('en'), 14)} ${lpad(r.bytes ? r.bytes.toFixed(1) : '-', 8)}\n`,
    );
  }
  process.stdout.write(`\npeak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB\n`);
}
