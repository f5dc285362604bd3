/**
 * SIP INFO DTMF of a call (RFC 6086 INFO, `application/dtmf-relay` / `application/dtmf`): the
 * answer for each body, the digit event, and the digit played to the other side's media leg.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { CallDigits, digitOfMedia, handleDtmfInfo } from '../../../src/pbx/call-dtmf.ts';
import type { CallDigit } from '../../../src/pbx/call-dtmf.ts';
import type { IncomingRequest } from '../../../src/sip/endpoint.ts';

interface Reply {
  status: number;
  reason?: string;
  headers?: Record<string, string | string[]>;
}

function info(contentType: string | null, body: string): { r: IncomingRequest; replies: Reply[] } {
  const replies: Reply[] = [];
  const r = {
    msg: { body: Buffer.from(body), contentType },
    reply: (status: number, reason?: string, opts?: { headers?: Record<string, string | string[]> }) => {
      replies.push({ status, reason, headers: opts?.headers });
      return {};
    },
  } as unknown as IncomingRequest;
  return { r, replies };
}

const call = { id: 'call-1', mediaLegIds: [11, 12] as const };
const log = pino({ level: 'silent' });

function harness(): { digits: CallDigits; seen: CallDigit[]; played: [number, string, number][]; media: { sendDtmf: (l: number, d: string, ms?: number) => Promise<void> } } {
  const digits = new CallDigits();
  const seen: CallDigit[] = [];
  digits.on((d) => seen.push(d));
  const played: [number, string, number][] = [];
  return { digits, seen, played, media: { sendDtmf: async (l, d, ms = 100) => { played.push([l, d, ms]); } } };
}

describe('INFO DTMF in a call', () => {
  test('application/dtmf-relay from the caller: 200, digit event, played to the callee leg', () => {
    const h = harness();
    const { r, replies } = info('application/dtmf-relay', 'Signal=5\r\nDuration=160\r\n');
    handleDtmfInfo(r, call, 'a', h.media, h.digits, log);
    assert.deepEqual(replies.map((x) => x.status), [200]);
    assert.deepEqual(h.seen, [{ callId: 'call-1', side: 'a', digit: '5', durationMs: 160, via: 'info' }]);
    assert.deepEqual(h.played, [[12, '5', 160]]);
    assert.equal(h.digits.counts.info, 1);
  });

  test('application/dtmf from the callee goes to the caller leg; durations clamped to 40..8000 ms', () => {
    const h = harness();
    handleDtmfInfo(info('application/dtmf', '#').r, call, 'b', h.media, h.digits, log);
    handleDtmfInfo(info('application/dtmf-relay', 'Signal=1\nDuration=10').r, call, 'b', h.media, h.digits, log);
    handleDtmfInfo(info('application/dtmf-relay', 'Signal=2\nDuration=60000').r, call, 'b', h.media, h.digits, log);
    assert.deepEqual(h.played, [[11, '#', 250], [11, '1', 40], [11, '2', 8000]]);
  });

  test('another content type: 415 with Accept, nothing played', () => {
    const h = harness();
    const { r, replies } = info('application/media_control+xml', '<media_control/>');
    handleDtmfInfo(r, call, 'a', h.media, h.digits, log);
    assert.equal(replies[0].status, 415);
    assert.equal(replies[0].headers?.Accept, 'application/dtmf-relay, application/dtmf');
    assert.equal(h.played.length + h.seen.length, 0);
  });

  test('a bad body: 400 with the reason, nothing played', () => {
    for (const body of ['Signal=Z\r\n', 'Duration=100\r\n', 'Signal=1\r\nDuration=abc\r\n', 'garbage\x07\r\n']) {
      const h = harness();
      const { r, replies } = info('application/dtmf-relay', body);
      handleDtmfInfo(r, call, 'a', h.media, h.digits, log);
      assert.equal(replies[0].status, 400, body);
      assert.doesNotMatch(replies[0].reason!, /[\x00-\x1f]/);
      assert.equal(h.played.length, 0);
    }
  });

  test('an INFO without body is answered 200 and ignored', () => {
    const h = harness();
    const { r, replies } = info(null, '');
    handleDtmfInfo(r, call, 'a', h.media, h.digits, log);
    assert.deepEqual(replies.map((x) => x.status), [200]);
    assert.equal(h.seen.length, 0);
  });

  test('media dtmf events map to the side of the call that pressed', () => {
    assert.deepEqual(digitOfMedia(call, { legId: 12, digit: '7', durationMs: 90, source: 'inband' }),
      { callId: 'call-1', side: 'b', digit: '7', durationMs: 90, via: 'inband' });
    assert.equal(digitOfMedia(call, { legId: 99, digit: '7', durationMs: 90, source: 'rfc4733' }), null);
  });

  test('unsubscribe stops the listener', () => {
    const d = new CallDigits();
    let n = 0;
    const off = d.on(() => n++);
    d.emit({ callId: 'x', side: 'a', digit: '1', durationMs: 100, via: 'rfc4733' });
    off();
    d.emit({ callId: 'x', side: 'a', digit: '1', durationMs: 100, via: 'rfc4733' });
    assert.equal(n, 1);
  });
});
