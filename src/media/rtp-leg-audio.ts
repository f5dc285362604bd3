/**
 * The decode path of an RTP leg, both ways:
 * - {@link RtpLegSource}: what the leg's endpoint sends, as frames (jitter buffer -> decoder,
 *   concealment on loss) for the sinks that hear it;
 * - {@link RtpLegSink}: what the leg hears, encoded and packetized in the leg's one outgoing
 *   stream (its SSRC, sequence and timeline, continued from whatever was sent before).
 * Every buffer is allocated when the path is set up; a frame allocates nothing.
 */
import type { AudioCodec, AudioDecoder, AudioEncoder } from './codec/types.ts';
import { frameSamples } from './frame-endpoint.ts';
import type { FrameSink, FrameSource } from './frame-endpoint.ts';
import { JB_EMPTY, JB_LOST, JitterBuffer } from './jitter-buffer.ts';
import type { LegCodec } from './leg-codec.ts';
import type { LegDtmfOut } from './leg-dtmf.ts';
import { ticksPerFrame } from './leg-codec.ts';
import type { RelayLeg } from './relay-leg.ts';
import type { RtpHeader } from './rtp-header.ts';
import { RTP_FIXED_HEADER_LENGTH } from './rtp-header.ts';
import { RtpPacketizer } from './rtp-packetizer.ts';

/** Jitter buffer slots of a decoded leg. */
const JITTER_SLOTS = 16;

/** Decoded audio of one leg, one 20 ms frame per tick. */
export class RtpLegSource implements FrameSource {
  readonly rate: number;
  readonly frame: Int16Array;
  readonly jitter: JitterBuffer;
  framesDecoded = 0;
  /** Frames made up by the decoder's PLC/FEC for lost or corrupt packets. */
  framesConcealed = 0;
  private readonly decoder: AudioDecoder;
  private readonly frameLen: number;
  /** Decoded samples not played yet (a 40 ms packet decodes to two frames). */
  private readonly fifo: Int16Array;
  private fifoLen = 0;
  private readonly decodeBuf: Int16Array;
  /** The first frame of `decodeBuf`: a packet of exactly one frame is copied from it whole. */
  private readonly decodeHead: Int16Array;

  constructor(codec: AudioCodec, settings: LegCodec, rate: number, jitterTarget = 3) {
    this.decoder = codec.createDecoder({ sampleRate: rate, fmtp: settings.fmtp });
    this.rate = this.decoder.sampleRate;
    this.frameLen = frameSamples(this.rate);
    this.frame = new Int16Array(this.frameLen);
    // 120 ms is the longest frame any of our codecs carries (Opus, RFC 6716 §2.1.4), plus one.
    this.fifo = new Int16Array(this.frameLen * 7);
    // Decoders are promised room for 120 ms (codec contract).
    this.decodeBuf = new Int16Array(this.frameLen * 6);
    this.decodeHead = this.decodeBuf.subarray(0, this.frameLen);
    // 16 slots (320 ms at 20 ms): the buffer plays 3 behind and trims past 8, so more slots
    // only widen the reordering window; each slot holds a full datagram (1500 octets), so the
    // default 32 would cost 24 KB more per decoded leg for nothing (bench/README.md).
    this.jitter = new JitterBuffer({ targetPackets: jitterTarget, capacity: JITTER_SLOTS });
  }

  /** RtpInbound.audio of the leg: into the jitter buffer. */
  push(h: RtpHeader, msg: Buffer, offset: number): void {
    this.jitter.push(h.ssrc, h.sequenceNumber, msg, offset, offset + h.payloadLength);
  }

  advance(): boolean {
    const n = this.frameLen;
    const fifo = this.fifo;
    const buf = this.decodeBuf;
    while (this.fifoLen < n) {
      const r = this.jitter.pop();
      if (r === JB_EMPTY) {
        this.fifoLen = 0;
        return false;
      }
      let got: number;
      if (r === JB_LOST) {
        const next = this.jitter.peekNext();
        got = next === null ? this.decoder.conceal(buf, n) : this.decoder.conceal(buf, n, next);
        this.framesConcealed++;
      } else {
        got = this.decoder.decode(this.jitter.payload(r), buf);
        if (got < 0) {
          got = this.decoder.conceal(buf, n);
          this.framesConcealed++;
        } else {
          this.framesDecoded++;
        }
      }
      if (got <= 0) {
        fifo.fill(0, this.fifoLen, this.fifoLen + n);
        this.fifoLen += n;
        continue;
      }
      if (got === n && this.fifoLen === 0) {
        // The usual case (one 20 ms packet per frame): straight into the frame, no FIFO.
        this.frame.set(this.decodeHead);
        return true;
      }
      const room = fifo.length - this.fifoLen;
      if (got > room) got = room;
      for (let i = 0, j = this.fifoLen; i < got; i++, j++) fifo[j] = buf[i];
      this.fifoLen += got;
    }
    const frame = this.frame;
    for (let i = 0; i < n; i++) frame[i] = fifo[i];
    fifo.copyWithin(0, n, this.fifoLen);
    this.fifoLen -= n;
    return true;
  }

  close(): void {
    this.decoder.close();
  }
}

/** Encoder and packetizer of what one leg hears. */
export class RtpLegSink implements FrameSink {
  readonly rate: number;
  readonly packetizer: RtpPacketizer;
  framesEncoded = 0;
  private readonly encoder: AudioEncoder;
  private readonly packet = Buffer.alloc(RTP_FIXED_HEADER_LENGTH + 1500);
  private readonly payloadView = this.packet.subarray(RTP_FIXED_HEADER_LENGTH);
  private view: Buffer = this.packet.subarray(0, 0);
  private started = false;

  /** @param now monotonic ms, for the stream's time reference (default `performance.now`). */
  constructor(codec: AudioCodec, readonly settings: LegCodec, rate: number, readonly leg: RelayLeg, now?: () => number) {
    this.encoder = codec.createEncoder({ sampleRate: rate, fmtp: settings.fmtp });
    this.rate = this.encoder.sampleRate;
    this.packetizer = new RtpPacketizer(ticksPerFrame(settings), leg.out, now);
  }

  /** DTMF played to this leg (set by the graph), consulted before every frame is encoded. */
  dtmf: LegDtmfOut | null = null;

  writeFrame(pcm: Int16Array): void {
    if (!this.started) {
      // Taken over at the first frame, not at set-up: the relay may still have sent meanwhile.
      this.started = true;
      this.packetizer.resume();
    }
    const dtmf = this.dtmf;
    // An RFC 4733 packet replaces the frame's audio (RFC 4733 §2.5); time runs on.
    const eventLength = dtmf === null ? 0 : dtmf.frame(pcm, this.rate, this.packetizer, this.packet);
    if (eventLength > 0) {
      if (this.leg.sends) this.send(eventLength);
      this.packetizer.skip();
      return;
    }
    if (!this.leg.sends) {
      this.packetizer.skip();
      return;
    }
    const n = this.encoder.encode(pcm, this.payloadView);
    this.framesEncoded++;
    if (n <= 0) {
      this.packetizer.skip(); // DTX
      return;
    }
    this.packetizer.audio(this.packet, this.settings.pt);
    this.send(RTP_FIXED_HEADER_LENGTH + n);
  }

  /** Sends `length` bytes of the packet buffer (the view is reused while the length repeats). */
  send(length: number): void {
    if (this.view.length !== length) this.view = this.packet.subarray(0, length);
    this.leg.transmitRtp(this.view);
  }

  /** The packet buffer, for RFC 4733 event packets written by the DTMF path. */
  get buffer(): Buffer {
    return this.packet;
  }

  close(): void {
    this.encoder.close();
  }
}
