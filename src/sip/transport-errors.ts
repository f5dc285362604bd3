/**
 * Error catalogue of the SIP transport layer. Each error has a stable code
 * (`SIP_ERR_TRANSPORT_<WHAT>`); all map to 503 because RFC 3261 §8.1.3.1
 * treats a transport failure like a 503 (Service Unavailable) response, which
 * is what the transaction layer reports upwards (§17.1.4).
 */

export const TransportErrorCode = {
  /** No live connection to a WS/WSS peer (a WebSocket client cannot be dialed, RFC 7118 §5). */
  NO_CONNECTION: 'SIP_ERR_TRANSPORT_NO_CONNECTION',
  /** Dialing a TCP/TLS connection failed or timed out. */
  CONNECT_FAILED: 'SIP_ERR_TRANSPORT_CONNECT_FAILED',
  /** The connection closed before or while the message was written. */
  CONNECTION_CLOSED: 'SIP_ERR_TRANSPORT_CONNECTION_CLOSED',
  /** The socket reported an error on write. */
  WRITE_FAILED: 'SIP_ERR_TRANSPORT_WRITE_FAILED',
  /** Message larger than the transport can carry (UDP datagram, WS payload). */
  MESSAGE_TOO_LARGE: 'SIP_ERR_TRANSPORT_MESSAGE_TOO_LARGE',
  /** Global or per-IP connection limit reached. */
  LIMIT_REACHED: 'SIP_ERR_TRANSPORT_LIMIT_REACHED',
  /** No transport of that protocol (or family) is configured. */
  UNSUPPORTED: 'SIP_ERR_TRANSPORT_UNSUPPORTED',
  /** Target address is not an IP literal or the port is out of range. */
  INVALID_TARGET: 'SIP_ERR_TRANSPORT_INVALID_TARGET',
  /** The transport layer is closed. */
  CLOSED: 'SIP_ERR_TRANSPORT_CLOSED',
} as const;

export type TransportErrorCode = (typeof TransportErrorCode)[keyof typeof TransportErrorCode];

/**
 * A failed send or listen. `sipStatus` is what the transaction layer should
 * report to its user (RFC 3261 §8.1.3.1: transport errors count as 503).
 *
 * @example
 * ```ts
 * layer.send(target, data).catch((err: SipTransportError) => tx.onTransportError(err.code));
 * ```
 */
export class SipTransportError extends Error {
  readonly code: TransportErrorCode;
  readonly sipStatus = 503;

  constructor(code: TransportErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SipTransportError';
    this.code = code;
  }
}
