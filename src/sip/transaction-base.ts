/**
 * What client and server transactions share: running a state machine with
 * an event queue, four timer slots, sending through the injected `send`
 * callback with transport errors fed back as events (§17.1.4, §17.2.4), and
 * termination (the transaction leaves the layer's tables at once, §17.1.1.2
 * "MUST be destroyed the instant it enters the Terminated state").
 */
import type { SipMessage } from './message.ts';
import type { TransactionAction, Transition } from './transaction-fsm.ts';
import type { TimerHandle, Timers } from './timers.ts';

/** Why a transaction ended. */
export type TerminationReason =
  | 'completed' // normal end (timer D, I, J, K, L or M, or 0 on reliable transports)
  | 'timeout' // timer B, F (no final response) or H (no ACK)
  | 'transport_error' // the transport failed to send
  | 'closed'; // terminated by the TU or by closing the layer

/**
 * The sending half of the transport, as the transaction layer needs it.
 * Throw, or return a rejected promise, to report a transport error.
 */
export type TransactionSend<T> = (msg: SipMessage, target: T) => void | Promise<void>;

/** Plain counters kept by the layer (snapshot them for metrics). */
export interface TransactionCounters {
  clientCreated: number;
  serverCreated: number;
  retransmissions: number;
  absorbed: number;
  timeouts: number;
  transportErrors: number;
  strayResponses: number;
  strayAcks: number;
}

/** What the layer lends each transaction. */
export interface TransactionHost<T> {
  readonly timers: Timers;
  readonly send: TransactionSend<T>;
  /**
   * Optional: sends pre-serialized bytes. When present, server transactions serialize each
   * response once and, after a non-INVITE final response, keep only those bytes for
   * retransmissions (Timer J holds a completed transaction 32 s on UDP).
   */
  readonly sendBytes?: (data: Buffer, target: T) => void | Promise<void>;
  readonly counters: TransactionCounters;
  /** Called once, when the transaction terminates. */
  removed(key: string, tx: object): void;
  /**
   * Optional, with `sendBytes`: takes over a non-INVITE server transaction entering Completed
   * on an unreliable transport, i.e. resends `data` to retransmissions of request `key` until
   * Timer J (see `CompletedResponses`); the transaction then terminates at once.
   */
  readonly retire?: (key: string, data: Buffer) => void;
}

/** Timer slots: each machine maps its timers onto these. */
export const Slot = {
  /** A, E, G */
  Retransmit: 0,
  /** B, F, H */
  Timeout: 1,
  /** D, I, J, K, L, M */
  Linger: 2,
  /** the 200 ms 100-Trying timer */
  Trying: 3,
} as const;
export type Slot = (typeof Slot)[keyof typeof Slot];

type Queued<E> = [event: E, msg: SipMessage | undefined, err: unknown];

export abstract class TransactionBase<T, S extends string, E extends string> {
  /** Current RFC state. */
  state: S;
  /** Set once terminated. */
  terminationReason: TerminationReason | undefined = undefined;
  /** The transport error, when `terminationReason` is `transport_error`. */
  error: unknown = undefined;

  protected readonly host: TransactionHost<T>;
  private readonly slots: Array<TimerHandle | undefined> = [undefined, undefined, undefined, undefined];
  private running = false;
  private queue: Array<Queued<E>> | undefined = undefined;

  protected constructor(
    host: TransactionHost<T>,
    /** Matching key in the layer's table. */
    readonly key: string,
    initial: S,
  ) {
    this.host = host;
    this.state = initial;
  }

  /** True once the transaction reached Terminated. */
  get terminated(): boolean {
    return this.terminationReason !== undefined;
  }

  protected abstract step(state: S, event: E): Transition<S> | undefined;
  protected abstract execute(action: TransactionAction, msg: SipMessage | undefined, err: unknown): void;
  /** Tells the TU the transaction ended. */
  protected abstract notifyTerminated(): void;

  /**
   * Feeds one event. Returns false when the current state ignores it. Events
   * raised while actions run (TU callbacks, zero timers, send errors) are
   * queued and run after the current transition, in order.
   */
  protected fire(event: E, msg?: SipMessage, err?: unknown): boolean {
    if (this.running) {
      (this.queue ??= []).push([event, msg, err]);
      return true;
    }
    this.running = true;
    try {
      const accepted = this.apply(event, msg, err);
      const q = this.queue;
      if (q !== undefined) {
        for (let item = q.shift(); item !== undefined; item = q.shift()) this.apply(item[0], item[1], item[2]);
      }
      return accepted;
    } finally {
      this.running = false;
    }
  }

  /** Whether `event` would be accepted in the current state. */
  protected accepts(event: E): boolean {
    return this.step(this.state, event) !== undefined;
  }

  private apply(event: E, msg: SipMessage | undefined, err: unknown): boolean {
    if (this.terminated) return false;
    const t = this.step(this.state, event);
    if (t === undefined) return false;
    this.state = t.state;
    const actions = t.actions;
    for (let i = 0; i < actions.length; i++) this.execute(actions[i], msg, err);
    return true;
  }

  /** Starts a timer slot; 0 ms fires right after the current transition. */
  protected startTimer(slot: Slot, ms: number, event: E): void {
    this.stopTimer(slot);
    if (ms <= 0) {
      this.fire(event);
      return;
    }
    this.slots[slot] = this.host.timers.setTimeout(() => {
      this.slots[slot] = undefined;
      this.fire(event);
    }, ms);
  }

  protected stopTimer(slot: Slot): void {
    const h = this.slots[slot];
    if (h === undefined) return;
    this.slots[slot] = undefined;
    this.host.timers.clearTimeout(h);
  }

  /** Sends through the host; failures come back as a `transportError` event. */
  protected transmit(msg: SipMessage, target: T): void {
    let result: void | Promise<void>;
    try {
      result = this.host.send(msg, target);
    } catch (err) {
      this.fire('transportError' as E, undefined, err);
      return;
    }
    if (result !== undefined) result.catch((err: unknown) => this.fire('transportError' as E, undefined, err));
  }

  /** Like {@link transmit}, for bytes already serialized (the host must have `sendBytes`). @returns false when the send threw. */
  protected transmitBytes(data: Buffer, target: T): boolean {
    let result: void | Promise<void>;
    try {
      result = this.host.sendBytes!(data, target);
    } catch (err) {
      this.fire('transportError' as E, undefined, err);
      return false;
    }
    if (result !== undefined) result.catch((err: unknown) => this.fire('transportError' as E, undefined, err));
    return true;
  }

  /** Records a transport error for the TU (the `transportError` action). */
  protected noteTransportError(err: unknown): void {
    this.error = err;
    this.host.counters.transportErrors++;
  }

  /** The `terminate` action, or a forced end: clears timers, leaves the table, tells the TU. */
  protected finish(reason: TerminationReason): void {
    if (this.terminated) return;
    for (let s = 0; s < 4; s++) this.stopTimer(s as Slot);
    this.terminationReason = reason;
    this.state = 'Terminated' as S;
    this.host.removed(this.key, this);
    this.notifyTerminated();
  }

  /** Ends the transaction now, without further messages (reason `closed`). */
  terminate(): void {
    this.finish('closed');
  }
}
