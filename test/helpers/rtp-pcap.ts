/**
 * Writes RTP streams as pcap files that sipp's `play_pcap_audio` replays (it needs whole
 * frames: Ethernet + IPv4 + UDP + RTP, and paces the packets by their capture timestamps).
 * Test-side code, independent of `src/media`.
 *
 * pcap format (libpcap "savefile"): a 24-octet global header (magic 0xa1b2c3d4, version 2.4,
 * snaplen, link type 1 = Ethernet), then per packet a 16-octet record header (seconds,
 * microseconds, captured length, original length) and the frame.
 *
 * @example
 *   writeRtpPcap('/tmp/tone-pcma.pcap', g711Frames(makeTone({ freq: 1000, seconds: 3 }), 'PCMA'), { payloadType: 8 });
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LINEAR_TO_ULAW, g711Compress } from '../../src/media/codec/g711.ts';
import { makeTone } from './audio-analysis.ts';
import { SIPP_SCENARIO_DIR } from './sipp.ts';

const ETH = 14;
const IP = 20;
const UDP = 8;
const RTP = 12;

export interface RtpPcapOptions {
  payloadType: number;
  /** RTP timestamp increment per packet (default 160: 20 ms at 8 kHz). */
  samplesPerPacket?: number;
  /** Capture interval between packets (default 20 ms). */
  ptimeMs?: number;
  ssrc?: number;
  /** Addresses in the file (sipp replaces them with its own and the call's). */
  src?: { ip: string; port: number };
  dst?: { ip: string; port: number };
}

function ipBytes(ip: string): number[] {
  return ip.split('.').map(Number);
}

/** RFC 791 header checksum: ones' complement of the ones' complement sum of 16-bit words. */
function ipChecksum(b: Buffer, from: number, length: number): number {
  let sum = 0;
  for (let i = from; i < from + length; i += 2) sum += b.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Writes one RTP packet per payload, 20 ms apart, to `path`. */
export function writeRtpPcap(path: string, payloads: readonly Uint8Array[], opts: RtpPcapOptions): void {
  const step = opts.samplesPerPacket ?? 160;
  const ptimeUs = (opts.ptimeMs ?? 20) * 1000;
  const ssrc = opts.ssrc ?? 0x5eed1234;
  const src = opts.src ?? { ip: '10.0.0.1', port: 6000 };
  const dst = opts.dst ?? { ip: '10.0.0.2', port: 6002 };
  const chunks: Buffer[] = [];
  const global = Buffer.alloc(24);
  global.writeUInt32LE(0xa1b2c3d4, 0);
  global.writeUInt16LE(2, 4);
  global.writeUInt16LE(4, 6);
  global.writeUInt32LE(65535, 16); // snaplen
  global.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  chunks.push(global);
  payloads.forEach((payload, i) => {
    const frameLength = ETH + IP + UDP + RTP + payload.length;
    const rec = Buffer.alloc(16 + frameLength);
    const us = i * ptimeUs;
    rec.writeUInt32LE(Math.floor(us / 1e6), 0);
    rec.writeUInt32LE(us % 1e6, 4);
    rec.writeUInt32LE(frameLength, 8);
    rec.writeUInt32LE(frameLength, 12);
    let o = 16;
    // Ethernet II: destination, source MAC, EtherType IPv4.
    Buffer.from([0, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0x66, 0x77, 0x88, 0x99, 0xaa]).copy(rec, o);
    rec.writeUInt16BE(0x0800, o + 12);
    o += ETH;
    // IPv4 (RFC 791): version 4, IHL 5, total length, TTL 64, protocol 17 (UDP).
    rec[o] = 0x45;
    rec.writeUInt16BE(IP + UDP + RTP + payload.length, o + 2);
    rec.writeUInt16BE(i & 0xffff, o + 4);
    rec[o + 8] = 64;
    rec[o + 9] = 17;
    Buffer.from(ipBytes(src.ip)).copy(rec, o + 12);
    Buffer.from(ipBytes(dst.ip)).copy(rec, o + 16);
    rec.writeUInt16BE(ipChecksum(rec, o, IP), o + 10);
    o += IP;
    // UDP (RFC 768); checksum 0 = none (allowed over IPv4).
    rec.writeUInt16BE(src.port, o);
    rec.writeUInt16BE(dst.port, o + 2);
    rec.writeUInt16BE(UDP + RTP + payload.length, o + 4);
    o += UDP;
    // RTP (RFC 3550 §5.1): V=2, marker on the first packet.
    rec[o] = 0x80;
    rec[o + 1] = (i === 0 ? 0x80 : 0) | (opts.payloadType & 0x7f);
    rec.writeUInt16BE((1000 + i) & 0xffff, o + 2);
    rec.writeUInt32BE((i * step) >>> 0, o + 4);
    rec.writeUInt32BE(ssrc >>> 0, o + 8);
    rec.set(payload, o + RTP);
    chunks.push(rec);
  });
  writeFileSync(path, Buffer.concat(chunks));
}

/** ITU-T G.711 A-law of one linear sample (test-side reference encoder, segment search). */
export function linearToAlaw(sample: number): number {
  let s = Math.max(-32768, Math.min(32767, Math.round(sample))) >> 3; // 13-bit
  let mask: number;
  if (s >= 0) mask = 0xd5;
  else {
    mask = 0x55;
    s = -s - 1;
  }
  const ends = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];
  let seg = 0;
  while (seg < 8 && s > ends[seg]!) seg++;
  if (seg >= 8) return 0x7f ^ mask;
  const aval = (seg << 4) | (seg < 2 ? (s >> 1) & 0xf : (s >> seg) & 0xf);
  return aval ^ mask;
}

/** Splits 8 kHz PCM into 20 ms A-law payloads. */
export function alawFrames(pcm: Int16Array): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (let from = 0; from + 160 <= pcm.length; from += 160) {
    const f = new Uint8Array(160);
    for (let i = 0; i < 160; i++) f[i] = linearToAlaw(pcm[from + i]!);
    frames.push(f);
  }
  return frames;
}

/** Splits 8 kHz PCM into 20 ms µ-law (PCMU) payloads, with the engine's encoder. */
export function ulawFrames(pcm: Int16Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i + 160 <= pcm.length; i += 160) {
    const f = new Uint8Array(160);
    g711Compress(LINEAR_TO_ULAW, pcm.subarray(i, i + 160), 160, f);
    out.push(f);
  }
  return out;
}

/**
 * `uac-pcap-g711a.xml` (test/sipp) playing a tone instead of Debian's recording: writes `seconds` of `freq`
 * Hz as PCMA (PT 8) to `<dir>/tone-<freq>-pcma.pcap` and a copy of the scenario that plays it;
 * answers the copy's path (for `runSipp`'s `scenario`; run it with `pauseMs` ≥ the tone).
 */
export function pcmaToneScenario(dir: string, freq: number, seconds: number): string {
  const pcap = join(dir, `tone-${freq}-pcma.pcap`);
  writeRtpPcap(pcap, alawFrames(makeTone({ freq, seconds, rate: 8000, amplitude: 0.4 })), { payloadType: 8 });
  const xml = readFileSync(join(SIPP_SCENARIO_DIR, 'uac-pcap-g711a.xml'), 'latin1');
  if (!xml.includes(DEBIAN_PCAP)) throw new Error(`uac-pcap-g711a.xml no longer plays ${DEBIAN_PCAP}`);
  const scenario = join(dir, `uac-pcap-tone-${freq}.xml`);
  writeFileSync(scenario, xml.replaceAll(DEBIAN_PCAP, pcap), 'latin1'); // the comment names it too
  return scenario;
}

const DEBIAN_PCAP = '/usr/share/sip-tester/g711a.pcap';
