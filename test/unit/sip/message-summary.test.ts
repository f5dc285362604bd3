/** RFC 3842 §5.2 message-summary bodies: what we write, and reading what phones and peers write. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatMessageSummary, parseMessageSummary } from '../../../src/sip/message-summary.ts';

test('format: Messages-Waiting follows the new count; the urgent part is always written', () => {
  assert.equal(formatMessageSummary('sip:1001@pbx', { new: 2, old: 8 }), 'Messages-Waiting: yes\r\nMessage-Account: sip:1001@pbx\r\nVoice-Message: 2/8 (0/0)\r\n');
  assert.equal(formatMessageSummary('sip:1001@pbx', { new: 0, old: 3, urgentNew: 0, urgentOld: 1 }), 'Messages-Waiting: no\r\nMessage-Account: sip:1001@pbx\r\nVoice-Message: 0/3 (0/1)\r\n');
});

test('parse: the RFC 3842 §5.2 example, case-insensitive names, LF line ends, other classes ignored', () => {
  const body = 'Messages-Waiting: yes\r\nMessage-Account: sip:alice@vmail.example.com\r\nVoice-Message: 4/8 (1/2)\r\n\r\n';
  assert.deepEqual(parseMessageSummary(body), { waiting: true, account: 'sip:alice@vmail.example.com', voice: { new: 4, old: 8, urgentNew: 1, urgentOld: 2 } });
  assert.deepEqual(parseMessageSummary('messages-waiting: NO\nfax-message: 1/0\nvoice-message: 0/2\n'), { waiting: false, account: null, voice: { new: 0, old: 2, urgentNew: 0, urgentOld: 0 } });
});

test('parse: a body without Messages-Waiting or with a malformed count is refused', () => {
  assert.throws(() => parseMessageSummary('Voice-Message: 1/0\r\n'), /no Messages-Waiting/);
  assert.throws(() => parseMessageSummary('Messages-Waiting: maybe\r\n'), /yes or no/);
  assert.throws(() => parseMessageSummary('Messages-Waiting: yes\r\nVoice-Message: one/two\r\n'), /malformed/);
});

test('round trip', () => {
  const counts = { new: 12, old: 345, urgentNew: 1, urgentOld: 0 };
  assert.deepEqual(parseMessageSummary(formatMessageSummary('sip:+15551234567@pbx', counts)), { waiting: true, account: 'sip:+15551234567@pbx', voice: counts });
});
