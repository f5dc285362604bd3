/**
 * INVITE server transaction (RFC 3261 §17.2.1, Figure 7, as corrected by
 * RFC 6026 §7.1 and §8.5-§8.7: a 2xx from the TU moves to Accepted, where
 * INVITE retransmissions are absorbed instead of reaching the TU as new
 * requests, until timer L).
 *
 *   Proceeding --300-699--> Completed --ACK--> Confirmed --I--> Terminated
 *        |                     +--H or transport error--> Terminated
 *        +--2xx--> Accepted --L--> Terminated
 *
 * 100 Trying: sent by the transaction itself if the TU has not answered
 * within 200 ms (§17.2.1 "unless it knows that the TU will generate a
 * provisional or final response within 200 ms"). Waiting saves a message
 * for the common immediate answers (401/407 challenges, 486, 200 to
 * re-INVITEs); a retransmitted INVITE before that gets nothing, since there
 * is nothing to resend yet, and the timer still runs.
 */
import { to } from './transaction-fsm.ts';
import type { Transition } from './transaction-fsm.ts';

export type InviteServerState = 'Proceeding' | 'Completed' | 'Confirmed' | 'Accepted' | 'Terminated';
export type InviteServerEvent =
  | 'request' // a retransmission of the INVITE
  | 'ack'
  | 'tu1xx'
  | 'tu2xx'
  | 'tu300-699'
  | 'timerTrying'
  | 'timerG'
  | 'timerH'
  | 'timerI'
  | 'timerL'
  | 'transportError';
type T = Transition<InviteServerState>;

const failed = to<InviteServerState>('Terminated', 'transportError', 'terminate');

const proceedingResend = to<InviteServerState>('Proceeding', 'resendLast');
const proceedingTrying = to<InviteServerState>('Proceeding', 'send100');
const proceedingProvisional = to<InviteServerState>('Proceeding', 'stopTrying', 'sendResponse');
const proceedingSuccess = to<InviteServerState>('Accepted', 'stopTrying', 'sendResponse', 'startL');
const proceedingFailure = to<InviteServerState>('Completed', 'stopTrying', 'sendResponse', 'startG', 'startH');

function proceeding(e: InviteServerEvent): T | undefined {
  switch (e) {
    case 'request':
      return proceedingResend;
    case 'timerTrying':
      return proceedingTrying;
    case 'tu1xx':
      return proceedingProvisional;
    case 'tu2xx':
      return proceedingSuccess;
    case 'tu300-699':
      return proceedingFailure;
    case 'transportError':
      return failed;
    default:
      return undefined;
  }
}

const completedResend = to<InviteServerState>('Completed', 'resendLast');
const completedAck = to<InviteServerState>('Confirmed', 'stopRetransmit', 'stopTimeout', 'startI');
const completedRetransmit = to<InviteServerState>('Completed', 'retransmitResponse');
// §17.2.1: Timer H fired: the ACK never came; "inform the TU".
const completedTimeout = to<InviteServerState>('Terminated', 'timeout', 'terminate');

function completed(e: InviteServerEvent): T | undefined {
  switch (e) {
    case 'request':
      return completedResend;
    case 'ack':
      return completedAck;
    case 'timerG':
      return completedRetransmit;
    case 'timerH':
      return completedTimeout;
    case 'transportError':
      return failed;
    default:
      return undefined;
  }
}

// Confirmed absorbs ACK and INVITE retransmissions until timer I.
const confirmedDone = to<InviteServerState>('Terminated', 'terminate');

function confirmed(e: InviteServerEvent): T | undefined {
  return e === 'timerI' ? confirmedDone : undefined;
}

// RFC 6026 §8.7: INVITE retransmissions absorbed; 2xx retransmissions from
// the TU (the UAS core retransmits 2xx, §13.3.1.4) go out; an ACK that
// matches (RFC 2543 peers) goes to the TU; a transport error is reported
// but the transaction stays until L.
const acceptedSuccess = to<InviteServerState>('Accepted', 'sendResponse');
const acceptedAck = to<InviteServerState>('Accepted', 'passAck');
const acceptedError = to<InviteServerState>('Accepted', 'transportError');
const acceptedDone = to<InviteServerState>('Terminated', 'terminate');

function accepted(e: InviteServerEvent): T | undefined {
  switch (e) {
    case 'tu2xx':
      return acceptedSuccess;
    case 'ack':
      return acceptedAck;
    case 'transportError':
      return acceptedError;
    case 'timerL':
      return acceptedDone;
    default:
      return undefined;
  }
}

/** One step of the INVITE server machine; undefined = absorbed (or refused for TU events). */
export function inviteServerStep(state: InviteServerState, event: InviteServerEvent): T | undefined {
  switch (state) {
    case 'Proceeding':
      return proceeding(event);
    case 'Completed':
      return completed(event);
    case 'Confirmed':
      return confirmed(event);
    case 'Accepted':
      return accepted(event);
    case 'Terminated':
      return undefined;
  }
}
