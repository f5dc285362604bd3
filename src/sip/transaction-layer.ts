/**
 * The transaction layer (RFC 3261 §17, RFC 6026): matches incoming messages
 * to transactions, creates server transactions for new requests, runs
 * client transactions for the TU, and owns no socket: messages leave
 * through the injected `send` callback, time comes from injected `timers`.
 *
 *   transport --receiveRequest/receiveResponse--> TransactionLayer --onRequest/onAck--> TU
 *   TU --request(req, target, handlers)--> ClientTransaction --send--> transport
 *   TU --tx.respond(res)--> ServerTransaction --send--> transport
 *
 * Inputs must have passed the message layer's validation (Via, CSeq, From,
 * Call-ID present and well-formed); malformed headers make the accessors
 * throw `SipParseError`, which is left to the caller.
 *
 * @example
 * ```ts
 * const layer = new TransactionLayer<SendTarget>({
 *   send: (msg, target) => transports.send(target, msg.toBuffer()),
 *   onRequest: (req, tx) => tx.respond(createResponse(req, 200)),
 *   onAck: (ack, source) => dialogs.ack(ack),
 * });
 * transports.onMessage = (msg, source) => layer.receive(msg, toTarget(source));
 * ```
 */
import type { SipMessage } from './message.ts';
import type { TransactionCounters, TransactionHost, TransactionSend } from './transaction-base.ts';
import { randomBranch } from './message-build.ts';
import { ClientTransaction } from './transaction-client.ts';
import type { ClientTransactionHandlers } from './transaction-client.ts';
import { TransactionError, TransactionErrorCode } from './transaction-errors.ts';
import {
  clientKeyFor,
  clientTransactionKey,
  inviteKeyForCancel,
  isRfc2543Key,
  isRfc3261Branch,
  serverTransactionKey,
} from './transaction-key.ts';
import { ServerTransaction } from './transaction-server.ts';
import { CompletedResponses } from './completed-responses.ts';
import { DEFAULT_TIMER_CONFIG, resolveTimers } from './transaction-timers.ts';
import type { TransactionTimerValues } from './transaction-timers.ts';
import { systemTimers } from './timers.ts';
import type { Timers } from './timers.ts';

/** Options of {@link TransactionLayer}; `T` is whatever the transport uses to address a peer. */
export interface TransactionLayerOptions<T> {
  /** Hands a message to the transport. Throw or reject to report a transport error. */
  readonly send: TransactionSend<T>;
  /** A new request (never ACK) with its fresh server transaction; answer with `tx.respond`. */
  readonly onRequest: (req: SipMessage, tx: ServerTransaction<T>) => void;
  /**
   * An ACK for a 2xx (own branch, so no transaction, §17.1.1.3) or one that
   * matched an INVITE transaction in Accepted (RFC 6026 §8.7). Default: dropped.
   */
  readonly onAck?: (ack: SipMessage, source: T) => void;
  /**
   * A response that matches no client transaction. RFC 6026 §8.9 has the
   * transport drop these; a UAC core may still want late 2xx retransmissions.
   * Default: dropped.
   */
  readonly onStrayResponse?: (res: SipMessage, source: T) => void;
  /**
   * Whether `target` is a reliable transport (TCP, TLS, WS, WSS): no
   * retransmissions, timers D/I/J/K zero. Default: `target.protocol` is set
   * and is not `udp` (case-insensitive).
   */
  readonly isReliable?: (target: T) => boolean;
  /**
   * Sends bytes already serialized. Optional: with it, server transactions serialize each
   * response once and completed non-INVITE ones keep only those bytes (see `ServerTransaction`).
   */
  readonly sendBytes?: (data: Buffer, target: T) => void | Promise<void>;
  /** Default: system timers. */
  readonly timers?: Timers;
  /** Default 500 ms. */
  readonly t1?: number;
  /** Default 4000 ms. */
  readonly t2?: number;
  /** Default 5000 ms. */
  readonly t4?: number;
  /** Timer D on unreliable transports. Default 32 000 ms. */
  readonly timerD?: number;
  /** Delay before an INVITE server transaction sends 100 Trying itself (0 = at once). Default 200 ms. */
  readonly tryingDelayMs?: number;
}

function defaultIsReliable(target: unknown): boolean {
  const p = (target as { protocol?: unknown } | null)?.protocol;
  return typeof p === 'string' && p.toLowerCase() !== 'udp';
}

export class TransactionLayer<T> {
  /** Plain counters; copy them for a snapshot. */
  readonly counters: TransactionCounters = {
    clientCreated: 0,
    serverCreated: 0,
    retransmissions: 0,
    absorbed: 0,
    timeouts: 0,
    transportErrors: 0,
    strayResponses: 0,
    strayAcks: 0,
  };

  private readonly clients = new Map<string, ClientTransaction<T>>();
  private readonly servers = new Map<string, ServerTransaction<T>>();
  /** Non-INVITE server transactions in Completed on unreliable transports, reduced to their response bytes (with `sendBytes`). */
  private readonly completed: CompletedResponses | undefined;
  private readonly host: TransactionHost<T>;
  private readonly reliableTimers: TransactionTimerValues;
  private readonly unreliableTimers: TransactionTimerValues;
  private readonly isReliable: (target: T) => boolean;
  private readonly passAck: (ack: SipMessage, tx: ServerTransaction<T>) => void;
  private closed = false;

  constructor(private readonly options: TransactionLayerOptions<T>) {
    const config = {
      t1: options.t1 ?? DEFAULT_TIMER_CONFIG.t1,
      t2: options.t2 ?? DEFAULT_TIMER_CONFIG.t2,
      t4: options.t4 ?? DEFAULT_TIMER_CONFIG.t4,
      timerD: options.timerD ?? DEFAULT_TIMER_CONFIG.timerD,
      trying: options.tryingDelayMs ?? DEFAULT_TIMER_CONFIG.trying,
    };
    this.reliableTimers = resolveTimers(config, true);
    this.unreliableTimers = resolveTimers(config, false);
    this.isReliable = options.isReliable ?? defaultIsReliable;
    const timers = options.timers ?? systemTimers;
    const completed = options.sendBytes === undefined ? undefined : new CompletedResponses(timers, this.unreliableTimers.timerJ);
    this.completed = completed;
    this.host = {
      timers,
      send: options.send,
      sendBytes: options.sendBytes,
      counters: this.counters,
      removed: (key, tx) => {
        if (this.clients.get(key) === tx) this.clients.delete(key);
        else if (this.servers.get(key) === tx) this.servers.delete(key);
      },
      retire: completed === undefined ? undefined : (key, data) => completed.add(key, data),
    };
    this.passAck = (ack, tx) => this.options.onAck?.(ack, tx.source);
  }

  /** Live transactions (client + server, completed non-INVITE ones included). Returns to 0 once all have terminated. */
  get size(): number {
    return this.clients.size + this.serverCount;
  }
  get clientCount(): number {
    return this.clients.size;
  }
  get serverCount(): number {
    return this.servers.size + (this.completed?.size ?? 0);
  }

  /** Routes any message from the transport. */
  receive(msg: SipMessage, source: T): void {
    if (msg.isRequest) this.receiveRequest(msg, source);
    else this.receiveResponse(msg, source);
  }

  /**
   * A request from the transport (§17.2.3): a retransmission goes to its
   * transaction (which resends its last response), an ACK to its INVITE
   * transaction or to `onAck`, anything else opens a server transaction
   * and reaches `onRequest`.
   */
  receiveRequest(req: SipMessage, source: T): void {
    if (this.closed) return;
    const key = serverTransactionKey(req);
    if (key === undefined) return; // no Via: nowhere to answer (§8.2.6, §18.2.2)
    const existing = this.servers.get(key);
    if (req.method === 'ACK') {
      if (existing !== undefined && existing.isInvite && this.ackMatches(req, key, existing)) {
        existing.receiveAck(req);
        return;
      }
      this.counters.strayAcks++;
      this.options.onAck?.(req, source);
      return;
    }
    if (existing !== undefined) {
      existing.receiveRequest();
      return;
    }
    const done = this.completed?.get(key, req);
    if (done !== undefined) {
      // §17.2.2: a retransmission in Completed gets the final response again.
      this.counters.absorbed++;
      this.counters.retransmissions++;
      this.resendCompleted(done, source);
      return;
    }
    const reliable = this.isReliable(source);
    const tx = new ServerTransaction<T>(
      this.host,
      key,
      req,
      source,
      reliable ? this.reliableTimers : this.unreliableTimers,
      this.passAck,
    );
    this.servers.set(key, tx);
    this.counters.serverCreated++;
    tx.start();
    this.options.onRequest(req, tx);
  }

  /** Sends a completed transaction's response again; a failure is counted (the transaction is gone, nobody to tell). */
  private resendCompleted(data: Buffer, target: T): void {
    const failed = (): void => { this.counters.transportErrors++; };
    try {
      const r = this.options.sendBytes!(data, target);
      if (r !== undefined) r.catch(failed);
    } catch {
      failed();
    }
  }

  /**
   * RFC 2543 ACKs match only with the To tag of the response we sent
   * (§17.2.3); with a magic cookie branch + sent-by + method are enough.
   */
  private ackMatches(ack: SipMessage, key: string, tx: ServerTransaction<T>): boolean {
    if (!isRfc2543Key(key)) return true;
    return tx.lastStatus >= 200 && tx.lastToTag === ack.toTag;
  }

  /** A response from the transport (§17.1.3); unmatched ones go to `onStrayResponse`. */
  receiveResponse(res: SipMessage, source: T): void {
    if (this.closed) return;
    const key = clientTransactionKey(res);
    const tx = key === undefined ? undefined : this.clients.get(key);
    if (tx !== undefined) {
      tx.receiveResponse(res);
      return;
    }
    this.counters.strayResponses++;
    this.options.onStrayResponse?.(res, source);
  }

  /**
   * Starts a client transaction: sends `req` to `target` and retransmits it
   * as needed. The top Via gets a fresh `z9hG4bK` branch when it has none
   * (or an RFC 2543 one). ACK is not a transaction: send it directly.
   *
   * A transport failure on the first send is reported synchronously: the
   * TU may see `onResponse(503)` before this returns.
   *
   * @throws TransactionError `SIP_ERR_TRANSACTION_INVALID` (ACK, response, no Via),
   *   `SIP_ERR_TRANSACTION_DUPLICATE`, `SIP_ERR_TRANSACTION_CLOSED`
   */
  request(req: SipMessage, target: T, handlers: ClientTransactionHandlers<T>): ClientTransaction<T> {
    if (this.closed) throw new TransactionError(TransactionErrorCode.CLOSED, 'transaction layer is closed');
    if (!req.isRequest || req.method === 'ACK') {
      throw new TransactionError(TransactionErrorCode.INVALID, `cannot start a client transaction for ${req.method || 'a response'}`);
    }
    const vias = req.via;
    if (vias.length === 0) throw new TransactionError(TransactionErrorCode.INVALID, `${req.method} has no Via`);
    let branch = vias[0].branch;
    if (!isRfc3261Branch(branch)) {
      branch = randomBranch();
      vias[0].params.set('branch', branch);
      req.setVia(vias);
    }
    const key = clientKeyFor(branch, req.method);
    if (this.clients.has(key)) {
      throw new TransactionError(TransactionErrorCode.DUPLICATE, `client transaction ${branch} ${req.method} exists`);
    }
    const reliable = this.isReliable(target);
    const tx = new ClientTransaction<T>(
      this.host,
      key,
      branch,
      req,
      target,
      reliable ? this.reliableTimers : this.unreliableTimers,
      handlers,
    );
    this.clients.set(key, tx);
    this.counters.clientCreated++;
    tx.start();
    return tx;
  }

  /** True when a server transaction has this key (`serverTransactionKey`): the overload fast path's retransmission test. */
  hasServerTransaction(key: string): boolean {
    return this.servers.has(key) || this.completed?.has(key) === true;
  }

  /** True when `req` is a retransmission of a request taken here: a live or completed server transaction has its key. */
  hasServerTransactionFor(req: SipMessage): boolean {
    const key = serverTransactionKey(req);
    return key !== undefined && this.hasServerTransaction(key);
  }

  /** The server transaction a request (or retransmission) belongs to. */
  findServerTransaction(req: SipMessage): ServerTransaction<T> | undefined {
    const key = serverTransactionKey(req);
    return key === undefined ? undefined : this.servers.get(key);
  }

  /**
   * The INVITE server transaction a CANCEL targets (§9.2: same branch and
   * sent-by, method INVITE; RFC 2543 rules otherwise). The CANCEL itself has
   * its own server transaction; the TU answers it 200 and, if the INVITE
   * has no final response yet, answers the INVITE 487.
   */
  findInviteForCancel(cancel: SipMessage): ServerTransaction<T> | undefined {
    const key = inviteKeyForCancel(cancel);
    const tx = key === undefined ? undefined : this.servers.get(key);
    return tx !== undefined && tx.isInvite ? tx : undefined;
  }

  /** The client transaction of `branch` and `method`, if live. */
  findClientTransaction(branch: string, method: string): ClientTransaction<T> | undefined {
    return this.clients.get(clientKeyFor(branch, method));
  }

  /** Terminates every transaction (reason `closed`) and refuses new ones. */
  close(): void {
    this.closed = true;
    for (const tx of [...this.clients.values()]) tx.terminate();
    for (const tx of [...this.servers.values()]) tx.terminate();
    this.completed?.clear();
  }
}
