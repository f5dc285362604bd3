import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMPLETED_ELSEWHERE, reasonsToPass, sipReason } from '../../../src/sip/header-reason.ts';

test('sipReason: cause, optional text quoted with " and \\ escaped (RFC 3326 §2)', () => {
  assert.equal(COMPLETED_ELSEWHERE, 'SIP;cause=200;text="Call completed elsewhere"');
  assert.equal(sipReason(603), 'SIP;cause=603');
  assert.equal(sipReason(600, 'a "b" \\c'), 'SIP;cause=600;text="a \\"b\\" \\\\c"');
});

test('reasonsToPass keeps well-formed values, at most two, and drops the rest', () => {
  assert.deepEqual(reasonsToPass([COMPLETED_ELSEWHERE, 'Q.850 ; cause=16 ;text="Terminated"']), [COMPLETED_ELSEWHERE, 'Q.850 ; cause=16 ;text="Terminated"']);
  assert.deepEqual(reasonsToPass(['SIP;cause=200', 'SIP;cause=487', 'SIP;cause=603']), ['SIP;cause=200', 'SIP;cause=487']);
  assert.deepEqual(reasonsToPass([
    'SIP;text="unterminated',
    '<sip:x@y>',
    'SIP;cause=200;text="ctl \u0007"',
    `SIP;cause=200;text="${'x'.repeat(300)}"`,
    '',
    'SIP;;cause=1',
  ]), []);
});
