/**
 * Shared vocabulary of the four transaction state machines (RFC 3261 §17).
 *
 * Each machine is one function per RFC state taking an event and returning
 * a {@link Transition} (next state + ordered actions), or undefined when the
 * event is absorbed without effect. Transitions are module constants, so
 * stepping a machine allocates nothing; the transaction objects
 * (`transaction-client.ts`, `transaction-server.ts`) execute the actions.
 */

/** What a transaction does on a transition; executed in order. */
export type TransactionAction =
  // client side
  | 'passUp' // hand the response to the TU
  | 'retransmit' // resend the request; next interval doubles (A: no cap, E: cap T2)
  | 'retransmitAtT2' // resend the request; next interval T2 (§17.1.2.2, E in Proceeding)
  | 'sendAck' // (re)send the ACK for a non-2xx final response (§17.1.1.3)
  | 'startD'
  | 'startK'
  | 'startM'
  // server side
  | 'sendResponse' // send the response the TU gave, remember it as the last one
  | 'resendLast' // resend the last response sent, if any
  | 'send100' // send 100 Trying unless a response already went out (§17.2.1)
  | 'stopTrying'
  | 'startG' // first response retransmission timer, T1 (unreliable only)
  | 'retransmitResponse' // resend the final response; G doubles, cap T2
  | 'startH'
  | 'startI'
  | 'startJ'
  | 'startL'
  | 'passAck' // hand an ACK to the TU (RFC 6026 §8.7, Accepted state)
  // both
  | 'stopRetransmit' // stop A / E / G
  | 'stopTimeout' // stop B / F / H
  | 'timeout' // tell the TU: B, F (client: as a 408) or H fired
  | 'transportError' // tell the TU: the transport failed (client: as a 503, §8.1.3.1)
  | 'terminate'; // clear timers, leave the layer's tables

/** Result of one step. */
export interface Transition<S extends string> {
  readonly state: S;
  readonly actions: readonly TransactionAction[];
}

/** Builds a constant transition. */
export function to<S extends string>(state: S, ...actions: TransactionAction[]): Transition<S> {
  return Object.freeze({ state, actions: Object.freeze(actions) });
}

/** Response classes the machines distinguish. */
export type ResponseClass = '1xx' | '2xx' | '300-699';

/** Class of a status code (100..699 assumed). */
export function responseClass(status: number): ResponseClass {
  return status < 200 ? '1xx' : status < 300 ? '2xx' : '300-699';
}
