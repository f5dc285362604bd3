import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeWavMono16, readWavInfo } from '../../../src/pbx/moh-wav.ts';

describe('MOH WAV helpers (src/pbx/moh-wav.ts)', () => {
  test('encode writes the canonical 44-byte header and little-endian samples; read gives it back', () => {
    const wav = encodeWavMono16(Int16Array.from([0, 1, -1, 32767, -32768]), 16000);
    assert.equal(wav.length, 44 + 10);
    assert.equal(wav.toString('hex', 0, 44),
      '52494646' + '2e000000' + '57415645' + '666d7420' + '10000000' + '0100' + '0100' + '803e0000' + '007d0000' + '0200' + '1000' + '64617461' + '0a000000');
    assert.equal(wav.toString('hex', 44), '0000' + '0100' + 'ffff' + 'ff7f' + '0080');
    assert.deepEqual(readWavInfo(wav), { format: 1, channels: 1, sampleRate: 16000, bitsPerSample: 16, dataOffset: 44, dataBytes: 10, durationMs: 0 });
  });

  test('duration counts whole frames: 1 s of 16 kHz mono is 32,000 bytes', () => {
    assert.equal(readWavInfo(encodeWavMono16(new Int16Array(16000), 16000))!.durationMs, 1000);
    assert.equal(readWavInfo(encodeWavMono16(new Int16Array(24000), 16000))!.durationMs, 1500);
  });

  test('skips other chunks, honouring RIFF padding of odd sizes', () => {
    const base = encodeWavMono16(new Int16Array(8000), 8000);
    const list = Buffer.concat([Buffer.from('LIST'), Buffer.from([3, 0, 0, 0]), Buffer.from('abc'), Buffer.from([0])]);
    const wav = Buffer.concat([base.subarray(0, 36), list, base.subarray(36)]);
    const info = readWavInfo(wav)!;
    assert.equal(info.dataOffset, 44 + list.length);
    assert.equal(info.durationMs, 1000);
  });

  test('a data size larger than the file is bounded by the file (a writer that never patched sizes)', () => {
    const wav = encodeWavMono16(new Int16Array(1600), 16000);
    wav.writeUInt32LE(0xffffffff, 40);
    assert.equal(readWavInfo(wav)!.durationMs, 100);
  });

  test('not a WAV → null', () => {
    assert.equal(readWavInfo(Buffer.from('hello, this is text and not audio at all')), null);
    assert.equal(readWavInfo(Buffer.from('RIFF\0\0\0\0WAVE')), null);
    const noFmt = Buffer.concat([Buffer.from('RIFF\0\0\0\0WAVE'), Buffer.from('data'), Buffer.from([4, 0, 0, 0, 1, 2, 3, 4])]);
    assert.equal(readWavInfo(noFmt), null);
  });
});
