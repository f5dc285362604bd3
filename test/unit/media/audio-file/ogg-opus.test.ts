import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OggOpusWriter, oggCrc32, opusPacketSamples } from '../../../../src/media/audio-file/ogg-opus.ts';
import { goertzelPower } from '../../../../src/media/dtmf/goertzel.ts';

let dir = '';
before(() => { dir = mkdtempSync(join(tmpdir(), 'ogg-')); });
after(() => { rmSync(dir, { recursive: true, force: true }); });

interface Page { headerType: number; granule: bigint; serial: number; sequence: number; crcOk: boolean; packets: Buffer[] }

/** Minimal independent Ogg reader for the tests: pages, CRC check, packets (no continuation across pages). */
function readPages(file: Buffer): Page[] {
  const pages: Page[] = [];
  let pos = 0;
  while (pos < file.length) {
    assert.equal(file.toString('latin1', pos, pos + 4), 'OggS', `capture pattern at ${pos}`);
    const n = file[pos + 26];
    const lacing = [...file.subarray(pos + 27, pos + 27 + n)];
    const dataLen = lacing.reduce((a, b) => a + b, 0);
    const len = 27 + n + dataLen;
    const copy = Buffer.from(file.subarray(pos, pos + len));
    const stored = copy.readUInt32LE(22);
    copy.writeUInt32LE(0, 22);
    const packets: Buffer[] = [];
    let at = pos + 27 + n;
    let cur = 0;
    for (const l of lacing) {
      cur += l;
      if (l < 255) {
        packets.push(file.subarray(at, at + cur));
        at += cur;
        cur = 0;
      }
    }
    assert.equal(cur, 0, 'test reader does not handle packets continued on the next page');
    pages.push({
      headerType: file[pos + 5],
      granule: file.readBigInt64LE(pos + 6),
      serial: file.readUInt32LE(pos + 14),
      sequence: file.readUInt32LE(pos + 18),
      crcOk: oggCrc32(copy) === stored,
      packets,
    });
    pos += len;
  }
  return pages;
}

const probe = (file: string): string =>
  execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration:stream=codec_name,channels,sample_rate', '-of', 'default=nw=1', file]).toString();

/** Opus packets from an ffmpeg-encoded file: 440 Hz, 20 ms frames. */
function ffmpegPackets(seconds: number): { packets: Buffer[]; preSkip: number } {
  const f = join(dir, `ref-${seconds}.opus`);
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
    '-c:a', 'libopus', '-ac', '1', '-b:a', '32k', '-frame_duration', '20', '-f', 'opus', f]);
  const pages = readPages(readFileSync(f));
  for (const p of pages) assert.ok(p.crcOk, 'our CRC32 agrees with libogg on every ffmpeg page');
  const all = pages.flatMap((p) => p.packets);
  assert.equal(all[0].toString('latin1', 0, 8), 'OpusHead');
  return { packets: all.slice(2), preSkip: all[0].readUInt16LE(10) };
}

describe('Ogg Opus writer (RFC 7845)', () => {
  test('opusPacketSamples reads the TOC (RFC 6716 §3.1)', () => {
    assert.equal(opusPacketSamples(Buffer.from([0xf8])), 960); // config 31 CELT 20 ms, code 0
    assert.equal(opusPacketSamples(Buffer.from([0x08])), 960); // config 1 SILK NB 20 ms
    assert.equal(opusPacketSamples(Buffer.from([0x19])), 5760); // config 3 (60 ms), code 1: 2 frames = 120 ms, the maximum
    assert.equal(opusPacketSamples(Buffer.from([0x18])), 2880); // 60 ms
    assert.equal(opusPacketSamples(Buffer.from([0xfb, 0x03])), 2880); // code 3, 3 frames of 20 ms
    assert.equal(opusPacketSamples(Buffer.from([0xfb, 0x07])), 0); // 140 ms > 120 ms limit
    assert.equal(opusPacketSamples(Buffer.alloc(0)), 0);
  });

  test('re-muxed ffmpeg/libopus packets: ffprobe and ffmpeg accept the file, duration and audio right', () => {
    const { packets, preSkip } = ffmpegPackets(3);
    const n = packets.length; // 150 + the encoder's flush packet(s)
    assert.ok(n >= 150 && n <= 152, `${n} packets`);
    const out = join(dir, 'ours.opus');
    const w = OggOpusWriter.open(out, { preSkip, serial: 0x1234, comments: ['TITLE=test'] });
    for (const p of packets) assert.equal(w.writePacket(p), true);
    w.close();
    w.close();

    const pages = readPages(readFileSync(out));
    assert.ok(pages.every((p) => p.crcOk && p.serial === 0x1234));
    assert.deepEqual(pages.map((p) => p.sequence), pages.map((_, i) => i));
    assert.equal(pages[0].headerType, 2, 'BOS');
    assert.equal(pages[0].packets.length, 1);
    assert.equal(pages[1].packets[0].toString('latin1', 0, 8), 'OpusTags');
    assert.equal(pages.at(-1)!.headerType, 4, 'EOS');
    assert.equal(pages.at(-1)!.granule, BigInt(n * 960));
    assert.equal(pages.length, 2 + Math.ceil(n / 50), 'one audio page per second');
    for (let i = 2; i < pages.length - 1; i++) assert.equal(pages[i].granule, BigInt(50 * 960 * (i - 1)));

    const info = probe(out);
    assert.match(info, /codec_name=opus/);
    assert.match(info, /channels=1/);
    const dur = Number(/duration=([\d.]+)/.exec(info)![1]);
    // ffprobe reports the last granule / 48000 (pre-skip included, as for ffmpeg's own files)
    assert.ok(Math.abs(dur - (n * 960) / 48000) < 0.0001, `ffprobe duration ${dur}`);

    const pcmBuf = execFileSync('ffmpeg', ['-v', 'error', '-xerror', '-i', out, '-f', 's16le', '-ac', '1', '-ar', '48000', '-']);
    const pcm = new Int16Array(pcmBuf.buffer, pcmBuf.byteOffset, pcmBuf.length / 2);
    assert.equal(pcm.length, n * 960 - preSkip, 'decoded length = last granule - pre-skip (RFC 7845 §4)');
    const mid = pcm.subarray(48000, 96000);
    const p440 = goertzelPower(mid, 440, 48000);
    const p1000 = goertzelPower(mid, 1000, 48000);
    assert.ok(p440 > 1e6 && p440 > 1000 * p1000, `440 Hz ${p440}, 1000 Hz ${p1000}`);
  });

  test('crash before close: completed pages play (no EOS needed by ffmpeg)', () => {
    const { packets, preSkip } = ffmpegPackets(3);
    const out = join(dir, 'crash.opus');
    const w = OggOpusWriter.open(out, { preSkip });
    for (const p of packets.slice(0, 130)) w.writePacket(p);
    // no close(): 2 full pages of 1 s are on disk
    const info = probe(out);
    const dur = Number(/duration=([\d.]+)/.exec(info)![1]);
    assert.ok(Math.abs(dur - (100 * 960) / 48000) < 0.0001, `ffprobe duration ${dur}`);
    w.close();
  });

  test('synthetic stream: large packets laced over several 255-byte segments, page split at 255 segments', () => {
    const out = join(dir, 'synth.opus');
    const w = OggOpusWriter.open(out, { preSkip: 0, pageMs: 10000 });
    const pkt = Buffer.alloc(600, 0x55);
    pkt[0] = 0xf8; // CELT 20 ms, code 0
    for (let i = 0; i < 200; i++) w.writePacket(pkt);
    assert.equal(w.writePacket(Buffer.alloc(0)), false);
    w.close();
    const pages = readPages(readFileSync(out));
    const audio = pages.slice(2);
    // 600 bytes = 255+255+90: 3 segments; 85 packets fill 255 segments
    assert.deepEqual(audio.map((p) => p.packets.length), [85, 85, 30]);
    assert.ok(audio.flatMap((p) => p.packets).every((p) => p.length === 600 && p[1] === 0x55));
    assert.equal(audio.at(-1)!.granule, 200n * 960n);
  });
});
