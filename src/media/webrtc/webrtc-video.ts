/**
 * The video side of a WebRTC endpoint (rooms): video RTP never reaches the media engine, it stays
 * in this thread and is handed to whoever forwards it (`src/rooms/video-router.ts`).
 *
 * A peer's offer decides its video transceivers, once, with no renegotiation afterwards:
 * - its **camera** is the first video m-line it sends on (`sendonly`/`sendrecv`): we receive it
 *   (`recvonly` in our answer);
 * - its **slots** are the video m-lines it only receives on (`recvonly`): we send on them
 *   (`sendonly`), one forwarded source at a time.
 * Other video m-lines are answered `inactive`.
 *
 * A slot sends through werift's sender, which writes the slot's own SSRC and payload type into
 * every packet and keeps sequence numbers and timestamps continuous across a change of source
 * (`switchSource`, werift `replaceRTP`); it answers the peer's NACKs from its history.
 */
import type { RTCRtpTransceiver, RtpPacket, RtcpPacket } from 'werift';
import { RTCRtpCodecParameters } from 'werift';

/** VP8 (RFC 7741) with NACK, PLI and FIR feedback: what browsers all decode. No RTX, no FEC. */
export function weriftVideoCodecs(): RTCRtpCodecParameters[] {
  return [new RTCRtpCodecParameters({
    mimeType: 'video/VP8', clockRate: 90000, payloadType: 96,
    rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
  })];
}

/** RTCP payload-specific feedback (RFC 4585 §6.3): PT 206, FMT 1 = PLI, FMT 4 = FIR (RFC 5104). */
const PSFB = 206;
const PLI = 1;
const FIR = 4;

/** What a forwarder needs of a receive slot (`VideoSlot`; fakes in tests). */
export interface ForwardSlot {
  readonly mid: string;
  readonly ready: boolean;
  switchSource(): void;
  send(rtp: RtpPacket): void;
  onKeyframeRequest(handler: (() => void) | null): void;
}

/** What a forwarder needs of a peer's video (`WebRtcVideo`; fakes in tests). */
export interface VideoPeer {
  readonly hasCamera: boolean;
  readonly slots: readonly ForwardSlot[];
  onCamera(handler: ((rtp: RtpPacket) => void) | null): void;
  /** Asks the peer for a key frame; false when it could not be asked (no camera packet yet). */
  requestKeyframe(): boolean;
}

/** A video stream we send to the peer on one of its `recvonly` m-lines. */
export class VideoSlot implements ForwardSlot {
  /** Packets handed to werift for this slot. */
  packetsSent = 0;
  /** PLI/FIR the peer sent for this slot. */
  keyframeRequests = 0;
  private handler: (() => void) | null = null;

  constructor(private readonly transceiver: RTCRtpTransceiver) {
    // werift routes feedback by the *sender* SSRC first: when the peer's feedback SSRC is one it
    // declared on this m-line (werift peers do), werift hands the PLI to our receiver. Listen on both.
    const feedback = (p: RtcpPacket) => {
      if (p.type !== PSFB) return;
      const fb = (p as { feedback?: { count?: number; mediaSsrc?: number } }).feedback;
      if ((fb?.count === PLI && fb.mediaSsrc === this.ssrc) || fb?.count === FIR) this.keyframeRequested();
    };
    transceiver.sender.onRtcp.subscribe(feedback);
    transceiver.receiver.onRtcp.subscribe(feedback);
  }

  /** The m-line's mid: how the page finds the slot's track. */
  get mid(): string {
    return this.transceiver.mid ?? '';
  }

  /** The SSRC every packet of this slot carries, whichever source it forwards. */
  get ssrc(): number {
    return this.transceiver.sender.ssrc;
  }

  /** The next packet comes from another source: continue sequence numbers and timestamps (one 30 fps frame on). */
  switchSource(): void {
    // werift ignores the header (it computes the offsets from the next packet it sends).
    this.transceiver.sender.replaceRTP({ sequenceNumber: 0, timestamp: 0 }, true, 3000);
  }

  /** Whether packets can go out (DTLS-SRTP up): before, werift drops them. */
  get ready(): boolean {
    return this.transceiver.sender.dtlsTransport?.state === 'connected';
  }

  /** Sends a packet (werift clones it: the same packet may go to several slots). Dropped when not `ready`. */
  send(rtp: RtpPacket): void {
    this.packetsSent++;
    this.transceiver.sender.sendRtp(rtp).catch(() => undefined);
  }

  /** Called when the peer asks for a key frame (PLI or FIR); one handler. */
  onKeyframeRequest(handler: (() => void) | null): void {
    this.handler = handler;
  }

  private keyframeRequested(): void {
    this.keyframeRequests++;
    this.handler?.();
  }
}

export class WebRtcVideo implements VideoPeer {
  readonly slots: VideoSlot[] = [];
  /** Camera packets received, and key frames we asked the peer for. */
  packetsIn = 0;
  keyframeRequestsSent = 0;
  private camera: RTCRtpTransceiver | null = null;
  private cameraSsrc: number | null = null;
  private handler: ((rtp: RtpPacket) => void) | null = null;
  private adopted = false;

  /** Sorts the video transceivers of the peer's offer (see the module comment); once. */
  adopt(transceivers: readonly RTCRtpTransceiver[]): void {
    if (this.adopted) return;
    this.adopted = true;
    for (const t of transceivers) {
      if (t.kind !== 'video') continue;
      // werift keeps the offer's direction reversed: the peer's recvonly is our sendonly.
      const theirs = t.offerDirection;
      if ((theirs === 'recvonly' || theirs === 'sendrecv') && this.camera === null) {
        this.camera = t;
        t.setDirection('recvonly');
      } else if (theirs === 'sendonly') {
        this.slots.push(new VideoSlot(t));
        t.setDirection('sendonly');
      } else {
        t.setDirection('inactive');
      }
    }
  }

  /** The peer sends a camera (it may still send nothing: a muted or absent track). */
  get hasCamera(): boolean {
    return this.camera !== null;
  }

  /** A decrypted camera packet from werift. Header extensions are the peer's own numbering: dropped. */
  received(rtp: RtpPacket): void {
    this.packetsIn++;
    this.cameraSsrc = rtp.header.ssrc;
    rtp.header.extensions = [];
    this.handler?.(rtp);
  }

  /** Where camera packets go (one handler; null stops). */
  onCamera(handler: ((rtp: RtpPacket) => void) | null): void {
    this.handler = handler;
  }

  /** Asks the peer for a key frame of its camera (RTCP PLI); not before its first packet (no SSRC to name). */
  requestKeyframe(): boolean {
    if (this.camera === null || this.cameraSsrc === null) return false;
    this.keyframeRequestsSent++;
    this.camera.receiver.sendRtcpPLI(this.cameraSsrc).catch(() => undefined);
    return true;
  }

  /** Forgets every handler (the endpoint closed). */
  close(): void {
    this.handler = null;
    for (const s of this.slots) s.onKeyframeRequest(null);
  }
}
