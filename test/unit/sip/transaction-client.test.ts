import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createResponse } from '../../../src/sip/message-build.ts';
import type { SipMessage } from '../../../src/sip/message.ts';
import type { ClientTransaction } from '../../../src/sip/transaction-client.ts';
import type { TerminationReason } from '../../../src/sip/transaction-base.ts';
import { TransactionError } from '../../../src/sip/transaction-errors.ts';
import { buildCancel } from '../../../src/sip/transaction-cancel.ts';
import { COMPLETED_ELSEWHERE, sipReason } from '../../../src/sip/header-reason.ts';
import { TCP, UDP, log, request, setup, wire } from './transaction-fixtures.ts';
import type { Target } from './transaction-fixtures.ts';

function tu() {
  const responses: string[] = [];
  const ended: TerminationReason[] = [];
  return {
    responses,
    ended,
    handlers: {
      onResponse: (res: SipMessage) => responses.push(`${res.status} ${res.reason}`),
      onTerminated: (_tx: ClientTransaction<Target>, reason: TerminationReason) => ended.push(reason),
    },
  };
}

const INVITE_LINE = 'INVITE sip:bob@biloxi.com SIP/2.0';

describe('INVITE client transaction (§17.1.1, RFC 6026)', () => {
  test('UDP: timer A doubles (no T2 cap) until timer B fires at 64*T1 with a 408 to the TU', () => {
    const { layer, timers, sent } = setup();
    const t = tu();
    const tx = layer.request(request(), UDP, t.handlers);
    assert.equal(tx.state, 'Calling');
    timers.advance(32_000);
    assert.deepEqual(
      log(sent),
      [0, 500, 1500, 3500, 7500, 15500, 31500].map((at) => `${at} ${INVITE_LINE}`),
    );
    assert.deepEqual(t.responses, ['408 Request Timeout']);
    assert.deepEqual(t.ended, ['timeout']);
    assert.equal(tx.state, 'Terminated');
    assert.equal(layer.size, 0);
    assert.equal(timers.size, 0);
    assert.equal(layer.counters.retransmissions, 6);
  });

  test('TCP: no retransmissions; timer B still at 64*T1', () => {
    const { layer, timers, sent } = setup();
    const t = tu();
    layer.request(request(), TCP, t.handlers);
    timers.advance(31_999);
    assert.equal(sent.length, 1);
    assert.deepEqual(t.responses, []);
    timers.advance(1);
    assert.deepEqual(t.responses, ['408 Request Timeout']);
    assert.equal(layer.size, 0);
  });

  test('a 1xx stops A and B; Proceeding passes every 1xx up', () => {
    const { layer, timers, sent } = setup();
    const t = tu();
    const inv = request();
    const tx = layer.request(inv, UDP, t.handlers);
    timers.advance(600);
    layer.receiveResponse(wire(createResponse(inv, 100)), UDP);
    layer.receiveResponse(wire(createResponse(inv, 180, undefined, { toTag: 'x' })), UDP);
    timers.advance(120_000);
    assert.equal(tx.state, 'Proceeding');
    assert.equal(sent.length, 2);
    assert.deepEqual(t.responses, ['100 Trying', '180 Ringing']);
    assert.equal(layer.size, 1);
    tx.terminate();
    assert.equal(layer.size, 0);
    assert.deepEqual(t.ended, ['closed']);
  });

  test('3xx-6xx: ACK with the same branch built inside the transaction (§17.1.1.3), exact bytes', () => {
    const { layer, timers, sent } = setup();
    const t = tu();
    const inv = request({ extra: ['Route: <sip:p1.example.com;lr>', 'Route: <sip:p2.example.com;lr>'] });
    const tx = layer.request(inv, UDP, t.handlers);
    const busy = wire(createResponse(inv, 486, undefined, { toTag: '8321234356' }));
    layer.receiveResponse(busy, UDP);
    assert.equal(tx.state, 'Completed');
    assert.deepEqual(t.responses, ['486 Busy Here']);
    assert.equal(sent.length, 2);
    assert.equal(
      sent[1].msg.toString(),
      [
        'ACK sip:bob@biloxi.com SIP/2.0',
        'Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds',
        'Max-Forwards: 70',
        'Route: <sip:p1.example.com;lr>',
        'Route: <sip:p2.example.com;lr>',
        'To: Bob <sip:bob@biloxi.com>;tag=8321234356',
        'From: Alice <sip:alice@atlanta.com>;tag=1928301774',
        'Call-ID: a84b4c76e66710@pc33.atlanta.com',
        'CSeq: 314159 ACK',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
    // A retransmitted 486 gets the same ACK again and is not passed up.
    timers.advance(1000);
    layer.receiveResponse(wire(busy), UDP);
    assert.equal(sent.length, 3);
    assert.equal(sent[2].msg, sent[1].msg);
    assert.deepEqual(t.responses, ['486 Busy Here']);
    // No more INVITE retransmissions after the final response.
    assert.equal(sent.filter((s) => s.msg.method === 'INVITE').length, 1);
    // Timer D: 32 s on UDP.
    timers.advance(30_999);
    assert.equal(tx.state, 'Completed');
    timers.advance(1);
    assert.equal(tx.state, 'Terminated');
    assert.deepEqual(t.ended, ['completed']);
    assert.equal(layer.size, 0);
    assert.equal(timers.size, 0);
  });

  test('3xx-6xx on TCP: ACK then Terminated at once (timer D = 0)', () => {
    const { layer, sent, timers } = setup();
    const t = tu();
    const inv = request();
    const tx = layer.request(inv, TCP, t.handlers);
    layer.receiveResponse(wire(createResponse(inv, 603, undefined, { toTag: 'a' })), TCP);
    assert.deepEqual(log(sent), [`0 ${INVITE_LINE}`, '0 ACK sip:bob@biloxi.com SIP/2.0']);
    assert.equal(tx.state, 'Terminated');
    assert.equal(layer.size, 0);
    assert.equal(timers.size, 0);
  });

  test('2xx: Accepted; 2xx retransmissions reach the TU until timer M (RFC 6026 §8.4)', () => {
    const { layer, timers, sent, strays } = setup();
    const t = tu();
    const inv = request();
    const tx = layer.request(inv, UDP, t.handlers);
    const ok = createResponse(inv, 200, undefined, { toTag: 'b' });
    layer.receiveResponse(wire(ok), UDP);
    assert.equal(tx.state, 'Accepted');
    timers.advance(500);
    layer.receiveResponse(wire(ok), UDP);
    assert.deepEqual(t.responses, ['200 OK', '200 OK']);
    assert.equal(sent.length, 1); // no ACK from the transaction for 2xx, no retransmission
    timers.advance(31_499);
    assert.equal(tx.state, 'Accepted');
    timers.advance(1);
    assert.equal(tx.state, 'Terminated');
    assert.equal(layer.size, 0);
    // After M a late 2xx is a stray response for the core.
    layer.receiveResponse(wire(ok), UDP);
    assert.equal(strays.length, 1);
    assert.equal(layer.counters.strayResponses, 1);
  });

  test('transport error (sync throw) -> 503 to the TU, terminated with transport_error', () => {
    const { layer } = setup({
      send: () => {
        throw new Error('EHOSTUNREACH');
      },
    });
    const t = tu();
    const tx = layer.request(request(), UDP, t.handlers);
    assert.deepEqual(t.responses, ['503 Service Unavailable']);
    assert.deepEqual(t.ended, ['transport_error']);
    assert.equal((tx.error as Error).message, 'EHOSTUNREACH');
    assert.equal(layer.size, 0);
  });

  test('transport error while sending the ACK: terminated, no 503 after the final response', () => {
    let n = 0;
    const { layer } = setup({
      send: () => {
        if (n++ > 0) throw new Error('EPIPE');
      },
    });
    const t = tu();
    const inv = request();
    const tx = layer.request(inv, UDP, t.handlers);
    layer.receiveResponse(wire(createResponse(inv, 486, undefined, { toTag: 'a' })), UDP);
    assert.deepEqual(t.responses, ['486 Busy Here']);
    assert.deepEqual(t.ended, ['transport_error']);
    assert.equal(tx.state, 'Terminated');
    assert.equal(layer.size, 0);
  });

  test('transport error (rejected promise) on a retransmission', async () => {
    let n = 0;
    const { layer, timers } = setup({ send: () => (n++ === 0 ? undefined : Promise.reject(new Error('closed'))) });
    const t = tu();
    layer.request(request({ method: 'OPTIONS' }), UDP, t.handlers);
    timers.advance(500);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(t.responses, ['503 Service Unavailable']);
    assert.deepEqual(t.ended, ['transport_error']);
    assert.equal(layer.size, 0);
    assert.equal(timers.size, 0);
  });
});

describe('non-INVITE client transaction (§17.1.2)', () => {
  test('UDP: timer E doubles up to T2, timer F at 64*T1 -> 408', () => {
    const { layer, timers, sent } = setup();
    const t = tu();
    layer.request(request({ method: 'OPTIONS' }), UDP, t.handlers);
    timers.advance(32_000);
    assert.deepEqual(
      sent.map((s) => s.at),
      [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500],
    );
    assert.deepEqual(t.responses, ['408 Request Timeout']);
    assert.deepEqual(t.ended, ['timeout']);
    assert.equal(layer.size, 0);
  });

  test('Proceeding: E is reset to T2; final -> Completed, K = T4, responses absorbed', () => {
    const { layer, timers, sent } = setup();
    const t = tu();
    const reg = request({ method: 'REGISTER' });
    const tx = layer.request(reg, UDP, t.handlers);
    timers.advance(600); // retransmitted at 500, next due at 1500
    layer.receiveResponse(wire(createResponse(reg, 100)), UDP);
    assert.equal(tx.state, 'Proceeding');
    timers.advance(10_000); // 1500 (Proceeding: next = T2) -> 5500 -> 9500
    assert.deepEqual(sent.map((s) => s.at), [0, 500, 1500, 5500, 9500]);
    const ok = wire(createResponse(reg, 200, undefined, { toTag: 'r' }));
    layer.receiveResponse(ok, UDP);
    assert.equal(tx.state, 'Completed');
    layer.receiveResponse(wire(ok), UDP);
    assert.deepEqual(t.responses, ['100 Trying', '200 OK']);
    assert.equal(layer.counters.absorbed, 1);
    timers.advance(4_999);
    assert.equal(tx.state, 'Completed');
    timers.advance(1);
    assert.equal(tx.state, 'Terminated');
    assert.deepEqual(t.ended, ['completed']);
    assert.equal(timers.size, 0);
  });

  test('TCP: final response terminates at once (K = 0)', () => {
    const { layer, timers } = setup();
    const t = tu();
    const bye = request({ method: 'BYE', toTag: 'x' });
    const tx = layer.request(bye, TCP, t.handlers);
    layer.receiveResponse(wire(createResponse(bye, 200)), TCP);
    assert.equal(tx.state, 'Terminated');
    assert.equal(layer.size, 0);
    assert.equal(timers.size, 0);
  });
});

describe('client matching and ids (§17.1.3, §8.1.1.7)', () => {
  test('branch generated when missing: z9hG4bK + crypto randomness, unique', () => {
    const { layer } = setup();
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const req = request({ method: 'OPTIONS', branch: null });
      const tx = layer.request(req, TCP, tu().handlers);
      assert.match(tx.branch, /^z9hG4bK[A-Za-z0-9_-]{12,}$/);
      assert.equal(req.topVia?.branch, tx.branch);
      seen.add(tx.branch);
    }
    assert.equal(seen.size, 500);
    layer.close();
    assert.equal(layer.size, 0);
  });

  test('CSeq method is part of the key: a CANCEL response does not hit the INVITE', () => {
    const { layer, strays } = setup();
    const inv = request();
    const t = tu();
    layer.request(inv, UDP, t.handlers);
    const cancel = request({ method: 'CANCEL' });
    const c = tu();
    layer.request(cancel, UDP, c.handlers);
    layer.receiveResponse(wire(createResponse(cancel, 200, undefined, { toTag: 'z' })), UDP);
    assert.deepEqual(c.responses, ['200 OK']);
    assert.deepEqual(t.responses, []);
    layer.receiveResponse(wire(createResponse(request({ branch: 'z9hG4bKother' }), 200)), UDP);
    assert.equal(strays.length, 1);
    layer.close();
  });

  test('buildCancel (§9.1): same branch and CSeq number, runs as its own transaction, exact bytes', () => {
    const { layer, sent } = setup();
    const inv = request({ extra: ['Route: <sip:p1.example.com;lr>'] });
    const tx = layer.request(inv, UDP, tu().handlers);
    layer.receiveResponse(wire(createResponse(inv, 180, undefined, { toTag: 'r' })), UDP);
    const c = tu();
    const cancelTx = layer.request(buildCancel(tx.request!), tx.target, c.handlers);
    assert.equal(cancelTx.branch, tx.branch);
    assert.equal(
      sent[1].msg.toString(),
      [
        'CANCEL sip:bob@biloxi.com SIP/2.0',
        'Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds',
        'Max-Forwards: 70',
        'Route: <sip:p1.example.com;lr>',
        'To: Bob <sip:bob@biloxi.com>',
        'From: Alice <sip:alice@atlanta.com>;tag=1928301774',
        'Call-ID: a84b4c76e66710@pc33.atlanta.com',
        'CSeq: 314159 CANCEL',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
    assert.equal(layer.clientCount, 2);
    layer.close();
  });

  test('buildCancel with Reason values (RFC 3326): one header each, after CSeq, text quoted and escaped', () => {
    const inv = request();
    const text = buildCancel(inv, [COMPLETED_ELSEWHERE, sipReason(603, 'Say "no"')]).toString();
    assert.match(text, /CSeq: 314159 CANCEL\r\nReason: SIP;cause=200;text="Call completed elsewhere"\r\nReason: SIP;cause=603;text="Say \\"no\\""\r\nContent-Length: 0\r\n/);
    assert.doesNotMatch(buildCancel(inv).toString(), /Reason/);
  });

  test('duplicate branch+method, ACK and closed layer are refused', () => {
    const { layer } = setup();
    layer.request(request(), UDP, tu().handlers);
    assert.throws(() => layer.request(request(), UDP, tu().handlers), (e: unknown) => e instanceof TransactionError && e.code === 'SIP_ERR_TRANSACTION_DUPLICATE');
    assert.throws(() => layer.request(request({ method: 'ACK' }), UDP, tu().handlers), (e: unknown) => e instanceof TransactionError && e.code === 'SIP_ERR_TRANSACTION_INVALID');
    layer.close();
    assert.throws(() => layer.request(request({ method: 'OPTIONS' }), UDP, tu().handlers), (e: unknown) => e instanceof TransactionError && e.code === 'SIP_ERR_TRANSACTION_CLOSED');
    assert.equal(layer.size, 0);
  });
});
