/**
 * Non-INVITE server transaction (RFC 3261 §17.2.2, Figure 8).
 *
 *   Trying --1xx--> Proceeding --200-699--> Completed --J--> Terminated
 *     \--200-699--> Completed
 *
 * No automatic 100 Trying: RFC 4320 §4.1 forbids a 100 to a non-INVITE
 * before Timer E reaches T2, and the TU answers such requests quickly.
 */
import { to } from './transaction-fsm.ts';
import type { Transition } from './transaction-fsm.ts';

export type NonInviteServerState = 'Trying' | 'Proceeding' | 'Completed' | 'Terminated';
export type NonInviteServerEvent = 'request' | 'tu1xx' | 'tu2xx' | 'tu300-699' | 'timerJ' | 'transportError';
type T = Transition<NonInviteServerState>;

const failed = to<NonInviteServerState>('Terminated', 'transportError', 'terminate');
const final = to<NonInviteServerState>('Completed', 'sendResponse', 'startJ');
const provisional = to<NonInviteServerState>('Proceeding', 'sendResponse');

// §17.2.2: in Trying, retransmissions of the request are discarded.
function trying(e: NonInviteServerEvent): T | undefined {
  switch (e) {
    case 'tu1xx':
      return provisional;
    case 'tu2xx':
    case 'tu300-699':
      return final;
    case 'transportError':
      return failed;
    default:
      return undefined;
  }
}

const resend = to<NonInviteServerState>('Proceeding', 'resendLast');

function proceeding(e: NonInviteServerEvent): T | undefined {
  switch (e) {
    case 'request':
      return resend;
    case 'tu1xx':
      return provisional;
    case 'tu2xx':
    case 'tu300-699':
      return final;
    case 'transportError':
      return failed;
    default:
      return undefined;
  }
}

const completedResend = to<NonInviteServerState>('Completed', 'resendLast');
const completedDone = to<NonInviteServerState>('Terminated', 'terminate');

// §17.2.2: further TU responses in Completed are discarded (undefined).
function completed(e: NonInviteServerEvent): T | undefined {
  switch (e) {
    case 'request':
      return completedResend;
    case 'timerJ':
      return completedDone;
    case 'transportError':
      return failed;
    default:
      return undefined;
  }
}

/** One step of the non-INVITE server machine; undefined = absorbed (or refused for TU events). */
export function nonInviteServerStep(state: NonInviteServerState, event: NonInviteServerEvent): T | undefined {
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
