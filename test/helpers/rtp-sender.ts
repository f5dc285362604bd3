/**
 * Test RTP sender: G.711-style frames (default 160 bytes = 20 ms at 8 kHz) paced by ptime
 * from a dgram socket, with a fixed SSRC and payload type. Integration tests use it to push
 * media into our relay and `rtp-receiver.ts` to prove it came out.
 */
import dgram from 'node:dgram';
import { buildRtpPacket } from './rtp-packet.ts';

/** G.711 silence: 0xFF is mu-law zero (PCMU, PT 0), 0xD5 A-law zero (PCMA, PT 8). */
export const PCMU_SILENCE = 0xff;
export const PCMA_SILENCE = 0xd5;

export interface RtpSendOptions {
  /** Destination. */
  host: string;
  port: number;
  /** Send from this socket (symmetric RTP: reuse the socket whose port is in our SDP). */
  socket?: dgram.Socket;
  ssrc: number;
  /** Default 0 (PCMU). */
  payloadType?: number;
  /** Packets to send. */
  count: number;
  /** Packet interval in ms (a=ptime); default 20. 0 sends as fast as possible. */
  ptimeMs?: number;
  /** RTP clock ticks per packet; default 160 (20 ms at 8000 Hz). */
  samplesPerPacket?: number;
  /** Payload of packet `i`; default a 160-byte silence frame of the payload type. */
  payload?: Buffer | ((index: number) => Buffer);
  /** Defaults: random 16-bit / 32-bit starting points, as RFC 3550 §5.1 recommends. */
  firstSequence?: number;
  firstTimestamp?: number;
}

export interface RtpSendResult {
  sent: number;
  firstSequence: number;
  lastSequence: number;
  durationMs: number;
}

/**
 * Sends `count` packets paced every `ptimeMs` (drift-corrected against the start time, so
 * 50 packets take about 1 s). The first packet has the marker bit (start of talkspurt,
 * RFC 3551 §4.1). Closes the socket only if it created it.
 *
 * @example
 * await sendRtp({ host: '127.0.0.1', port: relayPort, ssrc: 0x1234, payloadType: 8, count: 50 });
 */
export async function sendRtp(options: RtpSendOptions): Promise<RtpSendResult> {
  const socket = options.socket ?? dgram.createSocket(options.host.includes(':') ? 'udp6' : 'udp4');
  const owned = options.socket === undefined;
  const pt = options.payloadType ?? 0;
  const ptime = options.ptimeMs ?? 20;
  const step = options.samplesPerPacket ?? 160;
  const silence = Buffer.alloc(step, pt === 8 ? PCMA_SILENCE : PCMU_SILENCE);
  const payloadOf =
    typeof options.payload === 'function'
      ? options.payload
      : () => (options.payload as Buffer | undefined) ?? silence;
  const firstSequence = options.firstSequence ?? Math.floor(Math.random() * 0x10000);
  const firstTimestamp = options.firstTimestamp ?? Math.floor(Math.random() * 0x100000000);
  const started = performance.now();
  try {
    for (let i = 0; i < options.count; i++) {
      const packet = buildRtpPacket(
        {
          marker: i === 0,
          payloadType: pt,
          sequenceNumber: (firstSequence + i) & 0xffff,
          timestamp: (firstTimestamp + i * step) >>> 0,
          ssrc: options.ssrc,
        },
        payloadOf(i),
      );
      await new Promise<void>((resolve, reject) =>
        socket.send(packet, options.port, options.host, (error) => (error ? reject(error) : resolve())),
      );
      if (ptime > 0 && i < options.count - 1) {
        const wait = started + (i + 1) * ptime - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    }
  } finally {
    if (owned) socket.close();
  }
  return {
    sent: options.count,
    firstSequence,
    lastSequence: (firstSequence + options.count - 1) & 0xffff,
    durationMs: performance.now() - started,
  };
}
