import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WavWriter, readWav, readWavFile, wavHeader } from '../../../../src/media/audio-file/wav.ts';
import { AudioFileError } from '../../../../src/media/audio-file/errors.ts';
import { ToneGenerator } from '../../../../src/media/tone.ts';
import { goertzelPower } from '../../../../src/media/dtmf/goertzel.ts';

let dir = '';
before(() => { dir = mkdtempSync(join(tmpdir(), 'wav-')); });
after(() => { rmSync(dir, { recursive: true, force: true }); });

const sox = (...args: string[]): void => { execFileSync('sox', args); };
const ffprobeDuration = (file: string): number =>
  Number(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]).toString().trim());
const rawOf = (file: string): Int16Array => {
  const b = readFileSync(file);
  return new Int16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
};
const throwsCode = (fn: () => unknown, code: string, re?: RegExp): void => {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof AudioFileError, String(e));
    assert.equal(e.code, code);
    if (re) assert.match(e.message, re);
    return true;
  });
};

describe('readWav', () => {
  test('16-bit mono from sox at 16 kHz: rate, length, samples equal to the raw render', () => {
    const wav = join(dir, 'a.wav');
    sox('-n', '-r', '16000', '-b', '16', '-c', '1', wav, 'synth', '0.5', 'sine', '1000', 'gain', '-6');
    sox(wav, '-t', 's16', join(dir, 'a.raw'));
    const a = readWavFile(wav);
    assert.equal(a.sampleRate, 16000);
    assert.equal(a.channels, 1);
    assert.equal(a.encoding, 'pcm16');
    assert.equal(a.samples.length, 8000);
    assert.equal(a.durationMs, 500);
    assert.deepEqual(a.samples, rawOf(join(dir, 'a.raw')));
  });

  test('stereo 44.1 kHz is averaged to mono (440 Hz left, 1000 Hz right)', () => {
    const wav = join(dir, 'st.wav');
    sox('-n', '-r', '44100', '-b', '16', '-c', '2', wav, 'synth', '0.2', 'sine', '440', 'sine', '1000', 'gain', '-3');
    const a = readWavFile(wav);
    assert.equal(a.channels, 2);
    assert.equal(a.sampleRate, 44100);
    assert.equal(a.samples.length, 8820);
    const p440 = goertzelPower(a.samples, 440, 44100);
    const p1000 = goertzelPower(a.samples, 1000, 44100);
    const full = (32767 * 10 ** (-3 / 20)) ** 2 / 2;
    // each channel contributes half its amplitude: a quarter of its power
    assert.ok(Math.abs(p440 / full - 0.25) < 0.02, `440: ${p440 / full}`);
    assert.ok(Math.abs(p1000 / full - 0.25) < 0.02, `1000: ${p1000 / full}`);
  });

  for (const [enc, name] of [['u-law', 'mulaw'], ['a-law', 'alaw']] as const) {
    test(`8-bit ${enc} (format ${name === 'mulaw' ? 7 : 6}) decodes exactly as sox decodes it`, () => {
      const wav = join(dir, `${name}.wav`);
      sox('-n', '-r', '8000', '-e', enc, '-c', '1', wav, 'synth', '0.3', 'sine', '697', 'sine', '1209', 'channels', '1');
      sox(wav, '-e', 'signed-integer', '-b', '16', '-t', 's16', join(dir, `${name}.raw`));
      const a = readWavFile(wav);
      assert.equal(a.encoding, name);
      assert.equal(a.sampleRate, 8000);
      assert.deepEqual(a.samples, rawOf(join(dir, `${name}.raw`)));
    });
  }

  test('WAVE_FORMAT_EXTENSIBLE 16-bit PCM (ffmpeg, 3 channels)', () => {
    const wav = join(dir, 'ext.wav');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=500:sample_rate=8000:duration=0.25',
      '-af', 'pan=3c|c0=c0|c1=c0|c2=c0', '-c:a', 'pcm_s16le', wav]);
    const b = readFileSync(wav);
    assert.equal(b.readUInt16LE(20), 0xfffe, 'ffmpeg wrote an extensible header');
    const a = readWav(b);
    assert.equal(a.channels, 3);
    assert.equal(a.samples.length, 2000);
    assert.ok(goertzelPower(a.samples, 500, 8000) > 1e6);
  });

  test('errors: not RIFF, truncated, unsupported formats, no data', () => {
    throwsCode(() => readWav(Buffer.from('hello, this is a text file')), 'AUDIO_FILE_ERR_NOT_RIFF', /starts with "hell"/);
    throwsCode(() => readWav(Buffer.alloc(4)), 'AUDIO_FILE_ERR_NOT_RIFF');
    const good = Buffer.concat([wavHeader(8000, 1600), Buffer.alloc(1600)]);
    assert.equal(readWav(good).samples.length, 800);
    throwsCode(() => readWav(good.subarray(0, 1000)), 'AUDIO_FILE_ERR_TRUNCATED', /declares 1600 bytes, 956 present/);
    throwsCode(() => readWav(good.subarray(0, 30)), 'AUDIO_FILE_ERR_TRUNCATED');
    throwsCode(() => readWav(good.subarray(0, 36)), 'AUDIO_FILE_ERR_NO_AUDIO');
    throwsCode(() => readWav(wavHeader(8000, 0)), 'AUDIO_FILE_ERR_NO_AUDIO', /empty/);

    const w24 = join(dir, '24.wav');
    sox('-n', '-r', '8000', '-b', '24', '-c', '1', w24, 'synth', '0.1', 'sine', '440');
    throwsCode(() => readWavFile(w24), 'AUDIO_FILE_ERR_UNSUPPORTED', /PCM 24-bit/);
    const wf = join(dir, 'f.wav');
    sox('-n', '-r', '8000', '-e', 'floating-point', '-b', '32', '-c', '1', wf, 'synth', '0.1', 'sine', '440');
    throwsCode(() => readWavFile(wf), 'AUDIO_FILE_ERR_UNSUPPORTED', /float/);
  });

  test('streamed data size 0xFFFFFFFF reads to the end of the file', () => {
    const h = wavHeader(8000, 0);
    h.writeUInt32LE(0xffffffff, 40);
    assert.equal(readWav(Buffer.concat([h, Buffer.alloc(320)])).samples.length, 160);
  });
});

describe('WavWriter', () => {
  const tone = (rate: number, seconds: number): Int16Array => {
    const pcm = new Int16Array(rate * seconds);
    new ToneGenerator({ sampleRate: rate, frequencies: [425], level: { dbm0: -10 } }).fill(pcm);
    return pcm;
  };

  test('3 s of 20 ms frames at 16 kHz: samples read back, ffprobe and sox agree on 3.0 s', () => {
    const file = join(dir, 'w.wav');
    const pcm = tone(16000, 3);
    const w = WavWriter.open(file, { sampleRate: 16000 });
    for (let i = 0; i < pcm.length; i += 320) assert.equal(w.write(pcm, i, 320), 320);
    assert.equal(w.durationMs, 3000);
    w.close();
    w.close();
    const a = readWavFile(file);
    assert.equal(a.sampleRate, 16000);
    assert.deepEqual(a.samples, pcm);
    assert.equal(readFileSync(file).length, 44 + 96000);
    assert.equal(ffprobeDuration(file), 3);
    assert.equal(execFileSync('soxi', ['-D', file]).toString().trim(), '3.000000');
    throwsCode(() => w.write(pcm, 0, 10), 'AUDIO_FILE_ERR_CLOSED');
  });

  test('crash without close: the header matches the audio flushed so far (every second)', () => {
    const file = join(dir, 'crash.wav');
    const pcm = tone(8000, 3);
    const w = WavWriter.open(file, { sampleRate: 8000 });
    for (let i = 0; i < 8000 * 2.5; i += 160) w.write(pcm, i, 160);
    // no close(): the process "died" here
    const a = readWavFile(file);
    assert.equal(a.samples.length, 16000);
    assert.deepEqual(a.samples, pcm.subarray(0, 16000));
    assert.equal(ffprobeDuration(file), 2);
    w.close();
    assert.equal(readWavFile(file).samples.length, 20000);
  });

  test('injected fs: one data write per flush interval, not per frame', () => {
    const calls: { len: number; pos: number | null | undefined }[] = [];
    const fake = {
      openSync: () => 42,
      writeSync: (_fd: number, _b: NodeJS.ArrayBufferView, _o?: number | null, len?: number | null, pos?: number | null) => {
        calls.push({ len: len ?? 0, pos });
        return len ?? 0;
      },
      closeSync: () => {},
    } as unknown as Parameters<typeof WavWriter.open>[1]['fs'];
    const w = WavWriter.open('/nowhere.wav', { sampleRate: 8000, flushMs: 500, fs: fake });
    const frame = new Int16Array(160);
    for (let i = 0; i < 100; i++) w.write(frame); // 2 s
    const dataWrites = calls.filter((c) => c.len > 4 && c.pos !== 0);
    assert.deepEqual(dataWrites.map((c) => [c.len, c.pos]), [[8000, 44], [8000, 8044], [8000, 16044], [8000, 24044]]);
    assert.equal(calls.filter((c) => c.len === 4).length, 8, 'RIFF and data sizes patched at every flush');
  });

  test('bad options', () => {
    throwsCode(() => WavWriter.open(join(dir, 'x.wav'), { sampleRate: 0 }), 'AUDIO_FILE_ERR_BAD_OPTION');
    throwsCode(() => WavWriter.open(join(dir, 'x.wav'), { sampleRate: 8000, flushMs: 5 }), 'AUDIO_FILE_ERR_BAD_OPTION');
  });
});

test('wavHeader writes the canonical 44 bytes', () => {
  writeFileSync(join(dir, 'h.wav'), Buffer.concat([wavHeader(48000, 4), Buffer.from([1, 0, 2, 0])]));
  const a = readWavFile(join(dir, 'h.wav'));
  assert.deepEqual([...a.samples], [1, 2]);
  assert.equal(a.sampleRate, 48000);
});
