import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage } from '../../../src/sip/parse-message.ts';
import { twilioCallSidOf } from '../../../src/pbx/twilio-call-sid.ts';

const SID = 'CA' + '0123456789abcdefABCDEF0123456789';
const invite = (header?: string) => parseMessage(Buffer.from([
  'INVITE sip:+15551230000@strowger.test SIP/2.0', 'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1', 'From: <sip:a@x>;tag=1',
  'To: <sip:+15551230000@strowger.test>', 'Call-ID: c1', 'CSeq: 1 INVITE', 'Max-Forwards: 70',
  ...(header === undefined ? [] : [header]), 'Content-Length: 0', '', '',
].join('\r\n')));

test('the CallSid of X-Strowger-Call-Sid: any header case, percent-decoded, only in its own shape', () => {
  assert.equal(twilioCallSidOf(invite(`X-Strowger-Call-Sid: ${SID}`)), SID);
  assert.equal(twilioCallSidOf(invite(`x-strowger-call-sid:  ${SID} `)), SID);
  assert.equal(twilioCallSidOf(invite(`X-Strowger-Call-Sid: %43%41${SID.slice(2)}`)), SID);
  for (const bad of [undefined, 'X-Strowger-Call-Sid: ', `X-Strowger-Call-Sid: ${SID}x`, `X-Strowger-Call-Sid: SM${SID.slice(2)}`,
    'X-Strowger-Call-Sid: %E0%A4%A', `X-Strowger-Call-Sid: ${SID.slice(0, 20)}%0d%0a${SID.slice(20)}`]) {
    assert.equal(twilioCallSidOf(invite(bad)), null, String(bad));
  }
});
