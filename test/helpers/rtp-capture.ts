/**
 * Captures the RTP that reaches a UDP port on the loopback with `tcpdump` (Debian package
 * `tcpdump`, needs CAP_NET_RAW: the tests run as root), and reads it back from the pcap file.
 * For phones whose own recording cannot be trusted (baresip 1.0's sndfile dump, see
 * `test/integration/call-hold-baresip.test.ts`): what the wire carried is decoded here.
 *
 * pcap (libpcap savefile): 24-octet global header (magic 0xa1b2c3d4 little-endian, link type
 * 1 = Ethernet, which Linux uses for `lo`), then per packet a 16-octet record header and the
 * frame: Ethernet 14 + IPv4 (IHL) + UDP 8 + RTP (RFC 3550 §5.1: 12 + 4·CC, + extension).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface CapturedRtp {
  /** Capture time in ms since the epoch. */
  at: number;
  payloadType: number;
  seq: number;
  timestamp: number;
  ssrc: number;
  payload: Buffer;
  /** The whole RTP (or SRTP) packet as it was on the wire. */
  raw: Buffer;
}

export interface RtpCapture {
  /** Stops tcpdump (SIGINT flushes the file) and returns the RTP packets in capture order. */
  stop(): Promise<CapturedRtp[]>;
}

/** Starts capturing UDP on `lo` towards `dstPort` (and from `srcPort` when given). Resolves once tcpdump listens. */
export async function startRtpCapture(file: string, dstPort: number, srcPort?: number): Promise<RtpCapture> {
  const filter = `udp and dst port ${dstPort}${srcPort === undefined ? '' : ` and src port ${srcPort}`}`;
  const child = spawn('tcpdump', ['-i', 'lo', '-U', '-n', '-s', '0', '-w', file, filter], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.once('error', (e) => { err += String(e); });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${err}`)), 5000);
    child.stderr!.on('data', (b: Buffer) => {
      err += b.toString();
      if (/listening on/.test(err)) { clearTimeout(timer); resolve(); }
    });
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`tcpdump exited (${code}): ${err}`)); });
  });
  return {
    async stop() {
      child.kill('SIGINT');
      await exited;
      return readRtpPcap(file);
    },
  };
}

/** The RTP packets of an Ethernet/IPv4/UDP pcap file. */
export function readRtpPcap(file: string): CapturedRtp[] {
  const buf = readFileSync(file);
  if (buf.length < 24 || buf.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error(`${file}: not a little-endian microsecond pcap`);
  if (buf.readUInt32LE(20) !== 1) throw new Error(`${file}: link type ${buf.readUInt32LE(20)}, expected Ethernet`);
  const out: CapturedRtp[] = [];
  for (let o = 24; o + 16 <= buf.length;) {
    const at = buf.readUInt32LE(o) * 1000 + buf.readUInt32LE(o + 4) / 1000;
    const len = buf.readUInt32LE(o + 8);
    const frame = buf.subarray(o + 16, o + 16 + len);
    o += 16 + len;
    if (frame.length < 14 + 20 + 8 + 12 || frame.readUInt16BE(12) !== 0x0800) continue;
    const ip = 14;
    const udp = ip + (frame[ip]! & 0x0f) * 4;
    if (frame[ip + 9] !== 17) continue;
    const rtp = frame.subarray(udp + 8, udp + frame.readUInt16BE(udp + 4));
    if (rtp.length < 12 || rtp[0]! >> 6 !== 2) continue;
    let start = 12 + (rtp[0]! & 0x0f) * 4;
    if (rtp[0]! & 0x10) start += 4 + rtp.readUInt16BE(start + 2) * 4;
    out.push({ at, payloadType: rtp[1]! & 0x7f, seq: rtp.readUInt16BE(2), timestamp: rtp.readUInt32BE(4), ssrc: rtp.readUInt32BE(8), payload: Buffer.from(rtp.subarray(start)), raw: Buffer.from(rtp) });
  }
  return out;
}
