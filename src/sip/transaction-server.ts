/**
 * Server transactions (RFC 3261 §17.2): INVITE (Figure 7 + RFC 6026) and
 * non-INVITE (Figure 8), driven by the machines in `transaction-fsm-*.ts`.
 *
 * The TU answers with {@link ServerTransaction.respond}; the transaction
 * sends, retransmits (G) and absorbs request retransmissions by resending
 * the last response. Responses go to `source`, the place the request came
 * from; the transport turns that into an address (§18.2.2).
 *
 * Memory: after its final response a transaction lingers only to absorb retransmissions
 * (a non-INVITE one on UDP is handed to the layer's `CompletedResponses` instead, which keeps
 * the key and the bytes only, and terminates):
 * Timer J (64*T1 = 32 s on UDP, §17.2.2) for non-INVITE, Timer L (32 s, RFC 6026 §8.7) for an
 * INVITE in Accepted, Timer H/I for an INVITE in Completed/Confirmed. When the host can send
 * raw bytes the transaction then keeps the final response's status and To tag, plus the bytes
 * when it may still resend them itself (non-INVITE, INVITE non-2xx); the request, the response
 * object and their parsed headers are released. In Accepted the TU retransmits the 2xx
 * (§13.3.1.4), so no bytes are kept. At 5,000 REGISTER/s or 2,000 calls/s that is hundreds of
 * thousands of lingering transactions.
 */
import type { SipMessage } from './message.ts';
import { TransactionBase, Slot } from './transaction-base.ts';
import type { TerminationReason, TransactionHost } from './transaction-base.ts';
import { TransactionError, TransactionErrorCode } from './transaction-errors.ts';
import { inviteServerStep } from './transaction-fsm-invite-server.ts';
import type { InviteServerEvent, InviteServerState } from './transaction-fsm-invite-server.ts';
import { nonInviteServerStep } from './transaction-fsm-non-invite-server.ts';
import type { NonInviteServerEvent, NonInviteServerState } from './transaction-fsm-non-invite-server.ts';
import { responseClass } from './transaction-fsm.ts';
import type { TransactionAction, Transition } from './transaction-fsm.ts';
import { createResponse } from './message-build.ts';
import type { TransactionTimerValues } from './transaction-timers.ts';

export type ServerTransactionState = InviteServerState | NonInviteServerState;
type ServerEvent = InviteServerEvent | NonInviteServerEvent;

const TU_EVENT = { '1xx': 'tu1xx', '2xx': 'tu2xx', '300-699': 'tu300-699' } as const;

export class ServerTransaction<T> extends TransactionBase<T, ServerTransactionState, ServerEvent> {
  readonly isInvite: boolean;
  /**
   * Last response sent (the one retransmissions get). When the host has `sendBytes`,
   * undefined again once the final response went out (see above); `lastStatus` and
   * `lastToTag` still tell what was sent.
   */
  lastResponse: SipMessage | undefined = undefined;
  /** Status of the last response sent; 0 before any. */
  lastStatus = 0;
  /**
   * To tag of the last response sent by an INVITE transaction (RFC 2543 ACK matching, §17.2.3);
   * null before any, without one, and always for non-INVITE (no ACK to match: reading it meant
   * parsing the response's To, a name-addr and a URI, for every REGISTER and OPTIONS answered).
   */
  lastToTag: string | null = null;
  /** The request; undefined once released (final response sent, see above). */
  request: SipMessage | undefined;
  /** Once, when the transaction terminates (`timeout` = timer H: no ACK came). */
  onTerminated: ((tx: ServerTransaction<T>, reason: TerminationReason) => void) | undefined = undefined;
  /** Transport failures, including those in Accepted where the transaction lives on (RFC 6026 §8.7). */
  onTransportError: ((tx: ServerTransaction<T>, error: unknown) => void) | undefined = undefined;

  private interval = 0;
  private pendingReason: TerminationReason = 'completed';
  /** Serialized last response, when the host sends bytes. */
  private lastBytes: Buffer | undefined = undefined;
  /** The last response left without the send throwing (a failure is on its way as an event). */
  private finalSent = false;
  private readonly method: string;

  constructor(
    host: TransactionHost<T>,
    key: string,
    request: SipMessage,
    readonly source: T,
    private readonly timers: TransactionTimerValues,
    private readonly passAck: (ack: SipMessage, tx: ServerTransaction<T>) => void,
  ) {
    const isInvite = request.method === 'INVITE';
    super(host, key, isInvite ? 'Proceeding' : 'Trying');
    this.isInvite = isInvite;
    this.request = request;
    this.method = request.method;
  }

  /** Starts the 100 Trying timer of an INVITE (§17.2.1). Called by the layer. */
  start(): void {
    if (this.isInvite) this.startTimer(Slot.Trying, this.timers.trying, 'timerTrying');
  }

  /**
   * Sends a response from the TU. Throws `SIP_ERR_TRANSACTION_STATE` when
   * the state does not allow it (a final already sent, except 2xx
   * retransmissions of an INVITE in Accepted, §13.3.1.4 / RFC 6026 §8.7),
   * `SIP_ERR_TRANSACTION_INVALID` for a request or a status outside 100-699.
   *
   * @example tx.respond(createResponse(tx.request, 180));
   */
  respond(res: SipMessage): void {
    if (res.isRequest || res.status < 100 || res.status > 699) {
      throw new TransactionError(TransactionErrorCode.INVALID, `not a response status: ${res.status}`);
    }
    const event = TU_EVENT[responseClass(res.status)];
    if (!this.accepts(event)) {
      throw new TransactionError(
        TransactionErrorCode.STATE,
        `cannot send ${res.status} in state ${this.state} of ${this.method} server transaction`,
      );
    }
    this.fire(event, res);
  }

  /** A retransmission of the request matched this transaction. */
  receiveRequest(): void {
    this.host.counters.absorbed++;
    this.fire('request');
  }

  /** An ACK matched this INVITE transaction (§17.2.3). */
  receiveAck(ack: SipMessage): void {
    if (!this.fire('ack', ack)) this.host.counters.absorbed++;
  }

  protected step(state: ServerTransactionState, event: ServerEvent): Transition<ServerTransactionState> | undefined {
    return this.isInvite
      ? inviteServerStep(state as InviteServerState, event as InviteServerEvent)
      : nonInviteServerStep(state as NonInviteServerState, event as NonInviteServerEvent);
  }

  protected execute(action: TransactionAction, msg: SipMessage | undefined, err: unknown): void {
    switch (action) {
      case 'sendResponse':
        this.sendResponse(msg!);
        return;
      case 'resendLast':
        if (this.lastStatus === 0) return;
        this.host.counters.retransmissions++;
        this.resendLast();
        return;
      case 'send100':
        if (this.lastStatus !== 0) return;
        this.sendResponse(createResponse(this.request!, 100));
        return;
      case 'stopTrying':
        this.stopTimer(Slot.Trying);
        return;
      case 'startG':
        this.interval = this.timers.retransmit;
        if (this.interval > 0) this.startTimer(Slot.Retransmit, this.interval, 'timerG');
        return;
      case 'retransmitResponse':
        // §17.2.1: "reset with a value that is min(2*T1, T2) ... 4T1 ..."
        this.interval = Math.min(this.interval * 2, this.timers.t2);
        this.host.counters.retransmissions++;
        this.startTimer(Slot.Retransmit, this.interval, 'timerG');
        this.resendLast();
        return;
      case 'startH':
        this.startTimer(Slot.Timeout, this.timers.timerH, 'timerH');
        return;
      case 'startI':
        this.startTimer(Slot.Linger, this.timers.timerI, 'timerI');
        return;
      case 'startJ':
        if (this.timers.timerJ > 0 && (this.lastStatus === 401 || this.lastStatus === 407)) {
          // A challenge is answered statelessly (RFC 3261 §8.2.7): a retransmission of the
          // request is challenged anew (a fresh nonce, which the client's transaction discards
          // as a retransmission of its final response, §17.1.2.2). Half of a REGISTER storm's
          // transactions end in a 401; keeping their bytes for Timer J was half the memory.
          this.lastBytes = undefined;
          this.finish('completed');
          return;
        }
        if (this.timers.timerJ > 0 && this.lastBytes !== undefined && this.finalSent && this.host.retire !== undefined) {
          // Only the bytes are needed from here on: the layer keeps them, the object goes.
          this.host.retire(this.key, this.lastBytes);
          this.lastBytes = undefined;
          this.finish('completed');
          return;
        }
        this.startTimer(Slot.Linger, this.timers.timerJ, 'timerJ');
        return;
      case 'startL':
        this.startTimer(Slot.Linger, this.timers.timerL, 'timerL');
        return;
      case 'stopRetransmit':
        this.stopTimer(Slot.Retransmit);
        return;
      case 'stopTimeout':
        this.stopTimer(Slot.Timeout);
        return;
      case 'passAck':
        this.passAck(msg!, this);
        return;
      case 'timeout':
        this.host.counters.timeouts++;
        this.pendingReason = 'timeout';
        return;
      case 'transportError':
        this.noteTransportError(err);
        // In Accepted the transaction lives on until L; only a terminating error is the reason.
        if (this.state === 'Terminated') this.pendingReason = 'transport_error';
        this.onTransportError?.(this, err);
        return;
      case 'terminate':
        this.finish(this.pendingReason);
        return;
      default:
        throw new Error(`server transaction cannot ${action}`);
    }
  }

  private sendResponse(res: SipMessage): void {
    this.lastStatus = res.status;
    if (this.isInvite) this.lastToTag = res.toTag;
    if (this.host.sendBytes === undefined) {
      this.lastResponse = res;
      this.transmit(res, this.source);
      return;
    }
    const bytes = res.toBuffer();
    if (res.status < 200) {
      this.lastBytes = bytes;
      this.lastResponse = res;
    } else {
      // Only retransmissions of these bytes remain to be done by the transaction (§17.2.1,
      // §17.2.2); in Accepted, none (RFC 6026 §8.7: the TU resends its 2xx).
      this.lastBytes = this.state === 'Accepted' ? undefined : bytes;
      this.lastResponse = undefined;
      this.request = undefined;
    }
    this.finalSent = this.transmitBytes(bytes, this.source);
  }

  private resendLast(): void {
    if (this.lastBytes !== undefined) this.transmitBytes(this.lastBytes, this.source);
    else if (this.lastResponse !== undefined) this.transmit(this.lastResponse, this.source);
  }

  protected notifyTerminated(): void {
    this.onTerminated?.(this, this.terminationReason!);
  }
}
