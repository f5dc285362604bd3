import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OPUS, OPUS_COMPLEXITY, OPUS_NB_COMPLEXITY, OpusDecoder, OpusEncoder } from '../../../../src/media/codec/opus.ts';
import { MediaError } from '../../../../src/media/errors.ts';
import { bestDelay, dominantFrequency, sine, snrDb, toneAmplitude } from './audio-helpers.ts';

/** Encodes `pcm` in 20 ms frames; returns the packets. */
function encodeFrames(enc: ReturnType<typeof OPUS.createEncoder>, pcm: Int16Array): Buffer[] {
  const frame = enc.sampleRate / 50;
  const out: Buffer[] = [];
  const buf = Buffer.alloc(1500);
  for (let i = 0; i + frame <= pcm.length; i += frame) out.push(Buffer.from(buf.subarray(0, enc.encode(pcm.subarray(i, i + frame), buf))));
  return out;
}

describe('Opus (RFC 7587) over libopus WASM', () => {
  test('info is opus/48000/2, dynamic PT', () => {
    assert.deepEqual(OPUS.info, { name: 'opus', clockRate: 48000, channels: 2, staticPt: null, sampleRate: 48000 });
  });

  for (const rate of [48000, 16000, 8000]) {
    test(`a 1 kHz tone survives encode + decode at ${rate} Hz (frequency, level within 2 dB)`, () => {
      const enc = OPUS.createEncoder({ sampleRate: rate });
      const dec = OPUS.createDecoder({ sampleRate: rate });
      assert.equal(enc.sampleRate, rate);
      const pcm = sine(rate, rate, 1000, 10000);
      const packets = encodeFrames(enc, pcm);
      assert.equal(packets.length, 50);
      const out = new Int16Array(rate);
      const frame = new Int16Array((rate * 120) / 1000);
      let w = 0;
      for (const p of packets) {
        assert.ok(p.length > 10 && p.length < 200, `packet of ${p.length} bytes`);
        const n = dec.decode(p, frame);
        assert.equal(n, rate / 50);
        out.set(frame.subarray(0, n), w);
        w += n;
      }
      assert.equal(dominantFrequency(out.subarray(rate / 5), rate, 500, 1500, 10), 1000);
      const amp = toneAmplitude(out, rate, 1000, rate / 5, rate);
      assert.ok(Math.abs(20 * Math.log10(amp / 10000)) < 2, `level ${amp}`);
      enc.close();
      dec.close();
    });
  }

  test('fmtp sets FEC, DTX, bandwidth and bitrate (RFC 7587 §6.1)', () => {
    const plain = new OpusEncoder();
    assert.equal(plain.settings.fec, false);
    assert.equal(plain.settings.dtx, false);
    assert.equal(plain.settings.maxBandwidth, 1105);
    const e = new OpusEncoder({ fmtp: 'maxplaybackrate=16000; useinbandfec=1;usedtx=1; maxaveragebitrate=20000; stereo=1' });
    assert.deepEqual(
      { fec: e.settings.fec, dtx: e.settings.dtx, bw: e.settings.maxBandwidth, bitrate: e.settings.bitrate },
      { fec: true, dtx: true, bw: 1103, bitrate: 20000 },
    );
    assert.equal(new OpusEncoder({ sampleRate: 8000 }).settings.maxBandwidth, 1101);
    assert.throws(() => OPUS.createEncoder({ sampleRate: 44100 }), MediaError);
  });

  test('narrowband coding uses the cheaper complexity; wideband keeps the default', () => {
    assert.equal(new OpusEncoder({ sampleRate: 8000 }).settings.complexity, OPUS_NB_COMPLEXITY);
    assert.equal(new OpusEncoder({ sampleRate: 12000 }).settings.complexity, OPUS_NB_COMPLEXITY);
    assert.equal(new OpusEncoder({ sampleRate: 48000, fmtp: 'maxplaybackrate=8000' }).settings.complexity, OPUS_NB_COMPLEXITY);
    assert.equal(new OpusEncoder({ sampleRate: 16000 }).settings.complexity, OPUS_COMPLEXITY);
    assert.equal(new OpusEncoder({ sampleRate: 48000 }).settings.complexity, OPUS_COMPLEXITY);
    assert.equal(new OpusEncoder({ sampleRate: 8000 }, 5).settings.complexity, 5);
  });

  test('at 8 kHz, the narrowband complexity codes a voiced signal within 0.5 dB SNR of complexity 3', () => {
    // A voice-like harmonic series (gliding 100-180 Hz fundamental up to 3.4 kHz), 2 s.
    const rate = 8000;
    const pcm = new Int16Array(2 * rate);
    for (let i = 0; i < pcm.length; i++) {
      const t = i / rate;
      const f0 = 140 + 40 * Math.sin(2 * Math.PI * 0.7 * t);
      let v = 0;
      for (let h = 1; h * f0 < 3400; h++) v += (4000 / h) * Math.sin(2 * Math.PI * h * f0 * t + h);
      pcm[i] = Math.round(v);
    }
    const snrAt = (complexity: number): number => {
      const enc = new OpusEncoder({ sampleRate: rate }, complexity);
      const dec = new OpusDecoder({ sampleRate: rate });
      const out = new Int16Array(pcm.length);
      const frame = new Int16Array(960);
      encodeFrames(enc, pcm).forEach((p, k) => out.set(frame.subarray(0, dec.decode(p, frame)), k * 160));
      enc.close();
      dec.close();
      const delay = bestDelay(pcm.subarray(rate / 2), out.subarray(rate / 2), 200);
      return snrDb(pcm, out, delay, rate / 2);
    };
    const nb = snrAt(OPUS_NB_COMPLEXITY);
    const ref = snrAt(3);
    assert.ok(nb > 1, `SNR ${nb.toFixed(2)} dB (complexity 3: ${ref.toFixed(2)} dB)`);
    assert.ok(nb > ref - 0.5, `complexity ${OPUS_NB_COMPLEXITY}: ${nb.toFixed(2)} dB vs complexity 3: ${ref.toFixed(2)} dB`);
  });

  test('usedtx=1: silence stops producing packets (encode returns 0)', () => {
    const dtx = OPUS.createEncoder({ fmtp: 'usedtx=1' });
    const normal = OPUS.createEncoder();
    const silence = new Int16Array(960);
    const buf = Buffer.alloc(1500);
    let dtxEmpty = 0;
    let normalEmpty = 0;
    for (let i = 0; i < 50; i++) {
      if (dtx.encode(silence, buf) === 0) dtxEmpty++;
      if (normal.encode(silence, buf) === 0) normalEmpty++;
    }
    assert.ok(dtxEmpty > 30, `only ${dtxEmpty} DTX frames`);
    assert.equal(normalEmpty, 0);
  });

  test('conceal: FEC from the next packet rebuilds a lost frame better than PLC', () => {
    const rate = 16000;
    // A rising sweep: PLC cannot extrapolate it, FEC carries it.
    const pcm = new Int16Array(rate);
    for (let i = 0; i < rate; i++) pcm[i] = Math.round(8000 * Math.sin(2 * Math.PI * (300 * i / rate + (1500 * i * i) / (2 * rate * rate))));
    const packets = encodeFrames(OPUS.createEncoder({ sampleRate: rate, fmtp: 'useinbandfec=1' }), pcm);
    const lost = 30;
    const run = (mode: 'none' | 'plc' | 'fec'): Int16Array => {
      const dec = OPUS.createDecoder({ sampleRate: rate });
      const out = new Int16Array(1920);
      const frames = new Int16Array(rate);
      for (let k = 0; k <= lost; k++) {
        const n = k === lost && mode !== 'none'
          ? dec.conceal(out, 320, mode === 'fec' ? packets[k + 1] : undefined)
          : dec.decode(packets[k]!, out);
        assert.equal(n, 320);
        frames.set(out.subarray(0, 320), k * 320);
      }
      return frames.subarray(lost * 320, lost * 320 + 320);
    };
    const ref = run('none');
    const fec = snrDb(ref, run('fec'));
    const plc = snrDb(ref, run('plc'));
    assert.ok(fec > 5, `FEC SNR ${fec.toFixed(1)} dB`);
    assert.ok(fec > plc + 3, `FEC ${fec.toFixed(1)} dB vs PLC ${plc.toFixed(1)} dB`);
  });

  test('corrupt payload → -1; PLC after it still yields a frame', () => {
    const dec = OPUS.createDecoder({ sampleRate: 8000 });
    const out = new Int16Array(960);
    assert.equal(dec.decode(Uint8Array.of(0x03, 0x00), out), -1); // code 3 with 0 frames (RFC 6716 §3.2.5)
    assert.equal(dec.decode(new Uint8Array(0), out), -1);
    assert.equal(dec.conceal(out, 160), 160);
  });
});
