/**
 * Error catalogue of the media layer. Every failure the engine reports at its API edge is a
 * {@link MediaError} carrying one of these stable codes, so callers (the B2BUA, the status API)
 * can map it to a SIP answer or an HTTP error without matching on message text. Hot paths never
 * throw: they count drops instead (see `LegStats`).
 *
 * Codes follow the `MEDIA_ERR_<WHAT>` pattern and never change meaning once released.
 */
export const MEDIA_ERRORS = {
  MEDIA_ERR_PORTS_EXHAUSTED: { sipStatus: 503, message: 'no free RTP port pair in the configured range' },
  MEDIA_ERR_BIND: { sipStatus: 500, message: 'could not bind an RTP/RTCP socket' },
  MEDIA_ERR_LEG_NOT_FOUND: { sipStatus: 500, message: 'unknown media leg' },
  MEDIA_ERR_CROSS_WORKER: { sipStatus: 500, message: 'legs live in different media workers and cannot be bridged' },
  MEDIA_ERR_SELF_BRIDGE: { sipStatus: 500, message: 'a leg cannot be bridged to itself' },
  MEDIA_ERR_BAD_ADDRESS: { sipStatus: 488, message: 'remote media address is not an IP literal of the socket family' },
  MEDIA_ERR_BAD_PORT: { sipStatus: 488, message: 'remote media port out of range' },
  MEDIA_ERR_BAD_OPTION: { sipStatus: 500, message: 'invalid media engine option' },
  MEDIA_ERR_WORKER_EXITED: { sipStatus: 503, message: 'media worker exited before answering' },
  MEDIA_ERR_CLOSED: { sipStatus: 503, message: 'media engine is closed' },
} as const satisfies Record<string, { sipStatus: number; message: string }>;

export type MediaErrorCode = keyof typeof MEDIA_ERRORS;

export interface MediaErrorOptions {
  /** Extra context appended to the catalogue message ("got X, need Y"). */
  detail?: string;
  cause?: unknown;
}

/**
 * A typed media failure. `sipStatus` is the SIP answer the error suggests to the B2BUA:
 * 503 when we are out of resources (RFC 3261 §21.5.4), 488 when the peer's SDP gives us an
 * address we cannot use, 500 for a programming error of the caller.
 *
 * @example
 * try { await engine.createLeg() } catch (e) { if (e instanceof MediaError) reply(e.sipStatus) }
 */
export class MediaError extends Error {
  readonly code: MediaErrorCode;
  readonly sipStatus: number;

  constructor(code: MediaErrorCode, options: MediaErrorOptions = {}) {
    const entry = MEDIA_ERRORS[code];
    let message: string = entry.message;
    if (options.detail !== undefined) message += `: ${options.detail}`;
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MediaError';
    this.code = code;
    this.sipStatus = entry.sipStatus;
  }
}

/** Narrows an unknown string received over the worker channel to a catalogue code. */
export function isMediaErrorCode(code: unknown): code is MediaErrorCode {
  return typeof code === 'string' && Object.hasOwn(MEDIA_ERRORS, code);
}
