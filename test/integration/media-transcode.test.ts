/**
 * The media graph over real UDP on loopback: placement by group, IPv4 <-> IPv6 legs, payload
 * type rules, and (with the codecs of `src/media/codec/`) transcoding checked on the decoded
 * audio itself.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readWav, wavHeader } from '../../src/media/audio-file/wav.ts';
import { PCMA, PCMU } from '../../src/media/codec/g711.ts';
import { createMediaEngine } from '../../src/media/index.ts';
import type { LegCodec, MediaEngine, WorkerExitInfo } from '../../src/media/index.ts';
import { sendRtp } from '../helpers/rtp-sender.ts';
import { startRtpReceiver } from '../helpers/rtp-receiver.ts';
import { ipv6Available } from '../helpers/ipv6.ts';

const HOST = '127.0.0.1';
const BASE = 30000 + 2 * Math.floor(Math.random() * 4000);

const settings = (name: string, pt: number, clockRate: number, te: number | null = null): LegCodec => ({
  pt, name, clockRate, channels: 1, fmtp: null, telephoneEventPt: te, ptime: 20,
});
const PCMU_TE = settings('PCMU', 0, 8000, 101);

describe('media graph placement and payload types', () => {
  let engine: MediaEngine;
  before(async () => {
    engine = await createMediaEngine({ portRange: [BASE, BASE + 199], bindAddress: HOST, workers: 2 });
  });
  after(() => engine.close());

  test('endpoints of a group meet in one worker; the group is forgotten with its last endpoint', async () => {
    const a = await engine.createLeg({ group: 'call-1' });
    const other = await engine.createLeg({ group: 'call-2' });
    const b = await engine.createLeg({ group: 'call-1' });
    const c = await engine.createLeg({ group: 'call-1' });
    assert.deepEqual([b.worker, c.worker], [a.worker, a.worker]);
    assert.notEqual(other.worker, a.worker, 'least loaded worker for a new group');
    await engine.connect(c.id, [a.id, b.id]);
    for (const leg of [a, b, c]) await engine.releaseLeg(leg.id);
    // call-1 is gone: a new call-1 goes to the least loaded worker again (the one without call-2).
    const again = await engine.createLeg({ group: 'call-1' });
    assert.equal(again.worker, a.worker);
    await engine.releaseLeg(again.id);
    await engine.releaseLeg(other.id);
  });

  test('RTP of a payload type the leg did not negotiate is dropped and counted', async () => {
    const rx = await startRtpReceiver({ capture: true });
    try {
      const [la, lb] = [await engine.createLeg({ group: 'pt' }), await engine.createLeg({ group: 'pt' })];
      await engine.setCodec(la.id, PCMU_TE);
      await engine.setCodec(lb.id, { ...PCMU_TE, pt: 0, telephoneEventPt: 96 });
      await engine.setRemote(lb.id, { address: HOST, rtpPort: rx.port });
      // A's SDP was seen (no RTP is taken from an endpoint before that); it sends from another port (latched).
      await engine.setRemote(la.id, { address: HOST, rtpPort: 9 });
      await engine.bridge(la.id, lb.id);
      await sendRtp({ host: HOST, port: la.rtpPort, ssrc: 1, payloadType: 8, count: 5, ptimeMs: 0 });
      await sendRtp({ host: HOST, port: la.rtpPort, ssrc: 1, payloadType: 0, count: 5, ptimeMs: 0 });
      await sendRtp({ host: HOST, port: la.rtpPort, ssrc: 1, payloadType: 101, count: 2, ptimeMs: 0, samplesPerPacket: 4 });
      await rx.waitFor(7);
      const st = await engine.stats(la.id);
      assert.equal(st.media.droppedUnknownPt, 5);
      assert.equal(st.media.mode, 'relay');
      // One outgoing stream (the leg's own SSRC) carries audio and the rewritten telephone-event PT.
      assert.equal(rx.sources().length, 1);
      assert.deepEqual([...rx.sources()[0].payloadTypes].sort((x, y) => x - y), [0, 96], 'telephone-event PT rewritten 101 -> 96');
      await engine.releaseLeg(la.id);
      await engine.releaseLeg(lb.id);
    } finally {
      await rx.close();
    }
  });

  test('an IPv6 caller bridges to an IPv4 callee', async (t) => {
    if (!(await ipv6Available())) return t.skip('no ::1 on this host');
    const rx4 = await startRtpReceiver({ host: HOST });
    const rx6 = await startRtpReceiver({ host: '::1' });
    try {
      const l6 = await engine.createLeg({ group: 'v6', family: 6 });
      const l4 = await engine.createLeg({ group: 'v6' });
      assert.deepEqual([l6.address, l6.family, l4.address, l4.family], ['::1', 6, HOST, 4]);
      await engine.setRemote(l6.id, { address: '::1', rtpPort: rx6.port });
      await engine.setRemote(l4.id, { address: HOST, rtpPort: rx4.port });
      await engine.bridge(l6.id, l4.id);
      // Symmetric RTP: each side sends from the socket it receives on (the latch follows it).
      await sendRtp({ host: '::1', port: l6.rtpPort, socket: rx6.socket, ssrc: 6, count: 5, ptimeMs: 0 });
      await sendRtp({ host: HOST, port: l4.rtpPort, socket: rx4.socket, ssrc: 4, count: 5, ptimeMs: 0 });
      await Promise.all([rx4.waitFor(5), rx6.waitFor(5)]);
      assert.deepEqual(rx4.sources().map((x) => x.packets), [5]);
      assert.deepEqual(rx6.sources().map((x) => x.packets), [5]);
      await engine.releaseLeg(l6.id);
      await engine.releaseLeg(l4.id);
    } finally {
      await rx4.close();
      await rx6.close();
    }
  });
});

/** Power of `freq` in `samples` (Goertzel), normalised by length. */
function goertzel(samples: Int16Array, rate: number, freq: number): number {
  const k = 2 * Math.cos((2 * Math.PI * freq) / rate);
  let s1 = 0;
  let s2 = 0;
  for (const x of samples) {
    const s0 = x + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (s1 * s1 + s2 * s2 - k * s1 * s2) / samples.length;
}

/** Frequency (step 10 Hz between 200 and 3400) with the most power. */
function dominant(samples: Int16Array, rate: number): number {
  let best = 0;
  let bestPower = -1;
  for (let f = 200; f <= 3400; f += 10) {
    const p = goertzel(samples, rate, f);
    if (p > bestPower) {
      bestPower = p;
      best = f;
    }
  }
  return best;
}

describe('player and recorder endpoints', () => {
  let engine: MediaEngine;
  let dir: string;
  before(async () => {
    engine = await createMediaEngine({ portRange: [BASE + 200, BASE + 299], bindAddress: HOST, workers: 1 });
    dir = await mkdtemp(join(tmpdir(), 'strowger-media-'));
  });
  after(async () => {
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a recorder hearing a 1 kHz tone player writes a WAV whose spectrum peaks at 1 kHz', async () => {
    const player = await engine.createPlayer({ group: 'rec', source: { tone: { frequencies: [1000] } }, loop: true });
    const path = join(dir, 'tone.wav');
    const rec = await engine.createRecorder({ group: 'rec', path, rate: 8000 });
    assert.equal(rec.worker, player.worker);
    await engine.connect(rec.id, [player.id]);
    await sleep(500);
    await engine.stopRecorder(rec.id);
    await engine.releaseLeg(player.id);
    const wav = readWav(await readFile(path));
    assert.equal(wav.sampleRate, 8000);
    assert.ok(wav.samples.length >= 8000 * 0.3, `${wav.samples.length} samples`);
    assert.ok(Math.abs(dominant(wav.samples.subarray(800), 8000) - 1000) <= 20);
    const rms = Math.sqrt(wav.samples.reduce((a, x) => a + x * x, 0) / wav.samples.length);
    assert.ok(rms > 2000 && rms < 8000, `rms ${rms}`);
  });

  test('restartWorker reports players and recorders as lost with the legs', async () => {
    const leg = await engine.createLeg({ group: 'dead' });
    const player = await engine.createPlayer({ group: 'dead', source: { tone: { frequencies: [440] } }, loop: true });
    const rec = await engine.createRecorder({ group: 'dead', path: join(dir, 'dead.wav'), rate: 8000 });
    await engine.connect(rec.id, [player.id]);
    const exited = once(engine, 'workerExit') as Promise<[WorkerExitInfo]>;
    await engine.restartWorker(leg.worker);
    const [info] = await exited;
    assert.deepEqual([...info.lostLegs].sort((x, y) => x - y), [leg.id, player.id, rec.id]);
    assert.equal(engine.totals().portsInUse, 0);
    assert.equal(await engine.releaseLeg(player.id), false);
  });

  test('a missing player file: error event with the reason, the endpoint stays (silence)', async () => {
    const errors: { id: number; reason: string }[] = [];
    engine.on('endpointError', (e) => errors.push(e));
    const p = await engine.createPlayer({ source: { file: join(dir, 'nope.wav') } });
    for (let i = 0; i < 50 && errors.length === 0; i++) await sleep(10);
    assert.equal(errors[0]?.id, p.id);
    assert.match(errors[0].reason, /nope\.wav.*ENOENT/);
    assert.equal(await engine.releaseLeg(p.id), true);
  });

  test('a non-looping file player emits ended; a corrupt file is an error', async () => {
    const path = join(dir, 'short.wav');
    const samples = Buffer.alloc(2 * 800); // 100 ms at 8 kHz
    await writeFile(path, Buffer.concat([wavHeader(8000, samples.length), samples]));
    await writeFile(join(dir, 'bad.wav'), 'RIFF....WAVEjunk');
    const ended = once(engine, 'ended');
    const p = await engine.createPlayer({ group: 'end', source: { file: path } });
    const rec = await engine.createRecorder({ group: 'end', path: join(dir, 'sink.wav'), rate: 8000 });
    await engine.connect(rec.id, [p.id]);
    const [id] = (await ended) as [number];
    assert.equal(id, p.id);
    const failed = once(engine, 'endpointError');
    const bad = await engine.createPlayer({ source: { file: join(dir, 'bad.wav') } });
    const [info] = (await failed) as [{ id: number; reason: string }];
    assert.deepEqual([info.id, /no data chunk|fmt/.test(info.reason)], [bad.id, true]);
    await engine.stopRecorder(rec.id);
    for (const e of [p, bad]) await engine.releaseLeg(e.id);
  });
});

describe('transcoding over UDP', () => {
  let engine: MediaEngine;
  before(async () => {
    engine = await createMediaEngine({ portRange: [BASE + 300, BASE + 399], bindAddress: HOST, workers: 1 });
  });
  after(() => engine.close());

  /** 20 ms of a 1 kHz sine at -10 dBFS, frame `i`, as PCMU. */
  function toneFrame(i: number): Buffer {
    const pcm = new Int16Array(160);
    for (let n = 0; n < 160; n++) pcm[n] = Math.round(10000 * Math.sin((2 * Math.PI * 1000 * (i * 160 + n)) / 8000));
    const out = Buffer.alloc(160);
    PCMU.createEncoder().encode(pcm, out);
    return out;
  }

  for (const [name, pt, codec] of [['PCMA', 8, PCMA], ['PCMU', 0, PCMU]] as const) {
    test(`a 1 kHz tone sent as PCMU into leg A comes out of leg B as ${name} (decoded and measured)`, async () => {
      const rxA = await startRtpReceiver();
      const rxB = await startRtpReceiver({ capture: true });
      try {
        const a = await engine.createLeg({ group: `t-${name}` });
        const b = await engine.createLeg({ group: `t-${name}` });
        await engine.setCodec(a.id, settings('PCMU', 0, 8000));
        await engine.setCodec(b.id, settings(name, pt, 8000));
        await engine.setRemote(a.id, { address: HOST, rtpPort: rxA.port });
        await engine.setRemote(b.id, { address: HOST, rtpPort: rxB.port });
        // Same codec on a second sink forces the decode path when B hears A *and* a silent player.
        const quiet = await engine.createPlayer({ group: `t-${name}`, source: { tone: { frequencies: [1000], onMs: 0, offMs: 20 } }, loop: true });
        await engine.connect(b.id, name === 'PCMU' ? [a.id, quiet.id] : [a.id]);
        await engine.connect(a.id, [b.id]);
        await sendRtp({ host: HOST, port: a.rtpPort, socket: rxA.socket, ssrc: 0xa, count: 25, payload: toneFrame });
        await rxB.waitFor(20);
        const st = await engine.stats(b.id);
        assert.equal(st.media.mode, 'transcode');
        const src = rxB.sources()[0];
        assert.deepEqual([...src.payloadTypes], [pt]);
        const dec = codec.createDecoder();
        const pcm = new Int16Array(160 * src.payloads.length);
        src.payloads.forEach((p, i) => dec.decode(p, pcm.subarray(i * 160)));
        // Frames with any energy (the jitter buffer's start and the tail are silence).
        const frames: Int16Array[] = [];
        for (let i = 0; i < src.payloads.length; i++) {
          const f = pcm.subarray(i * 160, i * 160 + 160);
          if (f.some((x) => Math.abs(x) > 100)) frames.push(f);
        }
        const audible = new Int16Array(frames.length * 160);
        frames.forEach((f, i) => audible.set(f, i * 160));
        assert.ok(audible.length > 160 * 10, `${audible.length} audible samples`);
        assert.ok(Math.abs(dominant(audible, 8000) - 1000) <= 20, `dominant ${dominant(audible, 8000)}`);
        const rms = Math.sqrt(audible.reduce((s, x) => s + x * x, 0) / audible.length);
        assert.ok(rms > 5000 && rms < 9000, `rms ${rms}`);
        assert.ok((await engine.stats(a.id)).media.framesDecoded >= 20);
        for (const e of [a, b, quiet]) await engine.releaseLeg(e.id);
      } finally {
        await rxA.close();
        await rxB.close();
      }
    });
  }
});
