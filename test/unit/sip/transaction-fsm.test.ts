import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { inviteClientStep } from '../../../src/sip/transaction-fsm-invite-client.ts';
import { nonInviteClientStep } from '../../../src/sip/transaction-fsm-non-invite-client.ts';
import { inviteServerStep } from '../../../src/sip/transaction-fsm-invite-server.ts';
import { nonInviteServerStep } from '../../../src/sip/transaction-fsm-non-invite-server.ts';
import { responseClass } from '../../../src/sip/transaction-fsm.ts';
import type { Transition } from '../../../src/sip/transaction-fsm.ts';
import { resolveTimers, DEFAULT_TIMER_CONFIG } from '../../../src/sip/transaction-timers.ts';

type Row = readonly [state: string, event: string, next: string | null, actions?: string];

function check(name: string, step: (s: never, e: never) => Transition<string> | undefined, rows: readonly Row[]) {
  describe(name, () => {
    for (const [state, event, next, actions] of rows) {
      test(`${state} + ${event} -> ${next ?? 'absorbed'}`, () => {
        const t = step(state as never, event as never);
        if (next === null) return assert.equal(t, undefined);
        assert.deepEqual({ state: t?.state, actions: t?.actions.join(' ') }, { state: next, actions: actions ?? '' });
      });
    }
  });
}

check('INVITE client (§17.1.1.2 Figure 5, RFC 6026 §7.2)', inviteClientStep, [
  ['Calling', 'timerA', 'Calling', 'retransmit'],
  ['Calling', 'timerB', 'Terminated', 'timeout terminate'],
  ['Calling', '1xx', 'Proceeding', 'stopRetransmit stopTimeout passUp'],
  ['Calling', '2xx', 'Accepted', 'stopRetransmit stopTimeout passUp startM'],
  ['Calling', '300-699', 'Completed', 'stopRetransmit stopTimeout passUp sendAck startD'],
  ['Calling', 'transportError', 'Terminated', 'transportError terminate'],
  ['Proceeding', '1xx', 'Proceeding', 'passUp'],
  ['Proceeding', '2xx', 'Accepted', 'passUp startM'],
  ['Proceeding', '300-699', 'Completed', 'passUp sendAck startD'],
  ['Proceeding', 'timerA', null],
  ['Completed', '300-699', 'Completed', 'sendAck'],
  ['Completed', '2xx', null],
  ['Completed', 'timerD', 'Terminated', 'terminate'],
  ['Accepted', '2xx', 'Accepted', 'passUp'],
  ['Accepted', '300-699', null],
  ['Accepted', 'timerM', 'Terminated', 'terminate'],
  ['Terminated', '2xx', null],
]);

check('non-INVITE client (§17.1.2.2 Figure 6)', nonInviteClientStep, [
  ['Trying', 'timerE', 'Trying', 'retransmit'],
  ['Trying', 'timerF', 'Terminated', 'timeout terminate'],
  ['Trying', '1xx', 'Proceeding', 'passUp'],
  ['Trying', '2xx', 'Completed', 'stopRetransmit stopTimeout passUp startK'],
  ['Trying', '300-699', 'Completed', 'stopRetransmit stopTimeout passUp startK'],
  ['Trying', 'transportError', 'Terminated', 'transportError terminate'],
  ['Proceeding', 'timerE', 'Proceeding', 'retransmitAtT2'],
  ['Proceeding', 'timerF', 'Terminated', 'timeout terminate'],
  ['Proceeding', '1xx', 'Proceeding', 'passUp'],
  ['Proceeding', '2xx', 'Completed', 'stopRetransmit stopTimeout passUp startK'],
  ['Completed', '2xx', null],
  ['Completed', 'timerK', 'Terminated', 'terminate'],
]);

check('INVITE server (§17.2.1 Figure 7, RFC 6026 §7.1)', inviteServerStep, [
  ['Proceeding', 'request', 'Proceeding', 'resendLast'],
  ['Proceeding', 'timerTrying', 'Proceeding', 'send100'],
  ['Proceeding', 'tu1xx', 'Proceeding', 'stopTrying sendResponse'],
  ['Proceeding', 'tu2xx', 'Accepted', 'stopTrying sendResponse startL'],
  ['Proceeding', 'tu300-699', 'Completed', 'stopTrying sendResponse startG startH'],
  ['Proceeding', 'transportError', 'Terminated', 'transportError terminate'],
  ['Proceeding', 'ack', null],
  ['Completed', 'request', 'Completed', 'resendLast'],
  ['Completed', 'ack', 'Confirmed', 'stopRetransmit stopTimeout startI'],
  ['Completed', 'timerG', 'Completed', 'retransmitResponse'],
  ['Completed', 'timerH', 'Terminated', 'timeout terminate'],
  ['Completed', 'tu2xx', null],
  ['Confirmed', 'ack', null],
  ['Confirmed', 'request', null],
  ['Confirmed', 'timerI', 'Terminated', 'terminate'],
  ['Accepted', 'request', null],
  ['Accepted', 'tu2xx', 'Accepted', 'sendResponse'],
  ['Accepted', 'tu1xx', null],
  ['Accepted', 'ack', 'Accepted', 'passAck'],
  ['Accepted', 'transportError', 'Accepted', 'transportError'],
  ['Accepted', 'timerL', 'Terminated', 'terminate'],
]);

check('non-INVITE server (§17.2.2 Figure 8)', nonInviteServerStep, [
  ['Trying', 'request', null],
  ['Trying', 'tu1xx', 'Proceeding', 'sendResponse'],
  ['Trying', 'tu2xx', 'Completed', 'sendResponse startJ'],
  ['Trying', 'tu300-699', 'Completed', 'sendResponse startJ'],
  ['Proceeding', 'request', 'Proceeding', 'resendLast'],
  ['Proceeding', 'tu1xx', 'Proceeding', 'sendResponse'],
  ['Proceeding', 'tu300-699', 'Completed', 'sendResponse startJ'],
  ['Proceeding', 'transportError', 'Terminated', 'transportError terminate'],
  ['Completed', 'request', 'Completed', 'resendLast'],
  ['Completed', 'tu2xx', null],
  ['Completed', 'timerJ', 'Terminated', 'terminate'],
  ['Completed', 'transportError', 'Terminated', 'transportError terminate'],
]);

describe('timer values (RFC 3261 Appendix A, RFC 6026)', () => {
  test('unreliable and reliable', () => {
    assert.deepEqual(resolveTimers(DEFAULT_TIMER_CONFIG, false), {
      t1: 500, t2: 4000, retransmit: 500, timerB: 32000, timerD: 32000, timerF: 32000, timerH: 32000,
      timerI: 5000, timerJ: 32000, timerK: 5000, timerL: 32000, timerM: 32000, trying: 200,
    });
    assert.deepEqual(resolveTimers(DEFAULT_TIMER_CONFIG, true), {
      t1: 500, t2: 4000, retransmit: 0, timerB: 32000, timerD: 0, timerF: 32000, timerH: 32000,
      timerI: 0, timerJ: 0, timerK: 0, timerL: 32000, timerM: 32000, trying: 200,
    });
  });

  test('responseClass', () => {
    assert.deepEqual([100, 199, 200, 299, 300, 699].map(responseClass), ['1xx', '1xx', '2xx', '2xx', '300-699', '300-699']);
  });
});
