/**
 * RFC 4733 telephone events (DTMF over RTP): the 4-octet payload, a receiver that turns the
 * redundant packet stream into one report per key press, and a sender driven by the media
 * worker's 20 ms clock.
 *
 * Payload (RFC 4733 §2.3):
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     event     |E|R| volume    |          duration             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 * - event: 0-9, * = 10, # = 11, A-D = 12-15 for DTMF (§3.2); other codes (16 = flash, ...) are
 *   carried through as numbers.
 * - E: end of the event. R: reserved, sent 0, ignored on receipt.
 * - volume: power of the tone, 0..63 meaning 0..-63 dBm0 (§2.3.4).
 * - duration: in RTP clock units since the event's timestamp, unsigned 16 bits (§2.3.5).
 *
 * All packets of one event share the RTP timestamp of its start (§2.3.1); a new timestamp is a
 * new event. The end packet is sent three times (§2.5.1.4), so receivers must deduplicate.
 */
import { DTMF_DIGITS, type DtmfDigit } from '../tone.ts';

/** Payload length of one event (no redundancy, RFC 2198 is not used). */
export const TELEPHONE_EVENT_LENGTH = 4;
/** Largest duration one event segment can carry (§2.5.1.3 splits longer events). */
export const MAX_SEGMENT_DURATION = 0xffff;
/** How many times the end packet is sent (§2.5.1.4: "three"). */
export const END_PACKET_COUNT = 3;

/** RFC 4733 event code of a DTMF key (§3.2 table 1). */
export function dtmfEventCode(digit: DtmfDigit): number {
  return DTMF_DIGITS.indexOf(digit);
}

/** The DTMF key of an event code, or null for codes above 15 (flash, modem tones, ...). */
export function dtmfDigitOf(event: number): DtmfDigit | null {
  return event >= 0 && event < 16 ? DTMF_DIGITS[event] : null;
}

/** Decoded payload fields; create one per stream and reuse it with {@link readTelephoneEvent}. */
export class TelephoneEvent {
  event = 0;
  end = false;
  /** 0..63: -dBm0 (10 = -10 dBm0). */
  volume = 0;
  /** Clock units since the event's RTP timestamp. */
  duration = 0;
}

/**
 * Reads the payload at `offset` into `out`.
 * @returns false when fewer than 4 octets are available (`out` untouched).
 */
export function readTelephoneEvent(buf: Uint8Array, out: TelephoneEvent, offset = 0): boolean {
  if (buf.length - offset < TELEPHONE_EVENT_LENGTH) return false;
  out.event = buf[offset];
  out.end = (buf[offset + 1] & 0x80) !== 0;
  out.volume = buf[offset + 1] & 0x3f;
  out.duration = (buf[offset + 2] << 8) | buf[offset + 3];
  return true;
}

/**
 * Writes one payload at `offset`; R is sent as 0, volume and duration are masked to their widths.
 * @returns the offset after the payload.
 * @throws RangeError when fewer than 4 octets remain.
 */
export function writeTelephoneEvent(
  dst: Uint8Array,
  event: number,
  end: boolean,
  volume: number,
  duration: number,
  offset = 0,
): number {
  if (dst.length - offset < TELEPHONE_EVENT_LENGTH) {
    throw new RangeError(`telephone-event needs ${TELEPHONE_EVENT_LENGTH} octets, got ${dst.length - offset}`);
  }
  dst[offset] = event;
  dst[offset + 1] = (end ? 0x80 : 0) | (volume & 0x3f);
  dst[offset + 2] = duration >>> 8;
  dst[offset + 3] = duration;
  return offset + TELEPHONE_EVENT_LENGTH;
}

/** How a reported event finished. */
export type TelephoneEventEnd =
  /** An end packet (E bit) arrived. */
  | 'end'
  /** No packet of the event for `timeoutMs` (all end packets lost). */
  | 'timeout'
  /** A packet with a newer timestamp arrived before the end (§2.5.2.1: a new event). */
  | 'superseded'
  /** {@link TelephoneEventReceiver.flush}: the stream closed mid-event. */
  | 'flushed';

/** One key press, reported once. Allocated per event, never per packet. */
export interface TelephoneEventReport {
  event: number;
  digit: DtmfDigit | null;
  /** RTP timestamp of the event's start (of its first segment for long events). */
  timestamp: number;
  /** Total duration in clock units, all segments included. */
  duration: number;
  durationMs: number;
  volume: number;
  endedBy: TelephoneEventEnd;
}

export interface TelephoneEventReceiverOptions {
  /** RTP clock rate of the telephone-event payload type (8000 or 48000 in practice). */
  clockRate: number;
  /** Called once per event when it ends. */
  onEvent: (report: TelephoneEventReport) => void;
  /** Called once when an event begins (low-latency consumers, e.g. barge-in); optional. */
  onStart?: (event: number, digit: DtmfDigit | null, timestamp: number) => void;
  /**
   * An event whose packets stop without an end packet is reported after this long (checked on
   * {@link TelephoneEventReceiver.tick} and on every packet). Senders refresh at least every
   * 50 ms (§2.5.1.2 suggests the audio packet interval), so 300 ms is several lost updates.
   * Default 300.
   */
  timeoutMs?: number;
  /** Monotonic milliseconds; default `performance.now`. Injected so tests need no sleeps. */
  now?: () => number;
}

/**
 * Receiver state machine (RFC 4733 §2.5.2): feed it every telephone-event packet of a stream
 * with its RTP timestamp and marker; it calls `onEvent` exactly once per event.
 *
 * - A timestamp newer than the current event's starts a new event (the marker is only a hint,
 *   it may be lost, §2.5.2.1); an unfinished previous event is reported as `superseded`.
 * - Packets of the current event raise its duration; the first E bit reports it; the other end
 *   retransmissions and any late update of a reported event are dropped (counted).
 * - A timestamp older than the latest event (reordering) is dropped.
 * - A long event split into segments (§2.5.1.3: the next segment starts at timestamp +
 *   0xFFFF with no marker) is reported once, with the summed duration.
 * - If the end never arrives, {@link tick} (call it on the worker's 20 ms clock) reports it after
 *   `timeoutMs` without packets.
 *
 * Nothing is allocated per packet; one report object per event.
 *
 * @example
 * const rx = new TelephoneEventReceiver({ clockRate: 8000, onEvent: (e) => digits.push(e.digit) });
 * rx.receive(h.timestamp, h.marker, msg.subarray(n, n + h.payloadLength));
 */
export class TelephoneEventReceiver {
  readonly clockRate: number;
  /** Packets accepted as updates of an event. */
  packets = 0;
  /** End retransmissions and late updates of events already reported. */
  duplicates = 0;
  /** Packets older than the latest event (reordered). */
  stale = 0;
  /** Payloads shorter than 4 octets, or another event code under the current timestamp. */
  invalid = 0;

  private readonly onEvent: (report: TelephoneEventReport) => void;
  private readonly onStart: ((event: number, digit: DtmfDigit | null, timestamp: number) => void) | undefined;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly scratch = new TelephoneEvent();

  /** True while an event has started and is not yet reported. */
  private active = false;
  /** Whether {@link latestTs} holds a timestamp yet. */
  private seen = false;
  /** Timestamp of the newest segment seen, reported or not. */
  private latestTs = 0;
  /** Timestamp of the current event's first segment. */
  private startTs = 0;
  private event = 0;
  private volume = 0;
  /** Highest duration seen in the current segment. */
  private segmentDuration = 0;
  /** Durations of the earlier segments of a long event. */
  private durationBase = 0;
  private lastPacketAt = 0;

  constructor(options: TelephoneEventReceiverOptions) {
    if (!(options.clockRate > 0)) throw new RangeError(`clockRate must be > 0, got ${options.clockRate}`);
    this.clockRate = options.clockRate;
    this.onEvent = options.onEvent;
    this.onStart = options.onStart;
    this.timeoutMs = options.timeoutMs ?? 300;
    this.now = options.now ?? (() => performance.now());
  }

  /**
   * Feeds one packet: its RTP timestamp (unsigned 32-bit), marker bit and payload (from
   * `offset`, so the caller need not slice the datagram).
   */
  receive(timestamp: number, marker: boolean, payload: Uint8Array, offset = 0): void {
    const p = this.scratch;
    if (!readTelephoneEvent(payload, p, offset)) {
      this.invalid++;
      return;
    }
    const now = this.now();
    this.expire(now);
    const ts = timestamp >>> 0;
    if (this.seen) {
      const d = (ts - this.latestTs) | 0;
      if (d < 0) {
        this.stale++;
        return;
      }
      if (d === 0) {
        if (!this.active) {
          this.duplicates++;
          return;
        }
        if (p.event !== this.event) {
          this.invalid++;
          return;
        }
        this.packets++;
        this.lastPacketAt = now;
        this.volume = p.volume;
        if (p.duration > this.segmentDuration) this.segmentDuration = p.duration;
        if (p.end) this.report('end');
        return;
      }
      if (this.active) {
        // §2.5.1.3: the next segment of a long event starts where the full previous one ends,
        // without a marker. Accept a little slack for senders that round the split.
        const slack = this.clockRate / 10;
        if (!marker && p.event === this.event && this.segmentDuration >= MAX_SEGMENT_DURATION - slack && d <= MAX_SEGMENT_DURATION + slack) {
          this.packets++;
          this.durationBase += d;
          this.latestTs = ts;
          this.segmentDuration = p.duration;
          this.volume = p.volume;
          this.lastPacketAt = now;
          if (p.end) this.report('end');
          return;
        }
        this.report('superseded');
      }
    }
    this.packets++;
    this.seen = true;
    this.active = true;
    this.latestTs = ts;
    this.startTs = ts;
    this.event = p.event;
    this.volume = p.volume;
    this.segmentDuration = p.duration;
    this.durationBase = 0;
    this.lastPacketAt = now;
    this.onStart?.(p.event, dtmfDigitOf(p.event), ts);
    if (p.end) this.report('end');
  }

  /** Reports an event whose packets stopped `timeoutMs` ago. Call it on the 20 ms clock. */
  tick(): void {
    this.expire(this.now());
  }

  /** Reports the event in progress, if any (the stream is closing). */
  flush(): void {
    if (this.active) this.report('flushed');
  }

  private expire(now: number): void {
    if (this.active && now - this.lastPacketAt >= this.timeoutMs) this.report('timeout');
  }

  private report(endedBy: TelephoneEventEnd): void {
    this.active = false;
    const duration = this.durationBase + this.segmentDuration;
    this.onEvent({
      event: this.event,
      digit: dtmfDigitOf(this.event),
      timestamp: this.startTs,
      duration,
      durationMs: (duration * 1000) / this.clockRate,
      volume: this.volume,
      endedBy,
    });
  }
}

export interface TelephoneEventSenderOptions {
  /** RTP clock rate of the negotiated telephone-event payload type: 8000 or 48000. */
  clockRate: number;
  /** Interval between packets, i.e. the worker clock (default 20 ms). */
  packetMs?: number;
  /** Volume field, 0..63 (-dBm0); default 10. */
  volume?: number;
}

/**
 * Produces the packets of one event at a time, one per call of {@link next} on the worker's
 * 20 ms clock (RFC 4733 §2.5.1):
 * - every packet carries the RTP timestamp of the event start ({@link timestamp}); only the
 *   first has the marker ({@link marker}, §2.5.1.1 / RFC 3550 "talkspurt");
 * - duration grows by one packet interval per packet (§2.5.1.2);
 * - at the end, the final packet is sent {@link END_PACKET_COUNT} times with E set and the same
 *   duration (§2.5.1.4);
 * - an event longer than 0xFFFF clock units (1.36 s at 48 kHz) continues as a new segment at
 *   timestamp + 0xFFFF, without marker (§2.5.1.3).
 *
 * The caller writes the RTP header (its own sequence number per packet, this `timestamp` and
 * `marker`, the telephone-event payload type) and suppresses audio while {@link active}.
 *
 * @example
 * const tx = new TelephoneEventSender({ clockRate: 8000 });
 * tx.start('5', rtpTimestampNow, 100);
 * // every 20 ms:
 * const n = tx.next(packet, 12);
 * if (n > 0) { writeRtpHeader(packet, { marker: tx.marker, timestamp: tx.timestamp, ... }); send(packet.subarray(0, 12 + n)) }
 */
export class TelephoneEventSender {
  readonly clockRate: number;
  /** Clock units per packet. */
  readonly step: number;
  readonly volume: number;
  /** Marker bit for the packet {@link next} just wrote. */
  marker = false;
  /** RTP timestamp for the packet {@link next} just wrote (the current segment's start). */
  timestamp = 0;

  private event = -1;
  /** Clock units elapsed since the event start, as of the last packet. */
  private elapsed = 0;
  /** Total duration when known (clock units), or -1 while the key is held. */
  private target = -1;
  /** Clock units covered by earlier segments. */
  private segmentBase = 0;
  /** Duration written in the last packet of the current segment. */
  private segmentSent = 0;
  private endsSent = 0;
  private first = false;

  constructor(options: TelephoneEventSenderOptions) {
    const { clockRate } = options;
    if (clockRate !== 8000 && clockRate !== 16000 && clockRate !== 48000) {
      throw new RangeError(`telephone-event clock rate must be 8000, 16000 or 48000, got ${clockRate}`);
    }
    const packetMs = options.packetMs ?? 20;
    this.clockRate = clockRate;
    this.step = Math.round((clockRate * packetMs) / 1000);
    const volume = options.volume ?? 10;
    if (!Number.isInteger(volume) || volume < 0 || volume > 63) throw new RangeError(`volume must be 0..63, got ${volume}`);
    this.volume = volume;
  }

  /** True from {@link start} until the last end packet has been produced. */
  get active(): boolean {
    return this.event >= 0;
  }

  /**
   * Begins an event. `timestamp` is the RTP timestamp of the audio stream at the event start;
   * `durationMs` fixes its length, or leave it out and call {@link stop} when the key is released.
   * An event still in progress is ended first (its end packets are not sent).
   * @throws RangeError for an unknown digit or event code outside 0..255.
   */
  start(event: DtmfDigit | number, timestamp: number, durationMs?: number): void {
    const code = typeof event === 'number' ? event : dtmfEventCode(event);
    if (!Number.isInteger(code) || code < 0 || code > 255) throw new RangeError(`not a telephone-event code: ${String(event)}`);
    this.event = code;
    this.timestamp = timestamp >>> 0;
    this.elapsed = 0;
    this.segmentBase = 0;
    this.segmentSent = 0;
    this.endsSent = 0;
    this.first = true;
    this.target = -1;
    if (durationMs !== undefined) this.stop(durationMs);
  }

  /**
   * Ends the event: the next packets carry E. With `durationMs`, that is the final duration (not
   * shorter than what was already sent); without it, the duration reached at the next packet.
   */
  stop(durationMs?: number): void {
    if (this.event < 0 || this.target >= 0) return;
    if (durationMs === undefined) {
      this.target = this.elapsed + this.step;
    } else {
      if (!(durationMs > 0)) throw new RangeError(`duration must be > 0 ms, got ${durationMs}`);
      this.target = Math.max(this.elapsed, Math.round((durationMs * this.clockRate) / 1000));
    }
  }

  /** Stops at once without end packets (call torn down). */
  cancel(): void {
    this.event = -1;
  }

  /**
   * Writes the next payload (4 octets) at `offset` of `out` and sets {@link marker} and
   * {@link timestamp} for its RTP header.
   * @returns 4, or 0 when no event is in progress (nothing written).
   */
  next(out: Uint8Array, offset = 0): number {
    if (this.event < 0) return 0;
    this.marker = this.first;
    this.first = false;
    if (this.endsSent > 0) {
      writeTelephoneEvent(out, this.event, true, this.volume, this.segmentSent, offset);
      if (++this.endsSent === END_PACKET_COUNT) this.event = -1;
      return TELEPHONE_EVENT_LENGTH;
    }
    let elapsed = this.elapsed + this.step;
    const ending = this.target >= 0 && elapsed >= this.target;
    if (ending) elapsed = this.target;
    this.elapsed = elapsed;
    let inSegment = elapsed - this.segmentBase;
    if (inSegment > MAX_SEGMENT_DURATION) {
      if (this.segmentSent < MAX_SEGMENT_DURATION) {
        // Close the segment with the largest duration it can carry, without E (§2.5.1.3).
        this.segmentSent = MAX_SEGMENT_DURATION;
        writeTelephoneEvent(out, this.event, false, this.volume, MAX_SEGMENT_DURATION, offset);
        return TELEPHONE_EVENT_LENGTH;
      }
      this.segmentBase += MAX_SEGMENT_DURATION;
      this.timestamp = (this.timestamp + MAX_SEGMENT_DURATION) >>> 0;
      inSegment -= MAX_SEGMENT_DURATION;
    }
    this.segmentSent = inSegment;
    writeTelephoneEvent(out, this.event, ending, this.volume, inSegment, offset);
    if (ending && ++this.endsSent === END_PACKET_COUNT) this.event = -1;
    return TELEPHONE_EVENT_LENGTH;
  }
}
