/**
 * Error catalogue of the SIP message layer (parser, URIs, header accessors).
 *
 * Every error carries a stable `code` (`SIP_ERR_<AREA>_<WHAT>`) that logs, metrics and tests
 * key on; messages are for humans and may change. Other `src/sip/` modules extend `SipError`
 * with their own codes.
 */

/** Base class of every error thrown by `src/sip/`. */
export class SipError extends Error {
  /** Stable machine-readable code, e.g. `SIP_ERR_PARSE_START_LINE`. */
  readonly code: string;
  /** SIP status a server should answer with when this error is about a request (0 = none). */
  readonly sipStatus: number;

  constructor(code: string, message: string, sipStatus = 0, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SipError';
    this.code = code;
    this.sipStatus = sipStatus;
  }
}

/**
 * Codes raised while framing or parsing a message, or while parsing one structured header on
 * first access. Grouped by where the problem is.
 */
export const SipParseErrorCode = {
  /** Datagram larger than the configured maximum (default 64 KiB). */
  TOO_LARGE: 'SIP_ERR_PARSE_TOO_LARGE',
  /** Nothing but CRLFs (keep-alives belong to the transport, not here). */
  EMPTY: 'SIP_ERR_PARSE_EMPTY',
  /** No empty line ending the header section (RFC 3261 §7: it is mandatory, even without body). */
  NO_HEADER_END: 'SIP_ERR_PARSE_NO_HEADER_END',
  /** Start line is neither a Request-Line nor a Status-Line (§7.1, §7.2, §25.1). */
  START_LINE: 'SIP_ERR_PARSE_START_LINE',
  /** Status-Code is not 3 digits in 100..699 (§7.2, RFC 4475 §3.1.2.19). */
  STATUS_CODE: 'SIP_ERR_PARSE_STATUS_CODE',
  /** Header line without a colon or with an invalid field name (§7.3.1). */
  HEADER_LINE: 'SIP_ERR_PARSE_HEADER_LINE',
  /** Content-Length not a non-negative integer, or absurdly large (§20.14, RFC 4475 §3.1.2.3). */
  CONTENT_LENGTH: 'SIP_ERR_PARSE_CONTENT_LENGTH',
  /** More than one Content-Length: framing ambiguous (RFC 4475 §3.3.9). */
  CONTENT_LENGTH_MULTIPLE: 'SIP_ERR_PARSE_CONTENT_LENGTH_MULTIPLE',
  /** Content-Length larger than the octets received (§18.3, RFC 4475 §3.1.2.2). */
  CONTENT_LENGTH_EXCEEDS: 'SIP_ERR_PARSE_CONTENT_LENGTH_EXCEEDS',
  /** Malformed URI (§19.1, §25.1; RFC 3966). */
  URI: 'SIP_ERR_PARSE_URI',
  /** Malformed Via (§20.42). */
  VIA: 'SIP_ERR_PARSE_VIA',
  /** Malformed name-addr / addr-spec (From, To, Contact, Route...) (§20.10, §25.1). */
  NAME_ADDR: 'SIP_ERR_PARSE_NAME_ADDR',
  /** Malformed generic parameter list (`;name=value`) (§25.1 generic-param). */
  PARAMS: 'SIP_ERR_PARSE_PARAMS',
  /** Malformed or out-of-range CSeq (§20.16: sequence number < 2**31). */
  CSEQ: 'SIP_ERR_PARSE_CSEQ',
  /** Malformed or out-of-range Max-Forwards (§20.22: 0..255). */
  MAX_FORWARDS: 'SIP_ERR_PARSE_MAX_FORWARDS',
  /** Malformed or out-of-range Expires (§20.19: 0..2**32-1). */
  EXPIRES: 'SIP_ERR_PARSE_EXPIRES',
  /** A mandatory header (From, To, Call-ID, CSeq, Via) is absent (§8.1.1, RFC 4475 §3.3.1). */
  MISSING_HEADER: 'SIP_ERR_PARSE_MISSING_HEADER',
  /** Empty or malformed Call-ID (§20.8). */
  CALL_ID: 'SIP_ERR_PARSE_CALL_ID',
} as const;

export type SipParseErrorCode = (typeof SipParseErrorCode)[keyof typeof SipParseErrorCode];

/**
 * Raw header values salvaged from a message that failed to parse, enough to build a 400
 * (RFC 3261 §8.2.6.1 copies Via, From, To, Call-ID, CSeq). Values are as on the wire.
 */
export interface SipReplyHeaders {
  via: string[];
  from: string | null;
  to: string | null;
  callId: string | null;
  cseq: string | null;
}

/**
 * A message (or one of its headers) could not be parsed.
 *
 * `isRequest` tells the server what to do: a request gets a 400 built from `replyHeaders`
 * (when they were salvaged); a response or garbage is dropped silently (RFC 3261 §16.3 / §18.1.2).
 */
export class SipParseError extends SipError {
  /** True when the start line looked like a Request-Line. */
  readonly isRequest: boolean;
  /** Headers needed for a 400, when the input was a request and they could be found. */
  readonly replyHeaders: SipReplyHeaders | null;

  constructor(
    code: SipParseErrorCode,
    message: string,
    isRequest = false,
    replyHeaders: SipReplyHeaders | null = null,
    options?: { cause?: unknown },
  ) {
    // Expected under a garbage flood and never debugged by its stack: skip the capture
    // (the costliest part of `new Error`), keep code and message. Scoped to this constructor.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(code, message, isRequest ? 400 : 0, options);
    } finally {
      Error.stackTraceLimit = limit;
    }
    this.name = 'SipParseError';
    this.isRequest = isRequest;
    this.replyHeaders = replyHeaders;
  }

  /** A copy of this error with request context attached (used when a header fails lazily). */
  withContext(isRequest: boolean, replyHeaders: SipReplyHeaders | null): SipParseError {
    return new SipParseError(this.code as SipParseErrorCode, this.message, isRequest, replyHeaders, {
      cause: this,
    });
  }
}
