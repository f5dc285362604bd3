import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createResponse } from '../../../src/sip/message-build.ts';
import { clientTransactionKey, serverTransactionKey } from '../../../src/sip/transaction-key.ts';
import { TransactionLayer } from '../../../src/sip/transaction-layer.ts';
import { FakeTimers } from '../../../src/sip/timers.ts';
import { TCP, UDP, request, setup, wire } from './transaction-fixtures.ts';

describe('transaction keys (§17.1.3, §17.2.3)', () => {
  test('RFC 3261: branch + sent-by + method, ACK as INVITE, CANCEL apart', () => {
    assert.equal(serverTransactionKey(request()), '3261|z9hG4bK776asdhds|pc33.atlanta.com:|INVITE');
    assert.equal(serverTransactionKey(request({ method: 'ACK', cseqMethod: 'ACK' })), '3261|z9hG4bK776asdhds|pc33.atlanta.com:|INVITE');
    assert.equal(serverTransactionKey(request({ method: 'CANCEL', sentBy: 'PC33.atlanta.com:5060' })), '3261|z9hG4bK776asdhds|pc33.atlanta.com:5060|CANCEL');
  });

  test('RFC 2543: request fields, To tag only outside INVITE/ACK', () => {
    assert.equal(
      serverTransactionKey(request({ branch: null })),
      '2543|sip:bob@biloxi.com|1928301774|a84b4c76e66710@pc33.atlanta.com|314159|SIP/2.0/UDP pc33.atlanta.com|INVITE',
    );
    assert.equal(
      serverTransactionKey(request({ branch: null, method: 'BYE', toTag: 'x' })),
      '2543|sip:bob@biloxi.com|1928301774|a84b4c76e66710@pc33.atlanta.com|314159|SIP/2.0/UDP pc33.atlanta.com|BYE|x',
    );
    // "z9hG4bK" alone is not an RFC 3261 branch.
    assert.match(serverTransactionKey(request({ branch: 'z9hG4bK' }))!, /^2543\|/);
  });

  test('client: branch + CSeq method of the response', () => {
    assert.equal(clientTransactionKey(createResponse(request({ method: 'CANCEL' }), 200)), 'z9hG4bK776asdhds|CANCEL');
  });
});

describe('TransactionLayer', () => {
  test('configurable T1/T2: non-INVITE E = 100, 200, 400, 400 ..., F = 64*T1', () => {
    const { layer, timers, sent } = setup({ t1: 100, t2: 400 });
    const codes: number[] = [];
    layer.request(request({ method: 'OPTIONS' }), UDP, { onResponse: (r) => codes.push(r.status) });
    timers.advance(6400);
    assert.deepEqual(sent.map((s) => s.at), [0, 100, 300, 700, 1100, 1500, 1900, 2300, 2700, 3100, 3500, 3900, 4300, 4700, 5100, 5500, 5900, 6300]);
    assert.deepEqual(codes, [408]);
    assert.equal(layer.size, 0);
  });

  test('default reliability: objects with protocol other than udp are reliable', () => {
    const { layer, timers, sent } = setup();
    layer.request(request({ method: 'OPTIONS', branch: 'z9hG4bKa' }), { ...TCP, protocol: 'TCP' as 'tcp' }, { onResponse: () => {} });
    layer.request(request({ method: 'OPTIONS', branch: 'z9hG4bKb' }), { ...UDP, protocol: 'UDP' as 'udp' }, { onResponse: () => {} });
    timers.advance(600);
    assert.deepEqual(sent.map((s) => s.msg.topVia?.branch), ['z9hG4bKa', 'z9hG4bKb', 'z9hG4bKb']);
    layer.close();
  });

  test('no leaks: 300 transactions of each kind all end, size and timers back to 0', () => {
    const timers = new FakeTimers(0);
    let sent = 0;
    const layer = new TransactionLayer<typeof UDP>({
      timers,
      send: () => {
        sent++;
      },
      onRequest: (req, tx) => tx.respond(createResponse(req, req.method === 'INVITE' ? 486 : 200, undefined, { toTag: 't' })),
    });
    for (let i = 0; i < 300; i++) {
      const b = `z9hG4bKleak${i}`;
      // server INVITE (486 + ACK) and server OPTIONS
      layer.receiveRequest(request({ branch: b, callId: `c${i}` }), UDP);
      layer.receiveRequest(request({ method: 'ACK', cseqMethod: 'ACK', branch: b, callId: `c${i}`, toTag: 't' }), UDP);
      layer.receiveRequest(request({ method: 'OPTIONS', branch: b, callId: `c${i}` }), UDP);
      // client INVITE answered 200, client OPTIONS never answered
      const inv = request({ branch: `${b}c`, callId: `d${i}` });
      layer.request(inv, UDP, { onResponse: () => {} });
      layer.receiveResponse(wire(createResponse(inv, 200, undefined, { toTag: 'u' })), UDP);
      layer.request(request({ method: 'OPTIONS', branch: `${b}o`, callId: `e${i}` }), TCP, { onResponse: () => {} });
    }
    assert.equal(layer.serverCount, 600);
    assert.equal(layer.clientCount, 600);
    timers.advance(64 * 500);
    assert.equal(layer.size, 0);
    assert.equal(timers.size, 0);
    assert.equal(layer.counters.serverCreated, 600);
    assert.equal(layer.counters.clientCreated, 600);
    assert.equal(layer.counters.timeouts, 300);
    assert.equal(sent, 1200); // 486, 200, INVITE, OPTIONS each: nothing retransmitted
  });

  test('close() ends everything and ignores later input', () => {
    const { layer, timers, requests } = setup();
    layer.receiveRequest(request(), UDP);
    layer.request(request({ method: 'OPTIONS', branch: 'z9hG4bKx' }), UDP, { onResponse: () => {} });
    assert.equal(layer.size, 2);
    layer.close();
    assert.equal(layer.size, 0);
    assert.equal(timers.size, 0);
    layer.receiveRequest(request({ branch: 'z9hG4bKlater' }), UDP);
    assert.equal(requests.length, 1);
  });
});
