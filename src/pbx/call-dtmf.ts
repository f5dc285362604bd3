/**
 * Digits of calls: SIP INFO DTMF in (RFC 6086 INFO carrying the de-facto `application/dtmf-relay`
 * and `application/dtmf` bodies), and one typed stream of digits per B2BUA that later features
 * (IVR menus, voicemail, the call API) subscribe to, whatever carried the digit: INFO, RFC 4733
 * or in-band tones (the media engine's `dtmf` events).
 *
 * A digit received on one side is played to the other side's media leg with
 * `engine.sendDtmf`, which picks RFC 4733 or tones by what that leg negotiated. RFC 4733 and
 * in-band digits need no such step: the media graph relays or regenerates them itself.
 */
import type { Logger } from 'pino';
import type { IncomingRequest } from '../sip/endpoint.ts';
import { DTMF_INFO_CONTENT_TYPES, DtmfInfoError, parseDtmfInfo } from '../media/dtmf/info-body.ts';
import type { DtmfEvent, MediaEngine } from '../media/media-engine.ts';
import type { DtmfDigit } from '../media/tone.ts';

/** How a digit reached us. */
export type DigitTransport = 'info' | 'rfc4733' | 'inband';

/** One key press on one side of a call. */
export interface CallDigit {
  callId: string;
  /** The side that pressed it: `a` = caller, `b` = callee. */
  side: 'a' | 'b';
  digit: DtmfDigit;
  durationMs: number;
  via: DigitTransport;
}

export type CallDigitListener = (digit: CallDigit) => void;

/**
 * The digits of all calls of a B2BUA, as one small typed event stream.
 *
 * @example
 * const off = b2bua.digits.on((d) => { if (d.callId === ivrCall) menu.press(d.digit); });
 * off(); // unsubscribe
 */
export class CallDigits {
  /** Digits seen since start, by transport (for status pages). */
  readonly counts: Record<DigitTransport, number> = { info: 0, rfc4733: 0, inband: 0 };
  private readonly listeners = new Set<CallDigitListener>();

  /** Subscribes; returns the function that unsubscribes. */
  on(listener: CallDigitListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(digit: CallDigit): void {
    this.counts[digit.via]++;
    for (const l of this.listeners) l(digit);
  }
}

/** What {@link handleDtmfInfo} needs of a call. */
export interface DigitCall {
  readonly id: string;
  /** Media leg ids: caller side, callee side. */
  readonly mediaLegIds: readonly [number, number];
}

/** engine.sendDtmf's accepted range: Q.24 needs >= 40 ms; an 8 s key press is already absurd. */
const MIN_PLAY_MS = 40;
const MAX_PLAY_MS = 8000;

/** A media `dtmf` event as a call digit, when `legId` belongs to `call`. */
export function digitOfMedia(call: DigitCall, e: DtmfEvent): CallDigit | null {
  const [a, b] = call.mediaLegIds;
  if (e.legId !== a && e.legId !== b) return null;
  return { callId: call.id, side: e.legId === a ? 'a' : 'b', digit: e.digit as DtmfDigit, durationMs: e.durationMs, via: e.source };
}

/**
 * Answers an INFO received in a call's dialog from `side` (RFC 6086 §4.2):
 * - no body: 200 (a bare INFO, e.g. a keep-alive, carries nothing to act on);
 * - a DTMF body: 200, the digit is emitted on `digits` and played to the other side's leg;
 * - another content type: 415 with `Accept` (RFC 3261 §21.4.13);
 * - a malformed DTMF body: 400 with the reason (`DtmfInfoError.sipStatus`).
 * The answer does not wait for the media worker: a failure to play is logged, not answered.
 */
export function handleDtmfInfo(
  r: IncomingRequest,
  call: DigitCall,
  side: 'a' | 'b',
  media: Pick<MediaEngine, 'sendDtmf'>,
  digits: CallDigits,
  log: Logger,
): void {
  const body = r.msg.body;
  if (body.length === 0) {
    r.reply(200, 'OK');
    return;
  }
  let info;
  try {
    info = parseDtmfInfo(r.msg.contentType ?? '', body);
  } catch (err) {
    if (!(err instanceof DtmfInfoError)) throw err;
    const headers = err.sipStatus === 415 ? { Accept: DTMF_INFO_CONTENT_TYPES.join(', ') } : undefined;
    // The reason phrase carries the detail; the parser quotes at most 40 chars of the body,
    // and control characters are blanked so they cannot break the status line.
    r.reply(err.sipStatus, err.message.replace(/[\x00-\x1f\x7f]/g, ' '), { headers });
    return;
  }
  r.reply(200, 'OK');
  digits.emit({ callId: call.id, side, digit: info.digit, durationMs: info.durationMs, via: 'info' });
  const other = call.mediaLegIds[side === 'a' ? 1 : 0];
  const ms = Math.min(MAX_PLAY_MS, Math.max(MIN_PLAY_MS, info.durationMs));
  media.sendDtmf(other, info.digit, ms).catch((err: unknown) => {
    log.warn({ err, callId: call.id, side, digit: info.digit }, 'could not play an INFO digit to the other leg');
  });
}
