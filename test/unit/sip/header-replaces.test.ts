import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReplaces, parseReplaces } from '../../../src/sip/header-replaces.ts';
import { SipReferError } from '../../../src/sip/refer-errors.ts';
import { parseMessage } from '../../../src/sip/parse-message.ts';
import { replacesDecision, replacesDialogKey, replacesOfRequest } from '../../../src/sip/replaces-dialog.ts';
import { Dialog } from '../../../src/sip/dialog.ts';
import { parseNameAddr } from '../../../src/sip/header-name-addr.ts';
import { parseUri } from '../../../src/sip/uri.ts';

describe('parseReplaces (RFC 3891 §6.1)', () => {
  const valid: Array<[string, string, { callId: string; toTag: string; fromTag: string; earlyOnly: boolean }]> = [
    [
      'RFC 3891 §6.1 example 1 (unfolded)',
      '98732@sip.example.com;from-tag=r33th4x0r;to-tag=ff87ff',
      { callId: '98732@sip.example.com', toTag: 'ff87ff', fromTag: 'r33th4x0r', earlyOnly: false },
    ],
    [
      'RFC 3891 §6.1 example 2, early-only',
      '12adf2f34456gs5;to-tag=12345;from-tag=54321;early-only',
      { callId: '12adf2f34456gs5', toTag: '12345', fromTag: '54321', earlyOnly: true },
    ],
    [
      'RFC 3891 §6.1 example 1 folded (SWS around ";", after unfolding)',
      '98732@sip.example.com\t ;from-tag=r33th4x0r ;to-tag=ff87ff',
      { callId: '98732@sip.example.com', toTag: 'ff87ff', fromTag: 'r33th4x0r', earlyOnly: false },
    ],
    [
      'RFC 5589 §7.2 attended transfer INVITE',
      '090459243588173445;to-tag=7553452;from-tag=31431',
      { callId: '090459243588173445', toTag: '7553452', fromTag: '31431', earlyOnly: false },
    ],
    ['parameter names are case-insensitive (RFC 3261 §7.3.1)', 'a@b;TO-TAG=1;From-Tag=2', { callId: 'a@b', toTag: '1', fromTag: '2', earlyOnly: false }],
    ['Call-ID word characters (RFC 3261 §25.1)', 'x(y)<z>:{w}@h;to-tag=1;from-tag=2', { callId: 'x(y)<z>:{w}@h', toTag: '1', fromTag: '2', earlyOnly: false }],
  ];
  for (const [name, text, want] of valid) {
    test(name, () => {
      const r = parseReplaces(text);
      assert.deepEqual({ callId: r.callId, toTag: r.toTag, fromTag: r.fromTag, earlyOnly: r.earlyOnly }, want);
    });
  }

  test('extension parameters are kept and formatted back', () => {
    const r = parseReplaces('a@b;to-tag=1;from-tag=2;foo=bar');
    assert.deepEqual([...r.params], [['foo', 'bar']]);
    assert.equal(formatReplaces(r), 'a@b;to-tag=1;from-tag=2;foo=bar');
  });

  const invalid: Array<[string, string]> = [
    ['empty', ''],
    ['no Call-ID', ';to-tag=1;from-tag=2'],
    ['missing to-tag (§6.1 "exactly one to-tag")', 'a@b;from-tag=2'],
    ['missing from-tag (§6.1 "exactly one from-tag")', 'a@b;to-tag=1'],
    ['two to-tags', 'a@b;to-tag=1;to-tag=3;from-tag=2'],
    ['two from-tags', 'a@b;to-tag=1;from-tag=2;from-tag=2'],
    ['to-tag without value', 'a@b;to-tag;from-tag=2'],
    ['to-tag not a token', 'a@b;to-tag="1";from-tag=2'],
    ['from-tag with a colon (gen-value, not token)', 'a@b;to-tag=1;from-tag=[::1]'],
    ['early-only with a value', 'a@b;to-tag=1;from-tag=2;early-only=yes'],
    ['Call-ID with two @', 'a@b@c;to-tag=1;from-tag=2'],
    ['empty parameter', 'a@b;;to-tag=1;from-tag=2'],
    ['trailing garbage', 'a@b;to-tag=1;from-tag=2 x'],
    ['list (two dialogs)', 'a@b;to-tag=1;from-tag=2, c@d;to-tag=1;from-tag=2'],
  ];
  for (const [name, text] of invalid) {
    test(`rejects: ${name}`, () => {
      assert.throws(() => parseReplaces(text), (e: unknown) => e instanceof SipReferError && e.code === 'SIP_ERR_REPLACES_INVALID' && e.sipStatus === 400);
    });
  }

  test('formatReplaces round-trips', () => {
    const r = { callId: '12345@192.168.118.3', toTag: '12345', fromTag: '5FFE-3994', earlyOnly: true };
    assert.equal(formatReplaces(r), '12345@192.168.118.3;to-tag=12345;from-tag=5FFE-3994;early-only');
    assert.deepEqual({ ...parseReplaces(formatReplaces(r)), params: undefined }, { ...r, params: undefined });
  });
});

function invite(extra: string, method = 'INVITE'): ReturnType<typeof parseMessage> {
  return parseMessage(
    Buffer.from(
      `${method} sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\nMax-Forwards: 70\r\n` +
        `From: <sip:alice@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: c1\r\nCSeq: 1 ${method}\r\n${extra}Content-Length: 0\r\n\r\n`,
    ),
  );
}

describe('replacesOfRequest (RFC 3891 §3)', () => {
  test('none', () => assert.equal(replacesOfRequest(invite('')), null));
  test('one, parsed', () => {
    assert.equal(replacesOfRequest(invite('Replaces: 425928@bobster.example.org;to-tag=7743;from-tag=6472\r\n'))?.toTag, '7743');
  });
  const bad: Array<[string, string, string, string]> = [
    ['Replaces in a non-INVITE: 400', 'Replaces: a;to-tag=1;from-tag=2\r\n', 'OPTIONS', 'SIP_ERR_REPLACES_MISPLACED'],
    ['two Replaces lines: 400', 'Replaces: a;to-tag=1;from-tag=2\r\nReplaces: b;to-tag=1;from-tag=2\r\n', 'INVITE', 'SIP_ERR_REPLACES_MISPLACED'],
    ['two values on one line: 400', 'Replaces: a;to-tag=1;from-tag=2, b;to-tag=1;from-tag=2\r\n', 'INVITE', 'SIP_ERR_REPLACES_MISPLACED'],
    ['malformed: 400', 'Replaces: a;to-tag=1\r\n', 'INVITE', 'SIP_ERR_REPLACES_INVALID'],
  ];
  for (const [name, hdr, method, code] of bad) {
    test(name, () => {
      assert.throws(() => replacesOfRequest(invite(hdr, method)), (e: unknown) => e instanceof SipReferError && e.code === code && e.sipStatus === 400);
    });
  }
});

describe('replacesDecision (RFC 3891 §3)', () => {
  const r = parseReplaces('a@b;to-tag=1;from-tag=2');
  const early = parseReplaces('a@b;to-tag=1;from-tag=2;early-only');
  const cases: Array<[string, typeof r, Parameters<typeof replacesDecision>[1], number]> = [
    ['no matching dialog: 481', r, null, 481],
    ['terminated dialog: 603', r, { state: 'terminated', initiatedLocally: false }, 603],
    ['confirmed dialog: accept', r, { state: 'confirmed', initiatedLocally: false }, 0],
    ['confirmed dialog, early-only: 486', early, { state: 'confirmed', initiatedLocally: true }, 486],
    ['early dialog we initiated (call pickup): accept', early, { state: 'early', initiatedLocally: true }, 0],
    ['early dialog ringing here (we are its UAS): 481', r, { state: 'early', initiatedLocally: false }, 481],
  ];
  for (const [name, rep, dialog, want] of cases) test(name, () => assert.equal(replacesDecision(rep, dialog), want));

  test('replacesDialogKey matches the recipient Dialog.key: to-tag is local, from-tag remote', () => {
    const d = new Dialog({
      callId: 'a@b',
      localTag: '1',
      remoteTag: '2',
      localUri: parseNameAddr('<sip:x@h>'),
      remoteUri: parseNameAddr('<sip:y@h>'),
      remoteTarget: parseUri('sip:y@h'),
      routeSet: [],
      localSeq: 1,
      remoteSeq: 1,
    });
    assert.equal(replacesDialogKey(r), d.key);
  });
});
