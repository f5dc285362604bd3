/**
 * INVITE client transaction (RFC 3261 §17.1.1, Figure 5, as corrected by
 * RFC 6026 §7.2 and §8.4: a 2xx moves to Accepted instead of Terminated so
 * 2xx retransmissions still reach the TU, which ACKs them).
 *
 *   Calling --1xx--> Proceeding --2xx--> Accepted --M--> Terminated
 *      |  \--300-699--> Completed --D--> Terminated
 *      +--B or transport error--> Terminated
 */
import { to } from './transaction-fsm.ts';
import type { ResponseClass, Transition } from './transaction-fsm.ts';

export type InviteClientState = 'Calling' | 'Proceeding' | 'Completed' | 'Accepted' | 'Terminated';
export type InviteClientEvent = ResponseClass | 'timerA' | 'timerB' | 'timerD' | 'timerM' | 'transportError';
type T = Transition<InviteClientState>;

const failed = to<InviteClientState>('Terminated', 'transportError', 'terminate');

// §17.1.1.2: "If timer A fires, the client transaction MUST retransmit the
// request ... and reset the timer with a value of 2*T1" (no T2 cap for INVITE).
const callingRetransmit = to<InviteClientState>('Calling', 'retransmit');
const callingTimeout = to<InviteClientState>('Terminated', 'timeout', 'terminate');
// A 1xx stops retransmissions; Timer B applies to the Calling state only.
const callingProvisional = to<InviteClientState>('Proceeding', 'stopRetransmit', 'stopTimeout', 'passUp');
const callingSuccess = to<InviteClientState>('Accepted', 'stopRetransmit', 'stopTimeout', 'passUp', 'startM');
const callingFailure = to<InviteClientState>('Completed', 'stopRetransmit', 'stopTimeout', 'passUp', 'sendAck', 'startD');

function calling(e: InviteClientEvent): T | undefined {
  switch (e) {
    case 'timerA':
      return callingRetransmit;
    case 'timerB':
      return callingTimeout;
    case '1xx':
      return callingProvisional;
    case '2xx':
      return callingSuccess;
    case '300-699':
      return callingFailure;
    case 'transportError':
      return failed;
    default:
      return undefined;
  }
}

const proceedingProvisional = to<InviteClientState>('Proceeding', 'passUp');
const proceedingSuccess = to<InviteClientState>('Accepted', 'passUp', 'startM');
const proceedingFailure = to<InviteClientState>('Completed', 'passUp', 'sendAck', 'startD');

function proceeding(e: InviteClientEvent): T | undefined {
  switch (e) {
    case '1xx':
      return proceedingProvisional;
    case '2xx':
      return proceedingSuccess;
    case '300-699':
      return proceedingFailure;
    case 'transportError':
      return failed;
    default:
      return undefined;
  }
}

// §17.1.1.2: retransmitted final responses get the ACK again, not the TU.
const completedAck = to<InviteClientState>('Completed', 'sendAck');
const completedDone = to<InviteClientState>('Terminated', 'terminate');

function completed(e: InviteClientEvent): T | undefined {
  switch (e) {
    case '300-699':
      return completedAck;
    case 'timerD':
      return completedDone;
    case 'transportError':
      return failed;
    default:
      return undefined;
  }
}

// RFC 6026 §8.4: every 2xx retransmission goes to the TU; timer M ends it.
const acceptedSuccess = to<InviteClientState>('Accepted', 'passUp');
const acceptedDone = to<InviteClientState>('Terminated', 'terminate');

function accepted(e: InviteClientEvent): T | undefined {
  switch (e) {
    case '2xx':
      return acceptedSuccess;
    case 'timerM':
      return acceptedDone;
    default:
      return undefined;
  }
}

/** One step of the INVITE client machine; undefined = absorbed. */
export function inviteClientStep(state: InviteClientState, event: InviteClientEvent): T | undefined {
  switch (state) {
    case 'Calling':
      return calling(event);
    case 'Proceeding':
      return proceeding(event);
    case 'Completed':
      return completed(event);
    case 'Accepted':
      return accepted(event);
    case 'Terminated':
      return undefined;
  }
}
