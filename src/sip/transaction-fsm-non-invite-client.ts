/**
 * Non-INVITE client transaction (RFC 3261 §17.1.2, Figure 6).
 *
 *   Trying --1xx--> Proceeding --200-699--> Completed --K--> Terminated
 *     |  \--200-699--> Completed
 *     +--F or transport error--> Terminated
 */
import { to } from './transaction-fsm.ts';
import type { ResponseClass, Transition } from './transaction-fsm.ts';

export type NonInviteClientState = 'Trying' | 'Proceeding' | 'Completed' | 'Terminated';
export type NonInviteClientEvent = ResponseClass | 'timerE' | 'timerF' | 'timerK' | 'transportError';
type T = Transition<NonInviteClientState>;

const failed = to<NonInviteClientState>('Terminated', 'transportError', 'terminate');
const timedOut = to<NonInviteClientState>('Terminated', 'timeout', 'terminate');
const final = to<NonInviteClientState>('Completed', 'stopRetransmit', 'stopTimeout', 'passUp', 'startK');

// §17.1.2.2: E doubles up to T2 while Trying ...
const tryingRetransmit = to<NonInviteClientState>('Trying', 'retransmit');
const tryingProvisional = to<NonInviteClientState>('Proceeding', 'passUp');

function trying(e: NonInviteClientEvent): T | undefined {
  switch (e) {
    case 'timerE':
      return tryingRetransmit;
    case 'timerF':
      return timedOut;
    case '1xx':
      return tryingProvisional;
    case '2xx':
    case '300-699':
      return final;
    case 'transportError':
      return failed;
    default:
      return undefined;
  }
}

// ... and is reset to T2 in Proceeding ("Timer E MUST be reset with a value of T2").
const proceedingRetransmit = to<NonInviteClientState>('Proceeding', 'retransmitAtT2');
const proceedingProvisional = to<NonInviteClientState>('Proceeding', 'passUp');

function proceeding(e: NonInviteClientEvent): T | undefined {
  switch (e) {
    case 'timerE':
      return proceedingRetransmit;
    case 'timerF':
      return timedOut;
    case '1xx':
      return proceedingProvisional;
    case '2xx':
    case '300-699':
      return final;
    case 'transportError':
      return failed;
    default:
      return undefined;
  }
}

// Completed buffers response retransmissions for timer K (responses absorbed).
const completedDone = to<NonInviteClientState>('Terminated', 'terminate');

function completed(e: NonInviteClientEvent): T | undefined {
  return e === 'timerK' ? completedDone : undefined;
}

/** One step of the non-INVITE client machine; undefined = absorbed. */
export function nonInviteClientStep(state: NonInviteClientState, event: NonInviteClientEvent): T | undefined {
  switch (state) {
    case 'Trying':
      return trying(event);
    case 'Proceeding':
      return proceeding(event);
    case 'Completed':
      return completed(event);
    case 'Terminated':
      return undefined;
  }
}
