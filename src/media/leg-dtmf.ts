/**
 * DTMF of one RTP leg in the media graph, both ways:
 *
 * - {@link LegDtmfIn}: digits the leg's endpoint sends, from its RFC 4733 telephone-event
 *   packets (when negotiated) or, on a decoded leg without telephone-event, from in-band tones
 *   found by the Goertzel detector in its decoded frames.
 * - {@link LegDtmfOut}: digits we play to the endpoint on the decode path, as RFC 4733 packets
 *   when the leg negotiated telephone-event, else as Q.23 tones mixed into its audio. Digits come
 *   live from another leg (key held: `begin` / `end`) or from a queue (`engine.sendDtmf`).
 *
 * The telephone-event clock is taken to be the audio codec's RTP clock (`telephone-event/8000`
 * with PCMU/PCMA/G.722, `/48000` with Opus): RFC 4733 §2.1 has events share the audio stream's
 * timestamp space, which is the only arrangement we negotiate.
 */
import { InbandDtmfDetector } from './dtmf/inband-detector.ts';
import { TelephoneEventReceiver, TelephoneEventSender } from './dtmf/rfc4733.ts';
import type { TelephoneEventReport } from './dtmf/rfc4733.ts';
import { frameSamples } from './frame-endpoint.ts';
import type { LegCodec } from './leg-codec.ts';
import { RTP_FIXED_HEADER_LENGTH } from './rtp-header.ts';
import type { RtpPacketizer } from './rtp-packetizer.ts';
import { dtmfTone } from './tone.ts';
import type { DtmfDigit, ToneGenerator } from './tone.ts';

/** How a digit reached us. */
export type DtmfSource = 'rfc4733' | 'inband';

/** What {@link LegDtmfIn} tells the graph. */
export interface DtmfInListener {
  /** A key went down (RFC 4733 first packet, or in-band tone accepted): regenerate it now. */
  begin(digit: DtmfDigit, source: DtmfSource): void;
  /** The key of the last `begin` is up (or a whole press, for a `begin`-less report). */
  end(digit: DtmfDigit, durationMs: number, source: DtmfSource): void;
}

/** Pause between queued digits (ITU-T Q.24 asks for >= 40 ms of silence between tones). */
export const DTMF_GAP_MS = 80;
/** Shortest tone we regenerate in-band: Q.24 receivers need >= 40 ms. */
export const MIN_TONE_MS = 50;

/**
 * RFC 4733 §2.1: telephone-event clock = the audio clock. The sender accepts 8/16/48 kHz; any
 * other audio clock falls back to 8000.
 */
function eventClock(codec: LegCodec): number {
  const r = codec.clockRate;
  return r === 8000 || r === 16000 || r === 48000 ? r : 8000;
}

/** Receiving side: one RFC 4733 receiver and/or one in-band detector. */
export class LegDtmfIn {
  /** Present when the leg negotiated telephone-event. */
  readonly receiver: TelephoneEventReceiver | null;
  /** Present while the leg is decoded without telephone-event (see {@link setDecoded}). */
  detector: InbandDtmfDetector | null = null;
  digits = 0;
  private detectorRate = 0;
  private silence = new Int16Array(0);

  constructor(codec: LegCodec | null, private readonly listener: DtmfInListener, now?: () => number) {
    this.receiver = codec === null || codec.telephoneEventPt === null
      ? null
      : new TelephoneEventReceiver({
        clockRate: eventClock(codec),
        now,
        onStart: (_event, digit) => {
          if (digit !== null) listener.begin(digit, 'rfc4733');
        },
        onEvent: (r: TelephoneEventReport) => {
          if (r.digit === null) return; // flash, modem tones: relayed as is, not reported
          this.digits++;
          listener.end(r.digit, r.durationMs, 'rfc4733');
        },
      });
  }

  /**
   * The leg's decode path now runs at `rate` (0: not decoded). In-band detection runs only on a
   * decoded leg without telephone-event: a leg that has it signals digits as events, and a
   * leg relayed untouched is not decoded at all (its tones reach the other side as audio).
   */
  setDecoded(rate: number): void {
    if (this.receiver !== null || rate === 0) {
      this.detector = null;
      this.detectorRate = 0;
      return;
    }
    if (this.detector !== null && this.detectorRate === rate) return;
    this.detectorRate = rate;
    this.silence = new Int16Array(frameSamples(rate));
    this.detector = new InbandDtmfDetector({
      sampleRate: rate,
      onDigit: (digit) => this.listener.begin(digit, 'inband'),
      onDigitEnd: (digit, durationMs) => {
        this.digits++;
        this.listener.end(digit, durationMs, 'inband');
      },
    });
  }

  /**
   * One frame of the decoded leg for the detector; `frame` null when the source was silent this
   * tick (jitter buffer empty: DTX, or the phone stopped sending after the tone), so the key's
   * end is still seen.
   */
  inspect(frame: Int16Array | null): void {
    const d = this.detector;
    if (d !== null) d.process(frame ?? this.silence);
  }
}

interface QueuedDigit {
  digit: DtmfDigit;
  durationMs: number;
}

/**
 * Sending side of a leg on the decode path. {@link frame} is called by the leg's sink for every
 * 20 ms frame before encoding: it either sends an RFC 4733 packet instead of the audio (RFC 4733
 * §2.5: audio of the same source is suppressed while the event lasts) and returns true, or mixes
 * the tone into `pcm` and returns false.
 */
export class LegDtmfOut {
  /** Digits started towards the endpoint (events or tones). */
  digits = 0;
  private readonly queue: QueuedDigit[] = [];
  private sender: TelephoneEventSender | null = null;
  private tone: ToneGenerator | null = null;
  private toneRate = 0;
  private toneScratch = new Int16Array(0);
  /** Digit in progress (tone or event), null when idle. */
  private current: DtmfDigit | null = null;
  /** The current digit is held by a live source (its end is not known yet). */
  private held = false;
  /** Tone samples still to play once released. */
  private toneLeft = 0;
  /** Tone samples played for the current digit. */
  private tonePlayed = 0;
  /** Frames of silence before the next queued digit. */
  private gapFrames = 0;
  /** Length of the current digit once known, ms (0 while held). */
  private pendingMs = 0;
  private eventClock = 8000;
  private eventPt: number | null = null;

  constructor(codec: LegCodec | null) {
    this.setCodec(codec);
  }

  setCodec(codec: LegCodec | null): void {
    this.eventPt = codec === null ? null : codec.telephoneEventPt;
    this.eventClock = codec === null ? 8000 : eventClock(codec);
    this.sender = this.eventPt === null ? null : new TelephoneEventSender({ clockRate: this.eventClock });
    this.cancel();
  }

  /** Whether RFC 4733 is used towards this leg (else tones). */
  get usesEvents(): boolean {
    return this.eventPt !== null;
  }

  /** Something is playing or queued: the leg must stay on the decode path. */
  get busy(): boolean {
    return this.current !== null || this.queue.length > 0 || this.gapFrames > 0 || (this.sender?.active ?? false);
  }

  /** Queues digits to play (each `durationMs`, {@link DTMF_GAP_MS} apart). */
  enqueue(digits: readonly DtmfDigit[], durationMs: number): void {
    for (const digit of digits) this.queue.push({ digit, durationMs });
  }

  /** A live key went down on a source this leg hears. Replaces whatever was playing. */
  begin(digit: DtmfDigit): void {
    this.gapFrames = 0;
    this.startDigit(digit, undefined);
  }

  /** The live key is up after `durationMs` in total. */
  end(digit: DtmfDigit, durationMs: number): void {
    if (this.current !== digit || !this.held) {
      // Never saw its start (e.g. it began before this leg joined): play it whole.
      if (this.current === null) this.startDigit(digit, durationMs);
      return;
    }
    this.held = false;
    this.pendingMs = durationMs;
    if (this.sender !== null) this.sender.stop(durationMs);
    else this.toneLeft = Math.max(0, Math.round((Math.max(durationMs, MIN_TONE_MS) * this.toneRate) / 1000) - this.tonePlayed);
  }

  /** Drops everything (codec change, call torn down). No end packets are sent. */
  cancel(): void {
    this.queue.length = 0;
    this.current = null;
    this.held = false;
    this.gapFrames = 0;
    this.sender?.cancel();
  }

  /**
   * One frame of the sink. `rate` is the sink's PCM rate, `packet` its RTP buffer.
   * @returns the length of an RFC 4733 packet written into `packet` (send it instead of the
   *   audio; the caller advances the audio clock), or 0 when `pcm` is to be encoded as usual.
   */
  frame(pcm: Int16Array, rate: number, packetizer: RtpPacketizer, packet: Buffer): number {
    if (this.current === null && !(this.sender?.active ?? false)) {
      if (this.gapFrames > 0) {
        this.gapFrames--;
        return 0;
      }
      const q = this.queue.shift();
      if (q === undefined) return 0;
      this.startDigit(q.digit, q.durationMs, packetizer.timestamp, rate);
    }
    const sender = this.sender;
    if (sender !== null) {
      if (this.current !== null && !sender.active) {
        // started by begin()/end() outside the frame: the timestamp is the sink's clock now
        sender.start(this.current, packetizer.timestamp, this.held ? undefined : this.pendingMs);
      }
      const n = sender.next(packet, RTP_FIXED_HEADER_LENGTH);
      if (n === 0) return 0;
      packetizer.event(packet, this.eventPt!, sender.timestamp, sender.marker);
      if (!sender.active) this.finishDigit();
      return RTP_FIXED_HEADER_LENGTH + n;
    }
    this.mixTone(pcm, rate);
    return 0;
  }

  private startDigit(digit: DtmfDigit, durationMs: number | undefined, timestamp?: number, rate?: number): void {
    this.current = digit;
    this.held = durationMs === undefined;
    this.pendingMs = durationMs ?? 0;
    this.digits++;
    if (this.sender !== null) {
      if (timestamp !== undefined) this.sender.start(digit, timestamp, durationMs);
      else this.sender.cancel(); // started on the next frame, with the sink's timestamp
      return;
    }
    this.tone = null; // made at the sink's rate on the next frame
    this.tonePlayed = 0;
    if (rate !== undefined) this.makeTone(rate);
  }

  private makeTone(rate: number): void {
    this.tone = dtmfTone(this.current!, rate);
    this.toneRate = rate;
    if (this.toneScratch.length !== frameSamples(rate)) this.toneScratch = new Int16Array(frameSamples(rate));
    this.toneLeft = this.held ? 0 : Math.round((Math.max(this.pendingMs, MIN_TONE_MS) * rate) / 1000);
  }

  private mixTone(pcm: Int16Array, rate: number): void {
    if (this.current === null) return;
    if (this.tone === null || this.toneRate !== rate) this.makeTone(rate);
    const n = this.toneScratch.length;
    const k = this.held ? n : Math.min(n, this.toneLeft);
    this.tone!.fill(this.toneScratch, 0, k);
    // The tone replaces the source's audio (usually silence or a muted tone while an RFC 4733
    // event lasts): a clean tone is what a Q.24 receiver expects.
    for (let i = 0; i < k; i++) pcm[i] = this.toneScratch[i];
    this.tonePlayed += k;
    if (!this.held) {
      this.toneLeft -= k;
      if (this.toneLeft <= 0) this.finishDigit();
    }
  }

  private finishDigit(): void {
    this.current = null;
    this.held = false;
    this.gapFrames = Math.ceil(DTMF_GAP_MS / 20);
  }
}
