/**
 * SIP layer barrel: what the PBX (or anyone) uses of our SIP stack. The layer imports
 * nothing of the PBX; it could be published on its own.
 */
export { SipMessage } from './message.ts';
export { parseMessage, DEFAULT_MAX_SIZE } from './parse-message.ts';
export { serialize } from './serialize.ts';
export { validateRequest, validateResponse } from './validate-request.ts';
export { createRequest, createResponse, createResponseFromReplyHeaders, randomBranch, randomCallId, randomTag } from './message-build.ts';
export type { CreateRequestOptions, CreateResponseOptions, ExtraHeaders } from './message-build.ts';
export { SipError, SipParseError, SipParseErrorCode } from './errors.ts';
export type { SipReplyHeaders } from './errors.ts';
export { parseUri, formatUri, uriEquals, unescapeUri } from './uri.ts';
export type { SipUri } from './uri.ts';
export { parseNameAddr, formatNameAddr } from './header-name-addr.ts';
export type { NameAddr } from './header-name-addr.ts';
export { Via, parseVia, formatVia, BRANCH_MAGIC_COOKIE } from './header-via.ts';

export { createDigestServer } from './digest-server.ts';
export type { DigestServer, DigestServerOptions, DigestVerifyResult, LookupHa1 } from './digest-server.ts';
export { answerChallenge, DigestClient } from './digest-client.ts';
export { computeHa1 } from './digest-algorithm.ts';

export { TransactionLayer } from './transaction-layer.ts';
export type { TransactionLayerOptions } from './transaction-layer.ts';
export type { ServerTransaction } from './transaction-server.ts';
export type { ClientTransaction, ClientTransactionHandlers } from './transaction-client.ts';
export { buildCancel } from './transaction-cancel.ts';
export { sipReason, COMPLETED_ELSEWHERE } from './header-reason.ts';
export { systemTimers, FakeTimers } from './timers.ts';
export type { Clock, Timers } from './timers.ts';

export { TransportLayer, replyTarget } from './transport-layer.ts';
export type { ListenSpec, TransportLayerOptions } from './transport-layer.ts';
export type { MessageSource, SendTarget, TransportProtocol } from './transport-types.ts';
export { loadOrCreateSelfSignedCert } from './tls-self-signed.ts';

export { SipEndpoint } from './endpoint.ts';
export type { EndpointOptions, IncomingRequest, RequestHandler } from './endpoint.ts';
export { Dialog, dialogKey } from './dialog.ts';

// Transfer: REFER (RFC 3515), Replaces (RFC 3891), Referred-By (RFC 3892), refer NOTIFY
// (RFC 6665, message/sipfrag RFC 3420), Refer-Sub (RFC 4488).
export { SipReferError, SipReferErrorCode } from './refer-errors.ts';
export { parseReplaces, formatReplaces } from './header-replaces.ts';
export type { Replaces } from './header-replaces.ts';
export { replacesOfRequest, replacesDialogKey, replacesDecision } from './replaces-dialog.ts';
export type { ReplacedDialog } from './replaces-dialog.ts';
export { parseReferTo, referToOfRequest, formatReferTo, triggeredRequestHeaders, escapeUriHeaderValue } from './header-refer-to.ts';
export type { ReferTo, FormatReferToOptions } from './header-refer-to.ts';
export { parseReferredBy, formatReferredBy } from './header-referred-by.ts';
export type { ReferredBy } from './header-referred-by.ts';
export { parseEvent, formatEvent, eventTypeIs, parseSubscriptionState, formatSubscriptionState } from './header-event.ts';
export type { EventHeader, SubscriptionState } from './header-event.ts';
export { SIPFRAG_CONTENT_TYPE, sipfragOfStatus, parseSipfragStatus, isSipfragContentType } from './sipfrag.ts';
export type { SipfragStatus } from './sipfrag.ts';
export {
  REFER_EVENT,
  NOREFERSUB_OPTION_TAG,
  DEFAULT_REFER_EXPIRES,
  ReferNotifier,
  referSubscriptionWanted,
  referAcceptance,
  createReferNotify,
  referRequestHeaders,
  readReferNotify,
} from './refer-subscription.ts';
export type { ReferAcceptance, ReferNotify, ReferNotifierOptions, ReferRequestOptions, ReferNotifyReport } from './refer-subscription.ts';
