/**
 * The shapes `SipEndpoint` (`endpoint.ts`) is built from and hands out: what a method handler
 * receives, the stateless answer hook, the transports and options it takes, its counters.
 */
import type { SipMessage } from './message.ts';
import type { ServerTransaction } from './transaction-server.ts';
import type { MessageHandler } from './transport-layer.ts';
import type { MessageSource, SendTarget, TransportProtocol } from './transport-types.ts';
import type { Timers } from './timers.ts';
import type { OverloadControl } from './overload-control.ts';
import type { Via } from './header-via.ts';

/** A request handed to a method handler. */
export interface IncomingRequest {
  readonly msg: SipMessage;
  readonly tx: ServerTransaction<SendTarget>;
  readonly source: MessageSource;
  /** Sends a response through the transaction (headers are added after the copied ones). */
  reply(status: number, reason?: string, opts?: { headers?: Record<string, string | string[]>; body?: Buffer | string; contentType?: string; toTag?: string }): SipMessage;
  /** Set when a CANCEL for this INVITE arrived; the endpoint has already answered 487 if no final answer was sent. */
  cancelled: boolean;
  /** Called once with the CANCEL (its Reason headers say why, RFC 3326), after the 487 went out. */
  onCancel: ((cancel: SipMessage) => void) | undefined;
}

export type RequestHandler = (req: IncomingRequest) => void | Promise<void>;

/** A response sent without a transaction: status line and extra headers. */
export interface StatelessAnswer {
  status: number;
  reason: string;
  headers?: Record<string, string | string[]>;
}

/**
 * Answers a new request statelessly (RFC 3261 §8.2.7), or returns null to take it through a
 * transaction and the method's handler. For answers a retransmission may as well get anew (a
 * digest challenge): no transaction, no 32 s of Timer J holding the response, no merged-request
 * entry. Synchronous and without side effects: it may be asked before the checks the stateful
 * path makes first, and its answer is sent only when they pass.
 */
export type StatelessHandler = (msg: SipMessage, source: MessageSource) => StatelessAnswer | null;

/**
 * What the endpoint needs of its transports: a way out, and the one slot it fills with its
 * way in. A `TransportLayer` is one; so is a registrar shard's link to the main thread.
 */
export interface EndpointTransports {
  send(target: SendTarget, data: Buffer): Promise<void>;
  onMessage: MessageHandler;
}

export interface EndpointOptions {
  transports: EndpointTransports;
  /** Host and port for our Via/Contact on each protocol (public address behind NAT). */
  /** Host and port for Via/Contact on `protocol`; `family` 6 when the peer is reached over IPv6. */
  advertise(protocol: TransportProtocol, family?: 4 | 6): { host: string; port: number };
  /**
   * The Server header (RFC 3261 §20.35) of every response this endpoint makes, e.g.
   * `Strowger/1.2.0`; undefined or '' omits it. (The transaction layer's own 100 Trying,
   * hop-by-hop, goes without.)
   */
  server?: string;
  /** Option tags we support (Supported header, 420 check). */
  supported?: readonly string[];
  /** Body types each method accepts (415 check). Default: application/sdp for INVITE, UPDATE, PRACK, ACK. */
  accept?: ReadonlyMap<string, readonly string[]>;
  /**
   * Return false to drop a message silently before any processing (bans, scanners). While
   * shedding, a new INVITE/REGISTER comes as the fast path's raw view (same `getHeader`).
   */
  filter?(msg: FilterView, source: MessageSource): boolean;
  /**
   * Sheds new INVITEs and REGISTERs (no To tag, no transaction yet) under overload with a
   * stateless 503 + Retry-After, or drops them; everything else is never shed.
   */
  overload?: OverloadControl;
  /**
   * While shedding, answer new INVITEs/REGISTERs from their bytes before parsing and drop the
   * ACKs of shed 503s unparsed (`overload-fast-path.ts`; same wire bytes). Default true.
   */
  overloadFastPath?: boolean;
  /** Called for requests whose 2xx needs the ACK (ACK for 2xx has its own branch, §17.1.1.3). */
  onAck?(ack: SipMessage, source: MessageSource): void;
  onStrayResponse?(res: SipMessage, source: MessageSource): void;
  onError?(err: unknown, context: string): void;
  timers?: Timers;
  t1?: number;
  t2?: number;
  t4?: number;
}

/** What a filter may read of a message: a `SipMessage`, or a request before parsing. */
export interface FilterView {
  readonly isRequest: boolean;
  getHeader(name: string): string | null;
}

export interface EndpointCounters {
  received: number;
  parseErrors: number;
  badRequests: number;
  dropped: number;
  handlerErrors: number;
  /** New requests answered without a transaction (`StatelessHandler`). */
  stateless: number;
}
