/**
 * Error catalogue of transfer signalling: REFER (RFC 3515), Replaces (RFC 3891), Referred-By
 * (RFC 3892), the refer event package's NOTIFY (Event, Subscription-State, message/sipfrag;
 * RFC 6665, RFC 3420) and Refer-Sub (RFC 4488).
 *
 * Each error says which answer a UAS gives the request that carried the bad header: 400 for
 * every malformation (RFC 3515 §2.4.1 for Refer-To, RFC 3891 §3 for Replaces), so a handler can
 * reply `err.sipStatus` without knowing which header failed.
 */
import { SipError } from './errors.ts';

export const SipReferErrorCode = {
  /** A REFER without a Refer-To value (RFC 3515 §2.4.1: 400). */
  REFER_TO_MISSING: 'SIP_ERR_REFER_TO_MISSING',
  /** A REFER with more than one Refer-To value (RFC 3515 §2.4.1: 400). */
  REFER_TO_MULTIPLE: 'SIP_ERR_REFER_TO_MULTIPLE',
  /** Refer-To is not a name-addr / addr-spec, or an embedded header is not valid (RFC 3515 §2.1). */
  REFER_TO_INVALID: 'SIP_ERR_REFER_TO_INVALID',
  /** Replaces is not `callid;to-tag=..;from-tag=..[;early-only]` (RFC 3891 §6.1). */
  REPLACES_INVALID: 'SIP_ERR_REPLACES_INVALID',
  /** More than one Replaces, or Replaces in a request other than INVITE (RFC 3891 §3: 400). */
  REPLACES_MISPLACED: 'SIP_ERR_REPLACES_MISPLACED',
  /** Referred-By is not a name-addr / addr-spec with a valid `cid` (RFC 3892 §3). */
  REFERRED_BY_INVALID: 'SIP_ERR_REFERRED_BY_INVALID',
  /** Refer-Sub is neither `true` nor `false` (RFC 4488 §3). */
  REFER_SUB_INVALID: 'SIP_ERR_REFER_SUB_INVALID',
  /** Event is not `event-type *(;param)` or its `id` is not a token (RFC 6665 §8.2.1). */
  EVENT_INVALID: 'SIP_ERR_EVENT_INVALID',
  /** Subscription-State is malformed, or `expires`/`retry-after` not delta-seconds (RFC 6665 §8.2.3). */
  SUBSCRIPTION_STATE_INVALID: 'SIP_ERR_SUBSCRIPTION_STATE_INVALID',
  /** A refer NOTIFY body is not a message/sipfrag starting with a Status-Line (RFC 3515 §2.4.5, RFC 3420). */
  SIPFRAG_INVALID: 'SIP_ERR_SIPFRAG_INVALID',
} as const;

export type SipReferErrorCode = (typeof SipReferErrorCode)[keyof typeof SipReferErrorCode];

/** A transfer-related header or body is malformed; `sipStatus` is the answer to its request (400). */
export class SipReferError extends SipError {
  constructor(code: SipReferErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, 400, options);
    this.name = 'SipReferError';
  }
}
