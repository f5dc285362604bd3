/**
 * Error catalogue of the SDP layer. Every failure of `parseSdp`, the offer/answer helpers and
 * the rewriting helpers is an {@link SdpError} carrying one of these stable codes, so callers
 * (the B2BUA) can map it to a SIP answer without matching on message text.
 *
 * Codes follow the `SDP_ERR_<WHAT>` pattern and never change meaning once released.
 */
export const SDP_ERRORS = {
  SDP_ERR_EMPTY: { sipStatus: 400, message: 'SDP body is empty' },
  SDP_ERR_LINE_SYNTAX: { sipStatus: 400, message: 'SDP line is not of the form <type>=<value>' },
  SDP_ERR_VERSION: { sipStatus: 400, message: 'SDP must start with v=0' },
  SDP_ERR_ORIGIN: { sipStatus: 400, message: 'malformed o= line' },
  SDP_ERR_MISSING_FIELD: { sipStatus: 400, message: 'mandatory SDP field missing' },
  SDP_ERR_DUPLICATE_FIELD: { sipStatus: 400, message: 'SDP field appears more than once' },
  SDP_ERR_CONNECTION: { sipStatus: 400, message: 'malformed c= line' },
  SDP_ERR_NO_CONNECTION: { sipStatus: 400, message: 'media description has no connection address' },
  SDP_ERR_TIMING: { sipStatus: 400, message: 'malformed t= line' },
  SDP_ERR_BANDWIDTH: { sipStatus: 400, message: 'malformed b= line' },
  SDP_ERR_MEDIA: { sipStatus: 400, message: 'malformed m= line' },
  SDP_ERR_ATTRIBUTE: { sipStatus: 400, message: 'malformed attribute value' },
  SDP_ERR_PORT_COUNT: { sipStatus: 500, message: 'wrong number of ports for the media descriptions' },
  SDP_ERR_NO_COMMON_CODEC: { sipStatus: 488, message: 'no common codec in any media description' },
} as const satisfies Record<string, { sipStatus: number; message: string }>;

export type SdpErrorCode = keyof typeof SDP_ERRORS;

export interface SdpErrorOptions {
  /** 1-based line number in the parsed text, when the error comes from the parser. */
  line?: number;
  /** Extra context appended to the catalogue message ("got X"). */
  detail?: string;
  cause?: unknown;
}

/**
 * A typed SDP failure. `sipStatus` is the SIP answer the error suggests: 400 for a body we
 * cannot read, 488 (Not Acceptable Here, RFC 3261 §21.4.26) when negotiation finds nothing in
 * common, 500 for a programming error of the caller.
 *
 * @example
 * try { parseSdp(body) } catch (e) { if (e instanceof SdpError) reply(e.sipStatus) }
 */
export class SdpError extends Error {
  readonly code: SdpErrorCode;
  readonly sipStatus: number;
  readonly line: number | undefined;

  constructor(code: SdpErrorCode, options: SdpErrorOptions = {}) {
    const entry = SDP_ERRORS[code];
    let message: string = entry.message;
    if (options.detail !== undefined) message += `: ${options.detail}`;
    if (options.line !== undefined) message += ` (line ${options.line})`;
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SdpError';
    this.code = code;
    this.sipStatus = entry.sipStatus;
    this.line = options.line;
  }
}
