/**
 * Client transactions (RFC 3261 §17.1): INVITE (Figure 5 + RFC 6026) and
 * non-INVITE (Figure 6), driven by the machines in `transaction-fsm-*.ts`.
 *
 * The TU hears about every response through `onResponse`, including the
 * ones the transaction makes up (§8.1.3.1): a 408 when timer B/F fires, a
 * 503 when the transport fails. `onTerminated` follows when it ends.
 */
import type { SipMessage } from './message.ts';
import { TransactionBase, Slot } from './transaction-base.ts';
import type { TerminationReason, TransactionHost } from './transaction-base.ts';
import { inviteClientStep } from './transaction-fsm-invite-client.ts';
import type { InviteClientEvent, InviteClientState } from './transaction-fsm-invite-client.ts';
import { nonInviteClientStep } from './transaction-fsm-non-invite-client.ts';
import type { NonInviteClientEvent, NonInviteClientState } from './transaction-fsm-non-invite-client.ts';
import { responseClass } from './transaction-fsm.ts';
import type { TransactionAction, Transition } from './transaction-fsm.ts';
import { createResponse } from './message-build.ts';
import { buildNonSuccessAck } from './transaction-ack.ts';
import type { TransactionTimerValues } from './transaction-timers.ts';

export type ClientTransactionState = InviteClientState | NonInviteClientState;
type ClientEvent = InviteClientEvent | NonInviteClientEvent;

/** Callbacks of a client transaction's TU. */
export interface ClientTransactionHandlers<T> {
  /** Every response the TU must see, in order; `res.status` 408/503 for local failures. */
  onResponse(res: SipMessage, tx: ClientTransaction<T>): void;
  /** Once, when the transaction terminates. */
  onTerminated?(tx: ClientTransaction<T>, reason: TerminationReason): void;
}

const NO_HANDLERS: ClientTransactionHandlers<any> = { onResponse: () => {} };

export class ClientTransaction<T> extends TransactionBase<T, ClientTransactionState, ClientEvent> {
  readonly isInvite: boolean;
  /** Branch of the request's top Via. */
  readonly branch: string;
  /**
   * Last response handed to the TU (not the local 408/503); undefined again once the
   * transaction only lingers (see `request`). `lastStatus` stays.
   */
  lastResponse: SipMessage | undefined = undefined;
  /** Status of the last response handed to the TU; 0 before any. */
  lastStatus = 0;
  /**
   * The request; undefined once a final response arrived and the transaction only lingers
   * (Timer D, K or M: up to 32 s on UDP) to absorb retransmissions, which need at most the
   * ACK already built, not the request.
   */
  request: SipMessage | undefined;
  /** The ACK sent for a non-2xx final response, once built. */
  ack: SipMessage | undefined = undefined;

  private interval: number;
  /** Reason the next `terminate` action records (set by `timeout` / `transportError`). */
  private pendingReason: TerminationReason = 'completed';
  private readonly timeoutEvent: ClientEvent;
  private readonly retransmitEvent: ClientEvent;

  constructor(
    host: TransactionHost<T>,
    key: string,
    branch: string,
    request: SipMessage,
    readonly target: T,
    private readonly timers: TransactionTimerValues,
    private handlers: ClientTransactionHandlers<T>,
  ) {
    const isInvite = request.method === 'INVITE';
    super(host, key, isInvite ? 'Calling' : 'Trying');
    this.isInvite = isInvite;
    this.branch = branch;
    this.request = request;
    this.interval = timers.retransmit;
    this.timeoutEvent = isInvite ? 'timerB' : 'timerF';
    this.retransmitEvent = isInvite ? 'timerA' : 'timerE';
  }

  /**
   * Sends the request and starts A/E (unreliable only) and B/F (§17.1.1.2,
   * §17.1.2.2). Called by the layer.
   */
  start(): void {
    if (this.timers.retransmit > 0) this.startTimer(Slot.Retransmit, this.interval, this.retransmitEvent);
    this.startTimer(Slot.Timeout, this.isInvite ? this.timers.timerB : this.timers.timerF, this.timeoutEvent);
    this.transmit(request0(this), this.target);
  }

  /** A response matched to this transaction (§17.1.3). */
  receiveResponse(res: SipMessage): void {
    if (!this.fire(responseClass(res.status), res)) this.host.counters.absorbed++;
  }

  protected step(state: ClientTransactionState, event: ClientEvent): Transition<ClientTransactionState> | undefined {
    return this.isInvite
      ? inviteClientStep(state as InviteClientState, event as InviteClientEvent)
      : nonInviteClientStep(state as NonInviteClientState, event as NonInviteClientEvent);
  }

  protected execute(action: TransactionAction, msg: SipMessage | undefined, err: unknown): void {
    switch (action) {
      case 'passUp':
        if (this.request !== undefined) this.lastResponse = msg; // a lingering transaction keeps no messages
        this.lastStatus = msg!.status;
        this.handlers.onResponse(msg!, this);
        return;
      case 'retransmit':
        // A doubles without bound (§17.1.1.2); E doubles up to T2 (§17.1.2.2).
        this.interval = this.isInvite ? this.interval * 2 : Math.min(this.interval * 2, this.timers.t2);
        this.resend();
        return;
      case 'retransmitAtT2':
        this.interval = this.timers.t2;
        this.resend();
        return;
      case 'sendAck':
        this.ack ??= buildNonSuccessAck(request0(this), msg!);
        this.transmit(this.ack, this.target);
        return;
      case 'startD':
        this.linger();
        this.startTimer(Slot.Linger, this.timers.timerD, 'timerD');
        return;
      case 'startK':
        this.linger();
        this.startTimer(Slot.Linger, this.timers.timerK, 'timerK');
        return;
      case 'startM':
        this.linger();
        this.startTimer(Slot.Linger, this.timers.timerM, 'timerM');
        return;
      case 'stopRetransmit':
        this.stopTimer(Slot.Retransmit);
        return;
      case 'stopTimeout':
        this.stopTimer(Slot.Timeout);
        return;
      case 'timeout':
        this.host.counters.timeouts++;
        this.pendingReason = 'timeout';
        this.handlers.onResponse(createResponse(request0(this), 408), this);
        return;
      case 'transportError':
        this.noteTransportError(err);
        this.pendingReason = 'transport_error';
        // §8.1.3.1: a transport failure reads as a 503, unless the TU already
        // has its final response (the ACK of a non-2xx failed to go out).
        if (this.lastStatus < 200) {
          this.handlers.onResponse(createResponse(request0(this), 503), this);
        }
        return;
      case 'terminate':
        this.finish(this.pendingReason);
        return;
      default:
        throw new Error(`client transaction cannot ${action}`);
    }
  }

  /**
   * Why the transaction made up the 408/503 it is handing over: `timeout` (Timer B/F) or
   * `transport_error`; undefined for responses that came from the network. A client moving
   * on to the next server (RFC 3263 §4.3) needs the difference: a 503 from the server and a
   * failed send both mean "try the next one", a 408 only when nobody answered at all.
   */
  get localFailure(): 'timeout' | 'transport_error' | undefined {
    return this.pendingReason === 'completed' ? undefined : (this.pendingReason as 'timeout' | 'transport_error');
  }

  /**
   * The TU is done with this transaction (its dialog or call ended): it hears nothing more,
   * and the transaction no longer holds the TU's objects while it lingers (Timer M keeps an
   * INVITE in Accepted 32 s; late 2xx retransmissions are then absorbed).
   */
  release(): void {
    this.handlers = NO_HANDLERS;
  }

  /** Entering D, K or M: only retransmissions remain, which need neither request nor response objects. */
  private linger(): void {
    this.request = undefined;
    this.lastResponse = undefined;
  }

  private resend(): void {
    this.host.counters.retransmissions++;
    this.startTimer(Slot.Retransmit, this.interval, this.retransmitEvent);
    this.transmit(request0(this), this.target);
  }

  protected notifyTerminated(): void {
    this.handlers.onTerminated?.(this, this.terminationReason!);
  }
}

/**
 * The request, where the state machine still needs it (before a final response: sends,
 * retransmissions, local 408/503, the ACK of the first non-2xx). Released only on entering
 * a lingering state, so a miss here is a state-machine bug.
 */
function request0<T>(tx: ClientTransaction<T>): SipMessage {
  if (tx.request === undefined) throw new Error(`client transaction ${tx.key} used its request after completion`);
  return tx.request;
}
