/**
 * Error catalogue of the transaction layer (`SIP_ERR_TRANSACTION_<WHAT>`).
 * Thrown at API edges only (TU misuse); timeouts and transport failures are
 * reported to the TU as 408/503 responses or termination reasons instead.
 */
import { SipError } from './errors.ts';

export const TransactionErrorCode = {
  /** The TU passed a response the transaction state does not allow (e.g. 1xx after a final). */
  STATE: 'SIP_ERR_TRANSACTION_STATE',
  /** A client transaction with the same branch and method exists. */
  DUPLICATE: 'SIP_ERR_TRANSACTION_DUPLICATE',
  /** The message cannot start or answer a transaction (ACK, no Via, status out of range). */
  INVALID: 'SIP_ERR_TRANSACTION_INVALID',
  /** The layer is closed. */
  CLOSED: 'SIP_ERR_TRANSACTION_CLOSED',
} as const;

export type TransactionErrorCode = (typeof TransactionErrorCode)[keyof typeof TransactionErrorCode];

export class TransactionError extends SipError {
  constructor(code: TransactionErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, 0, options);
    this.name = 'TransactionError';
  }
}
