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
export { systemTimers, FakeTimers } from './timers.ts';
export type { Clock, Timers } from './timers.ts';

export { TransportLayer, replyTarget } from './transport-layer.ts';
export type { ListenSpec, TransportLayerOptions } from './transport-layer.ts';
export type { MessageSource, SendTarget, TransportProtocol } from './transport-types.ts';
export { loadOrCreateSelfSignedCert } from './tls-self-signed.ts';

export { SipEndpoint } from './endpoint.ts';
export type { EndpointOptions, IncomingRequest, RequestHandler } from './endpoint.ts';
export { Dialog, dialogKey } from './dialog.ts';
