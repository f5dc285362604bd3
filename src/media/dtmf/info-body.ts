/**
 * DTMF carried in SIP INFO bodies (RFC 6086 INFO with the legacy, de-facto formats):
 *
 * - `application/dtmf-relay` (Cisco/Polycom/Asterisk; no RFC):
 *   ```
 *   Signal=5\r\n
 *   Duration=160\r\n
 *   ```
 *   `key=value` lines (CRLF or LF, spaces around `=` tolerated, keys case-insensitive);
 *   `Duration` in milliseconds, optional; other keys (`Volume=`) are ignored.
 * - `application/dtmf` (draft-kaplan-dispatch-info-dtmf-package): the key alone, e.g. `5`.
 *
 * Validation is strict because the digit drives IVR menus and PIN entry: one known key
 * (0-9, *, #, A-D; a-d accepted and upper-cased), a bounded integer duration, a small body.
 * Anything else is a {@link DtmfInfoError} whose `sipStatus` is the answer to the INFO
 * (415 for another content type, 400 for a bad body, RFC 3261 §21.4).
 */
import { isDtmfDigit, type DtmfDigit } from '../tone.ts';

export const DTMF_INFO_ERRORS = {
  DTMF_INFO_ERR_CONTENT_TYPE: { sipStatus: 415, message: 'unsupported DTMF INFO content type' },
  DTMF_INFO_ERR_TOO_LARGE: { sipStatus: 400, message: 'DTMF INFO body too large' },
  DTMF_INFO_ERR_MALFORMED: { sipStatus: 400, message: 'malformed DTMF INFO body' },
  DTMF_INFO_ERR_NO_SIGNAL: { sipStatus: 400, message: 'DTMF INFO body has no Signal' },
  DTMF_INFO_ERR_BAD_SIGNAL: { sipStatus: 400, message: 'unknown DTMF signal' },
  DTMF_INFO_ERR_BAD_DURATION: { sipStatus: 400, message: 'invalid DTMF duration' },
} as const satisfies Record<string, { sipStatus: number; message: string }>;

export type DtmfInfoErrorCode = keyof typeof DTMF_INFO_ERRORS;

/** A rejected INFO body; `sipStatus` is the response to send. */
export class DtmfInfoError extends Error {
  readonly code: DtmfInfoErrorCode;
  readonly sipStatus: number;

  constructor(code: DtmfInfoErrorCode, detail?: string) {
    const e = DTMF_INFO_ERRORS[code];
    super(detail === undefined ? e.message : `${e.message}: ${detail}`);
    this.name = 'DtmfInfoError';
    this.code = code;
    this.sipStatus = e.sipStatus;
  }
}

/** A key press received in an INFO. */
export interface DtmfInfo {
  digit: DtmfDigit;
  /** From `Duration=`; {@link DEFAULT_INFO_DURATION_MS} when the body has none. */
  durationMs: number;
}

/** Content types this module parses (lower case, without parameters). */
export const DTMF_INFO_CONTENT_TYPES = ['application/dtmf-relay', 'application/dtmf'] as const;
/** Duration assumed when `Duration=` is absent (typical phone key press). */
export const DEFAULT_INFO_DURATION_MS = 250;
/** Accepted durations, ms: a 0 ms key press means nothing, and no key is held for a minute. */
export const MIN_INFO_DURATION_MS = 1;
export const MAX_INFO_DURATION_MS = 60_000;
/** Real bodies are ~25 bytes; anything near this is not a DTMF relay. */
const MAX_BODY_BYTES = 512;

function signalOf(raw: string): DtmfDigit {
  const s = raw.length === 1 ? raw.toUpperCase() : raw;
  if (!isDtmfDigit(s)) throw new DtmfInfoError('DTMF_INFO_ERR_BAD_SIGNAL', `"${raw.slice(0, 20)}" (expected one of 0-9 * # A-D)`);
  return s;
}

/**
 * Parses the body of a SIP INFO that carries a key press.
 *
 * @param contentType the Content-Type header value (parameters and case ignored).
 * @throws DtmfInfoError for another content type, an oversized or malformed body, a missing,
 *   repeated or unknown Signal, or a Duration that is not an integer in 1..60000 ms.
 *
 * @example
 * parseDtmfInfo('application/dtmf-relay', 'Signal=5\r\nDuration=160\r\n') // { digit: '5', durationMs: 160 }
 * parseDtmfInfo('application/dtmf', '#') // { digit: '#', durationMs: 250 }
 */
export function parseDtmfInfo(contentType: string, body: string | Uint8Array): DtmfInfo {
  const type = contentType.split(';', 1)[0].trim().toLowerCase();
  if (!(DTMF_INFO_CONTENT_TYPES as readonly string[]).includes(type)) {
    throw new DtmfInfoError('DTMF_INFO_ERR_CONTENT_TYPE', `"${type}" (accepted: ${DTMF_INFO_CONTENT_TYPES.join(', ')})`);
  }
  const length = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  if (length > MAX_BODY_BYTES) throw new DtmfInfoError('DTMF_INFO_ERR_TOO_LARGE', `${length} bytes, limit ${MAX_BODY_BYTES}`);
  const text = typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.length).toString('utf8');

  if (type === 'application/dtmf') {
    const t = text.trim();
    if (t === '') throw new DtmfInfoError('DTMF_INFO_ERR_NO_SIGNAL', 'empty body');
    return { digit: signalOf(t), durationMs: DEFAULT_INFO_DURATION_MS };
  }

  let digit: DtmfDigit | null = null;
  let durationMs = DEFAULT_INFO_DURATION_MS;
  let sawDuration = false;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '') continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new DtmfInfoError('DTMF_INFO_ERR_MALFORMED', `line "${line.slice(0, 40)}" is not key=value`);
    const key = line.slice(0, eq).trim().toLowerCase();
    const value = line.slice(eq + 1).trim();
    if (key === 'signal') {
      if (digit !== null) throw new DtmfInfoError('DTMF_INFO_ERR_MALFORMED', 'Signal given twice');
      digit = signalOf(value);
    } else if (key === 'duration') {
      if (sawDuration) throw new DtmfInfoError('DTMF_INFO_ERR_MALFORMED', 'Duration given twice');
      sawDuration = true;
      if (!/^\d{1,6}$/.test(value)) throw new DtmfInfoError('DTMF_INFO_ERR_BAD_DURATION', `"${value.slice(0, 20)}" is not an integer of ms`);
      durationMs = Number(value);
      if (durationMs < MIN_INFO_DURATION_MS || durationMs > MAX_INFO_DURATION_MS) {
        throw new DtmfInfoError('DTMF_INFO_ERR_BAD_DURATION', `${durationMs} ms outside ${MIN_INFO_DURATION_MS}..${MAX_INFO_DURATION_MS}`);
      }
    }
  }
  if (digit === null) throw new DtmfInfoError('DTMF_INFO_ERR_NO_SIGNAL');
  return { digit, durationMs };
}

/** Builds an `application/dtmf-relay` body (for sending INFO to a leg that wants it). */
export function formatDtmfRelay(info: DtmfInfo): string {
  return `Signal=${info.digit}\r\nDuration=${Math.round(info.durationMs)}\r\n`;
}
