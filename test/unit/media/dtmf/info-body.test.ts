import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DtmfInfoError, formatDtmfRelay, parseDtmfInfo } from '../../../../src/media/dtmf/info-body.ts';
import { DTMF_DIGITS } from '../../../../src/media/tone.ts';

const rejects = (ct: string, body: string, code: string, status: number, re?: RegExp): void => {
  assert.throws(() => parseDtmfInfo(ct, body), (e: unknown) => {
    assert.ok(e instanceof DtmfInfoError, String(e));
    assert.equal(e.code, code);
    assert.equal(e.sipStatus, status);
    if (re) assert.match(e.message, re);
    return true;
  }, `${ct} ${JSON.stringify(body)}`);
};

describe('parseDtmfInfo: application/dtmf-relay', () => {
  const cases: [string, string, { digit: string; durationMs: number }][] = [
    ['canonical', 'Signal=5\r\nDuration=160\r\n', { digit: '5', durationMs: 160 }],
    ['LF only, spaces around =', 'Signal = #\nDuration= 250', { digit: '#', durationMs: 250 }],
    ['keys case-insensitive, lower-case a', 'signal=a\r\nDURATION=100', { digit: 'A', durationMs: 100 }],
    ['no Duration: default 250 ms', 'Signal=*', { digit: '*', durationMs: 250 }],
    ['unknown keys ignored', 'Signal=0\r\nVolume=10\r\nDuration=80\r\n', { digit: '0', durationMs: 80 }],
    ['Buffer body', 'Signal=9\r\nDuration=60000', { digit: '9', durationMs: 60000 }],
  ];
  for (const [name, body, want] of cases) {
    test(name, () => {
      const b = name === 'Buffer body' ? Buffer.from(body) : body;
      assert.deepEqual(parseDtmfInfo('application/dtmf-relay', b), want);
    });
  }

  test('every key round-trips through formatDtmfRelay', () => {
    for (const d of DTMF_DIGITS) assert.deepEqual(parseDtmfInfo('Application/DTMF-Relay; charset=utf-8', formatDtmfRelay({ digit: d, durationMs: 120 })), { digit: d, durationMs: 120 });
  });

  test('rejections say why', () => {
    const r = 'application/dtmf-relay';
    rejects(r, 'Signal=16\r\nDuration=100', 'DTMF_INFO_ERR_BAD_SIGNAL', 400, /"16".*0-9 \* # A-D/);
    rejects(r, 'Signal=E', 'DTMF_INFO_ERR_BAD_SIGNAL', 400);
    rejects(r, 'Signal=', 'DTMF_INFO_ERR_BAD_SIGNAL', 400);
    rejects(r, 'Signal=12', 'DTMF_INFO_ERR_BAD_SIGNAL', 400);
    rejects(r, 'Duration=100', 'DTMF_INFO_ERR_NO_SIGNAL', 400);
    rejects(r, '', 'DTMF_INFO_ERR_NO_SIGNAL', 400);
    rejects(r, 'Signal=1\r\nSignal=2', 'DTMF_INFO_ERR_MALFORMED', 400, /twice/);
    rejects(r, 'Signal=1\r\nhello', 'DTMF_INFO_ERR_MALFORMED', 400, /not key=value/);
    rejects(r, 'Signal=1\r\nDuration=0', 'DTMF_INFO_ERR_BAD_DURATION', 400, /0 ms outside 1\.\.60000/);
    rejects(r, 'Signal=1\r\nDuration=60001', 'DTMF_INFO_ERR_BAD_DURATION', 400);
    rejects(r, 'Signal=1\r\nDuration=-5', 'DTMF_INFO_ERR_BAD_DURATION', 400);
    rejects(r, 'Signal=1\r\nDuration=1e3', 'DTMF_INFO_ERR_BAD_DURATION', 400);
    rejects(r, 'Signal=1\r\nDuration=100\r\nDuration=200', 'DTMF_INFO_ERR_MALFORMED', 400);
    rejects(r, `Signal=1\r\nX=${'a'.repeat(600)}`, 'DTMF_INFO_ERR_TOO_LARGE', 400);
  });
});

describe('parseDtmfInfo: application/dtmf', () => {
  test('the key alone, with or without CRLF', () => {
    assert.deepEqual(parseDtmfInfo('application/dtmf', '5'), { digit: '5', durationMs: 250 });
    assert.deepEqual(parseDtmfInfo('application/dtmf', '#\r\n'), { digit: '#', durationMs: 250 });
    rejects('application/dtmf', '55', 'DTMF_INFO_ERR_BAD_SIGNAL', 400);
    rejects('application/dtmf', '', 'DTMF_INFO_ERR_NO_SIGNAL', 400);
  });

  test('other content types: 415', () => {
    rejects('text/plain', 'Signal=5', 'DTMF_INFO_ERR_CONTENT_TYPE', 415, /"text\/plain"/);
    rejects('application/sdp', 'v=0', 'DTMF_INFO_ERR_CONTENT_TYPE', 415);
  });
});
