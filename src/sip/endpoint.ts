/**
 * The SIP endpoint: transports + parser + transaction layer + the UAS core checks, with
 * per-method handlers and a default answer for everything else (sipgo `server.go` shape).
 *
 *   bytes --TransportLayer--> parse --> validate --> TransactionLayer --> checks --> handler
 *
 * Malformed requests get a 400 built from what could be salvaged; malformed responses and
 * garbage are dropped (RFC 3261 §16.3, §18.1.2). A handler that throws gets a 500 sent for it.
 */
import type { SipMessage } from './message.ts';
import { parseMessage } from './parse-message.ts';
import { SipParseError } from './errors.ts';
import { validateRequest, validateResponse } from './validate-request.ts';
import { createResponse, createResponseFromReplyHeaders, randomBranch, randomTag } from './message-build.ts';
import { formatVia, Via } from './header-via.ts';
import { TransactionLayer } from './transaction-layer.ts';
import type { ServerTransaction } from './transaction-server.ts';
import type { ClientTransaction, ClientTransactionHandlers } from './transaction-client.ts';
import { replyTarget } from './transport-layer.ts';
import type { MessageSource, SendTarget, TransportProtocol } from './transport-types.ts';
import { checkContentType, checkMethod, checkRequire, checkScheme, MergedRequestDetector, type CheckResult } from './endpoint-checks.ts';
import type { OverloadControl } from './overload-control.ts';
import { SipMessageCounters } from './message-counters.ts';
import { InviteWaitQueue } from './invite-wait-queue.ts';
import { copyString } from './copy-string.ts';
import { shedResponse, SHED_TAG_PREFIX, triage, type RawRequest } from './overload-fast-path.ts';
import type { EndpointCounters, EndpointOptions, IncomingRequest, RequestHandler, StatelessHandler } from './endpoint-types.ts';

export type { EndpointCounters, EndpointOptions, EndpointTransports, FilterView, IncomingRequest, RequestHandler, StatelessAnswer, StatelessHandler } from './endpoint-types.ts';

/** Outcome of the shedding fast path for one datagram. */
type FastShed = 'handled' | 'taken' | 'undecided';

const DEFAULT_ACCEPT = new Map<string, readonly string[]>([
  ['INVITE', ['application/sdp']],
  ['UPDATE', ['application/sdp']],
  ['PRACK', ['application/sdp']],
  ['ACK', ['application/sdp']],
]);

export class SipEndpoint {
  readonly transactions: TransactionLayer<SendTarget>;
  readonly counters: EndpointCounters = { received: 0, parseErrors: 0, badRequests: 0, dropped: 0, handlerErrors: 0, stateless: 0 };
  /** Requests by method and responses by status, each way (what the TU sent: no retransmissions, no 100 of the transaction layer). */
  readonly messages = new SipMessageCounters();
  private readonly handlers = new Map<string, RequestHandler>();
  private readonly statelessHandlers = new Map<string, StatelessHandler>();
  private readonly supported: ReadonlySet<string>;
  private readonly accept: ReadonlyMap<string, readonly string[]>;
  private readonly merged = new MergedRequestDetector();
  private readonly pendingInvites = new Map<ServerTransaction<SendTarget>, Incoming>();
  /** INVITEs with no answer beyond 100 yet: the queue overload control caps. */
  readonly inviteWait = new InviteWaitQueue();
  private allowHeader = '';
  /** ACKs for 2xx (no transaction, §17.1.1.3); replaces `options.onAck` when set. */
  ackHandler: ((ack: SipMessage, source: MessageSource) => void) | undefined;
  private handledMethods: ReadonlySet<string> = new Set();
  private readonly server: string;
  private readonly fastShed: boolean;

  constructor(private readonly opts: EndpointOptions) {
    this.server = opts.server ?? '';
    this.fastShed = opts.overloadFastPath ?? true;
    this.supported = new Set(opts.supported ?? []);
    this.accept = opts.accept ?? DEFAULT_ACCEPT;
    this.transactions = new TransactionLayer<SendTarget>({
      send: (msg, target) => opts.transports.send(target, msg.toBuffer()),
      // Lets completed server transactions keep only their response bytes (Timer J, 32 s).
      sendBytes: (data, target) => opts.transports.send(target, data),
      onRequest: (req, tx) => this.dispatch(req, tx),
      onAck: (ack, target) => (this.ackHandler ?? this.opts.onAck)?.(ack, targetSource(target, ack)),
      onStrayResponse: (res, target) => this.opts.onStrayResponse?.(res, targetSource(target, res)),
      timers: opts.timers, t1: opts.t1, t2: opts.t2, t4: opts.t4,
    });
    this.onRequest('OPTIONS', (r) => { r.reply(200, undefined, { headers: this.capabilityHeaders() }); });
    opts.transports.onMessage = (data, source) => this.receive(data, source);
  }

  /**
   * Registers the handler of a method (one per method; the last one wins), and optionally its
   * stateless answerer, asked first for every new request of the method.
   */
  onRequest(method: string, handler: RequestHandler, stateless?: StatelessHandler): void {
    this.handlers.set(method.toUpperCase(), handler);
    if (stateless === undefined) this.statelessHandlers.delete(method.toUpperCase());
    else this.statelessHandlers.set(method.toUpperCase(), stateless);
    this.handledMethods = new Set(this.handlers.keys());
    this.allowHeader = ['ACK', 'CANCEL', ...this.handlers.keys()].join(', ');
  }

  /** Allow, Accept, Supported: what OPTIONS answers and 405/415/420 carry. */
  capabilityHeaders(): Record<string, string> {
    const h: Record<string, string> = { Allow: this.allowHeader, Accept: 'application/sdp', 'Accept-Encoding': 'identity', 'Accept-Language': 'en' };
    // §11.2: an OPTIONS answer SHOULD carry Supported; an empty one says "no extensions" (§20.37).
    h.Supported = [...this.supported].join(', ');
    return h;
  }

  /** Our Via for a request leaving on `protocol` (with rport, RFC 3581 §4). */
  via(protocol: TransportProtocol, branch = randomBranch(), family: 4 | 6 = 4): Via {
    const a = this.opts.advertise(protocol, family);
    return new Via(protocol.toUpperCase(), a.host, a.port, new Map<string, string | null>([['branch', branch], ['rport', null]]));
  }

  /** Starts a client transaction; a top Via of ours is added when the request has none. */
  request(req: SipMessage, target: SendTarget, handlers: ClientTransactionHandlers<SendTarget>): ClientTransaction<SendTarget> {
    if (req.via.length === 0) req.addHeader('Via', formatVia(this.via(target.protocol, undefined, addressFamily(target.address))), { first: true });
    this.messages.requestOut(req.method);
    return this.transactions.request(req, target, handlers);
  }

  /** Sends a message outside any transaction (ACK for 2xx, 2xx retransmissions by the UAS core). */
  sendStateless(msg: SipMessage, target: SendTarget): Promise<void> {
    if (msg.isRequest) this.messages.requestOut(msg.method); else this.messages.responseOut(msg.status);
    return this.opts.transports.send(target, msg.toBuffer());
  }

  close(): void {
    this.transactions.close();
  }

  /** Entry point for bytes from the transport layer. */
  receive(data: Buffer, source: MessageSource): void {
    this.counters.received++;
    const overload = this.opts.overload;
    // 'taken': the fast path already asked the controller; asking again would count twice.
    let fast: FastShed = 'undecided';
    if (overload !== undefined && this.fastShed && overload.active(this.inviteWait.waiting)) fast = this.shedRaw(data, source, overload);
    if (fast === 'handled') return;
    let msg: SipMessage;
    try {
      msg = parseMessage(data);
    } catch (err) {
      this.counters.parseErrors++;
      this.rejectUnparseable(err, source);
      return;
    }
    try {
      if (msg.isRequest) this.messages.requestIn(msg.method); else this.messages.responseIn(msg.status);
      if (this.opts.filter && !this.opts.filter(msg, source)) { this.counters.dropped++; return; }
      if (!msg.isRequest) {
        if (validateResponse(msg)) { this.counters.dropped++; return; }
        this.transactions.receiveResponse(msg, replyTarget(source));
        return;
      }
      if (overload !== undefined && fast === 'undecided' && overload.active(this.inviteWait.waiting) && this.shed(msg, source, overload)) return;
      const bad = validateRequest(msg);
      if (bad) {
        this.counters.badRequests++;
        if (msg.method !== 'ACK') this.sendStatelessReply(msg, bad.status, bad.reason, source);
        return;
      }
      stampReceived(msg, source);
      const stateless = this.statelessHandlers.size === 0 ? undefined : this.statelessHandlers.get(msg.method);
      if (stateless !== undefined && this.answerStateless(msg, source, stateless)) return;
      this.transactions.receiveRequest(msg, replyTarget(source));
    } catch (err) {
      // A header that fails to parse on first access lands here.
      this.counters.parseErrors++;
      if (err instanceof SipParseError && msg.isRequest && msg.method !== 'ACK') {
        this.sendStatelessReply(msg, 400, 'Bad Request', source);
        return;
      }
      if (!(err instanceof SipParseError)) this.opts.onError?.(err, 'receive');
    }
  }

  /**
   * A new request's stateless answer, when its handler gives one: not for a retransmission of a
   * request taken statefully (its transaction answers) nor for one that the checks `dispatch`
   * makes before any handler would refuse (the stateful path answers those).
   */
  private answerStateless(msg: SipMessage, source: MessageSource, stateless: StatelessHandler): boolean {
    if (msg.toTag !== null) return false;
    // The handler first: it declines most requests at once (a REGISTER with credentials), and
    // those go on to the stateful path, which looks up the transaction and runs the checks anyway.
    const answer = stateless(msg, source);
    if (answer === null || this.transactions.hasServerTransactionFor(msg) || this.requestCheck(msg) !== null) return false;
    this.counters.stateless++;
    this.sendStatelessReply(msg, answer.status, answer.reason, source, answer.headers);
    return true;
  }

  /**
   * The shedding fast path (`overload-fast-path.ts`): a new INVITE/REGISTER the controller
   * sheds gets its 503 from the request's bytes, unparsed; the ACK of one of our shed 503s is
   * dropped. False: the full path decides (also for all it takes, and anything unusual).
   */
  private shedRaw(data: Buffer, source: MessageSource, overload: OverloadControl): FastShed {
    const t = triage(data);
    if (t === null) return 'undecided';
    if (t.kind === 'shed-ack') {
      // §17.1.1.3: the ACK of a non-2xx final answer ends the client transaction; ours had none.
      this.messages.requestIn('ACK');
      return 'handled';
    }
    const req = t.req;
    if (this.transactions.hasServerTransaction(req.transactionKey)) return 'undecided'; // a retransmission: its transaction answers
    if (this.opts.filter && !this.opts.filter(req, source)) {
      this.messages.requestIn(req.method);
      this.counters.dropped++;
      return 'handled';
    }
    const decision = overload.admit(req.method === 'INVITE', this.inviteWait.waiting, source.protocol !== 'udp', req.credentials);
    if (decision === 'accept') return 'taken';
    this.messages.requestIn(req.method);
    if (decision === 'drop') return 'handled';
    this.sendRawShed(req, source, overload);
    return 'handled';
  }

  private sendRawShed(req: RawRequest, source: MessageSource, overload: OverloadControl): void {
    this.messages.responseOut(503);
    void this.opts.transports.send(replyTarget(source), shedResponse(req, overload.retryAfterSeconds, this.server)).catch(() => {});
  }

  /**
   * Sheds `msg` when it starts new work and the controller says so (before validation: a shed
   * request costs only what its answer needs). A retransmission of a request already taken
   * goes on to its transaction; a To tag means a dialog we keep (ACK, BYE, re-INVITE).
   */
  private shed(msg: SipMessage, source: MessageSource, overload: OverloadControl): boolean {
    const method = msg.method;
    const invite = method === 'INVITE';
    if (!invite && method !== 'REGISTER') return false;
    if (msg.toTag !== null || this.transactions.hasServerTransactionFor(msg)) return false;
    const decision = overload.admit(invite, this.inviteWait.waiting, source.protocol !== 'udp', msg.getHeader('authorization') !== null);
    if (decision === 'accept') return false;
    // RFC 3261 §21.5.4: Retry-After tells the client when to come back (and others to try elsewhere).
    // The shed tag lets the fast path recognise the ACK this 503 draws.
    if (decision === 'reject') this.sendStatelessReply(msg, 503, 'Service Unavailable', source, { 'Retry-After': String(overload.retryAfterSeconds) }, SHED_TAG_PREFIX + randomTag());
    return true;
  }

  private rejectUnparseable(err: unknown, source: MessageSource): void {
    if (!(err instanceof SipParseError)) { this.opts.onError?.(err, 'parse'); return; }
    if (!err.isRequest || !err.replyHeaders) return;
    // The parser's message quotes the offending bytes; a Reason-Phrase allows no CTLs
    // (RFC 3261 §25.1), so anything outside printable ASCII becomes "?" instead of being
    // reflected to the sender.
    const res = createResponseFromReplyHeaders(err.replyHeaders, 400, `Bad Request (${err.message.slice(0, 80).replace(/[^\x20-\x7e]/g, '?')})`);
    if (res) this.sendReply(res, source);
  }

  private sendStatelessReply(msg: SipMessage, status: number, reason: string, source: MessageSource, headers?: Record<string, string | string[]>, toTag?: string): void {
    let res: SipMessage | null;
    try {
      res = createResponse(msg, status, reason, headers === undefined && toTag === undefined ? undefined : { headers, toTag });
    } catch {
      // The broken header is one a response copies (To/From with an unbalanced quote or a
      // space in the addr-spec, RFC 4475 §3.1.2.6, §3.1.2.14, §3.1.2.15): answer with the raw
      // values, as for a message that did not parse at all (§8.2.6.1 copies them verbatim).
      res = createResponseFromReplyHeaders(msg.replyHeaders(), status, reason, toTag);
    }
    if (res) this.sendReply(res, source);
  }

  /** A stateless response (no transaction): Server header, counted, sent to the source. */
  private sendReply(res: SipMessage, source: MessageSource): void {
    if (this.server !== '') res.addHeader('Server', this.server);
    this.messages.responseOut(res.status);
    void this.opts.transports.send(replyTarget(source), res.toBuffer()).catch(() => {});
  }

  private dispatch(msg: SipMessage, tx: ServerTransaction<SendTarget>): void {
    const incoming = new Incoming(msg, tx, targetSource(tx.source, msg), tx.isInvite ? this.pendingInvites : undefined, this.server, this.messages);
    const branch = copyString(msg.topVia?.branch ?? '');
    const merged = MergedRequestDetector.keyOf(msg);
    try {
      if (msg.method === 'CANCEL') { this.handleCancel(incoming); return; }
      const fail = this.requestCheck(msg) ?? this.merged.check(merged, branch);
      if (fail) { this.replyCheck(incoming, fail); return; }
    } catch (err) {
      this.failRequest(incoming, err);
      return;
    }
    if (tx.isInvite) {
      this.pendingInvites.set(tx, incoming);
      incoming.wait = this.inviteWait;
      this.inviteWait.enter();
    }
    this.watchEnd(tx, merged, branch);
    const handler = this.handlers.get(msg.method)!;
    try {
      const r = handler(incoming);
      if (r && typeof (r as Promise<void>).catch === 'function') (r as Promise<void>).catch((err) => this.failRequest(incoming, err));
    } catch (err) {
      this.failRequest(incoming, err);
    }
  }

  /**
   * Forgets the request in the merged-request table and the pending INVITEs once its
   * transaction ends. A closure of its own (not one of `dispatch`'s, which share one context
   * holding the request and everything around it): a completed transaction lingers 32 s
   * (Timer J) and must not keep the parsed request alive.
   */
  private watchEnd(tx: ServerTransaction<SendTarget>, key: string | null, branch: string): void {
    const prev = tx.onTerminated;
    tx.onTerminated = (t, reason) => {
      this.merged.done(key, branch);
      if (t.isInvite) {
        // Ended with no final answer (one clears the entry): out of the waiting queue too.
        this.pendingInvites.get(t)?.leaveWait();
        this.pendingInvites.delete(t);
      }
      prev?.(t, reason);
    };
  }

  /** §9.2: 481 when nothing matches; else 200 to the CANCEL and 487 to the INVITE if still unanswered. */
  private handleCancel(cancel: IncomingRequest): void {
    const inviteTx = this.transactions.findInviteForCancel(cancel.msg);
    if (!inviteTx) { cancel.reply(481, 'Call/Transaction Does Not Exist'); return; }
    const invite = this.pendingInvites.get(inviteTx);
    cancel.reply(200);
    // Already answered (the entry goes with the final response): the CANCEL changes nothing.
    if (invite === undefined || inviteTx.lastStatus >= 200) return;
    invite.cancelled = true;
    const onCancel = invite.onCancel; // the final answer below clears it
    try {
      invite.reply(487, 'Request Terminated');
    } catch (err) {
      this.opts.onError?.(err, 'cancel');
    }
    try {
      onCancel?.(cancel.msg);
    } catch (err) {
      this.opts.onError?.(err, 'cancel handler');
    }
  }

  /**
   * The checks before any handler, in RFC 3261 §16.3 order: scheme (416), Max-Forwards (483),
   * then what we do with the method (501/405, 420, 415). Merged requests (482) come after, in
   * `dispatch`: a stateless answer keeps no entry to merge with.
   */
  private requestCheck(msg: SipMessage): CheckResult | null {
    return checkScheme(msg)
      ?? tooManyHops(msg)
      ?? checkMethod(msg, this.handledMethods, this.allowHeader)
      ?? checkRequire(msg, this.supported)
      ?? checkContentType(msg, this.accept);
  }

  private replyCheck(r: IncomingRequest, c: CheckResult): void {
    r.reply(c.status, c.reason, { headers: c.headers });
  }

  private failRequest(r: IncomingRequest, err: unknown): void {
    if (r.tx.lastStatus >= 200) { this.opts.onError?.(err, `${r.msg.method} handler`); return; }
    if (err instanceof SipParseError) {
      this.counters.badRequests++;
      try { r.reply(400, 'Bad Request'); } catch { /* transaction gone */ }
      return;
    }
    this.counters.handlerErrors++;
    this.opts.onError?.(err, `${r.msg.method} handler`);
    try { r.reply(500, 'Server Internal Error'); } catch { /* transaction gone */ }
  }
}

/** The request handed to handlers: one object, methods on the prototype (no closures per request). */
class Incoming implements IncomingRequest {
  cancelled = false;
  onCancel: ((cancel: SipMessage) => void) | undefined = undefined;
  /** Set while this INVITE waits for its first answer beyond 100 (overload control's queue). */
  wait: InviteWaitQueue | undefined = undefined;
  constructor(
    readonly msg: SipMessage,
    readonly tx: ServerTransaction<SendTarget>,
    readonly source: MessageSource,
    /** The endpoint's INVITEs a CANCEL may still reach (INVITE requests only). */
    private readonly pending: Map<ServerTransaction<SendTarget>, IncomingRequest> | undefined = undefined,
    /** Server header value; '' for none. */
    private readonly server = '',
    private readonly counters: SipMessageCounters | undefined = undefined,
  ) {}

  reply(status: number, reason?: string, o?: { headers?: Record<string, string | string[]>; body?: Buffer | string; contentType?: string; toTag?: string }): SipMessage {
    const res = createResponse(this.msg, status, reason, o === undefined ? undefined : { toTag: o.toTag, headers: o.headers, body: o.body, contentType: o.contentType });
    if (this.server !== '') res.addHeader('Server', this.server);
    this.counters?.responseOut(status);
    this.tx.respond(res);
    if (status > 100) this.leaveWait();
    if (status >= 200 && this.pending !== undefined) {
      // Answered: a CANCEL now only gets its 200 (§9.2). The transaction lingers 32 s (Timer L);
      // the request and the handler's cancel hook (a whole call) must not linger with it.
      this.pending.delete(this.tx);
      this.onCancel = undefined;
    }
    return res;
  }

  /** Out of the waiting queue (answered beyond 100, or its transaction ended): once. */
  leaveWait(): void {
    if (this.wait === undefined) return;
    this.wait.leave();
    this.wait = undefined;
  }
}

/**
 * §16.3 step 3: a request out of hops ends here, whatever its method; OPTIONS and REGISTER are
 * for us (§11, §10.3), so they are answered.
 */
function tooManyHops(msg: SipMessage): CheckResult | null {
  return msg.maxForwards === 0 && msg.method !== 'OPTIONS' && msg.method !== 'REGISTER' ? { status: 483, reason: 'Too Many Hops' } : null;
}

/**
 * RFC 3581 §4 / RFC 3261 §18.2.1: record where the request really came from in the top Via
 * (`received`, and `rport` filled in when the client asked), so responses find their way back.
 */
function stampReceived(msg: SipMessage, source: MessageSource): void {
  const vias = msg.via;
  const top = vias[0];
  if (!top) return;
  let changed = false;
  if (top.hasRport) { top.params.set('rport', String(source.remotePort)); changed = true; }
  if (top.host !== source.remoteAddress || changed) { top.params.set('received', source.remoteAddress); changed = true; }
  if (changed) msg.setVia(vias);
}

function targetSource(target: SendTarget, _msg: SipMessage): MessageSource {
  return {
    protocol: target.protocol, remoteAddress: target.address, remotePort: target.port,
    localAddress: '', localPort: target.localPort ?? 0, connectionId: target.connectionId,
  };
}

/** 6 for an IPv6 literal (not IPv4-mapped), else 4: which of our addresses a peer can reach. */
export function addressFamily(address: string): 4 | 6 {
  return address.includes(':') && !address.startsWith('::ffff:') ? 6 : 4;
}
