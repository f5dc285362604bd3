import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createResponse } from '../../../src/sip/message-build.ts';
import type { ServerTransaction } from '../../../src/sip/transaction-server.ts';
import { UDP, log, request, setup, wire } from './transaction-fixtures.ts';
import type { Target } from './transaction-fixtures.ts';

/** A layer with `sendBytes`: what the endpoint uses. */
function bytesSetup() {
  const txs: Array<ServerTransaction<Target>> = [];
  const bytes: Array<{ at: number; data: Buffer; target: Target }> = [];
  const env = setup({
    onRequest: (_req, tx) => { txs.push(tx); },
    sendBytes: (data, target) => { bytes.push({ at: env.timers.now(), data, target }); },
  });
  return { ...env, txs, bytes };
}

const REGISTER = () => request({ method: 'REGISTER', uri: 'sip:biloxi.com' });

describe('completed server transactions keep only the response bytes (Timer J memory)', () => {
  test('non-INVITE final over UDP: the transaction hands its bytes to the layer and ends; retransmissions get the same bytes until Timer J', () => {
    const { layer, timers, txs, bytes, sent } = bytesSetup();
    const reg = REGISTER();
    const ended: string[] = [];
    layer.receiveRequest(reg, UDP);
    const tx = txs[0]!;
    tx.onTerminated = (_t, reason) => ended.push(reason);
    assert.equal(tx.request, reg);
    const res = createResponse(reg, 200, 'OK', { headers: { Contact: '<sip:bob@192.0.2.4>;expires=3600' } });
    const wireBytes = res.toBuffer();
    tx.respond(res);
    assert.equal(tx.state, 'Terminated', 'nothing of the object is needed any more');
    assert.deepEqual(ended, ['completed'], 'the TU hears the end at once');
    assert.equal(tx.request, undefined);
    assert.equal(tx.lastResponse, undefined);
    assert.equal(tx.lastStatus, 200);
    assert.equal(sent.length, 0, 'the SipMessage path is not used when sendBytes exists');
    assert.equal(bytes.length, 1);
    assert.deepEqual(bytes[0]!.data, wireBytes);
    assert.equal(bytes[0]!.target, UDP);
    assert.equal(layer.size, 1, 'the layer still counts it: Completed until Timer J');
    assert.equal(layer.hasServerTransaction(tx.key), true);

    // A retransmitted REGISTER gets the identical bytes, from the layer; the TU sees nothing.
    timers.advance(500);
    layer.receiveRequest(REGISTER(), UDP);
    assert.equal(bytes.length, 2);
    assert.deepEqual(bytes[1]!.data, wireBytes);
    assert.equal(layer.counters.retransmissions, 1);
    assert.equal(txs.length, 1, 'no new transaction');

    // Timer J (64*T1) still ends it: then the same request is a new one.
    timers.advance(32_000 - 500 - 1);
    assert.equal(layer.size, 1);
    timers.advance(1);
    assert.equal(layer.size, 0);
    assert.equal(layer.hasServerTransaction(tx.key), false);
    layer.receiveRequest(REGISTER(), UDP);
    assert.equal(txs.length, 2);
    layer.close();
    assert.equal(layer.size, 0);
  });

  test('a 401/407 challenge over UDP is stateless: nothing is kept, a retransmission reaches the TU and is challenged anew', () => {
    for (const status of [401, 407]) {
      const { layer, txs, bytes } = bytesSetup();
      layer.receiveRequest(REGISTER(), UDP);
      const header = status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate';
      txs[0]!.respond(createResponse(txs[0]!.request!, status, 'Challenge', { headers: { [header]: 'Digest realm="biloxi.com", nonce="n1"' } }));
      assert.equal(txs[0]!.state, 'Terminated');
      assert.equal(bytes.length, 1);
      assert.equal(layer.size, 0, 'no bytes linger for Timer J');
      layer.receiveRequest(REGISTER(), UDP);
      assert.equal(txs.length, 2, 'the retransmission is a new request for the TU');
      assert.equal(layer.counters.retransmissions, 0);
      txs[1]!.respond(createResponse(txs[1]!.request!, status, 'Challenge', { headers: { [header]: 'Digest realm="biloxi.com", nonce="n2"' } }));
      assert.equal(bytes.length, 2);
      assert.match(bytes[1]!.data.toString('latin1'), /nonce="n2"/);
      layer.close();
    }
  });

  test('Timer J expiries keep their order through bursts (the ring grows and shrinks)', () => {
    const { layer, timers, txs, bytes } = bytesSetup();
    for (let i = 0; i < 3000; i++) {
      const reg = request({ method: 'REGISTER', uri: 'sip:biloxi.com', branch: `z9hG4bKburst${i}` });
      layer.receiveRequest(reg, UDP);
      txs[i]!.respond(createResponse(reg, 200));
      if (i % 1000 === 999) timers.advance(1000);
    }
    assert.equal(layer.size, 3000);
    timers.advance(32_000 - 3000);
    assert.equal(layer.size, 2000, 'the first thousand expired at 32 s');
    layer.receiveRequest(request({ method: 'REGISTER', uri: 'sip:biloxi.com', branch: 'z9hG4bKburst2999' }), UDP);
    assert.equal(bytes.length, 3001, 'a late one is still absorbed');
    timers.advance(2000);
    assert.equal(layer.size, 0);
    layer.close();
  });

  test('over TCP the transaction ends at once (Timer J is 0) and keeps nothing', () => {
    const { layer, txs } = bytesSetup();
    const reg = REGISTER();
    layer.receiveRequest(reg, { ...UDP, protocol: 'tcp' });
    txs[0]!.respond(createResponse(reg, 200));
    assert.equal(layer.size, 0);
    layer.close();
  });

  test('a provisional keeps the request (a final answer is still to come)', () => {
    const { layer, txs, bytes } = bytesSetup();
    const reg = REGISTER();
    layer.receiveRequest(reg, UDP);
    const tx = txs[0]!;
    tx.respond(createResponse(reg, 183));
    assert.equal(tx.request, reg);
    assert.equal(tx.lastResponse?.status, 183);
    assert.equal(tx.lastStatus, 183);
    // Request retransmission in Proceeding resends the provisional.
    layer.receiveRequest(REGISTER(), UDP);
    assert.equal(bytes.length, 2);
    assert.equal(bytes[1]!.data, bytes[0]!.data);
    tx.respond(createResponse(reg, 200));
    assert.equal(tx.request, undefined);
    assert.equal(tx.lastStatus, 200);
    assert.match(bytes[2]!.data.toString(), /^SIP\/2\.0 200 OK\r\n/);
    layer.close();
  });

  test('INVITE non-2xx: request and response object released, the bytes kept for Timer G and retransmitted INVITEs', () => {
    const { layer, txs, bytes } = bytesSetup();
    const inv = request();
    layer.receiveRequest(inv, UDP);
    const tx = txs[0]!;
    tx.respond(createResponse(inv, 486, undefined, { toTag: 't' }));
    assert.equal(tx.state, 'Completed');
    assert.equal(tx.request, undefined);
    assert.equal(tx.lastResponse, undefined);
    assert.equal(tx.lastStatus, 486);
    assert.equal(tx.lastToTag, 't');
    layer.receiveRequest(request(), UDP);
    assert.equal(bytes.length, 2);
    assert.equal(bytes[1]!.data, bytes[0]!.data);
    // The ACK still matches (and ends Completed) without the response object.
    layer.receiveRequest(request({ method: 'ACK', toTag: 't' }), UDP);
    assert.equal(tx.state, 'Confirmed');
    layer.close();
  });

  test('INVITE 2xx: Accepted keeps no messages and no bytes (the TU retransmits its 2xx)', () => {
    const { layer, txs, bytes } = bytesSetup();
    const inv = request();
    layer.receiveRequest(inv, UDP);
    const tx = txs[0]!;
    tx.respond(createResponse(inv, 200, undefined, { toTag: 'ok' }));
    assert.equal(tx.state, 'Accepted');
    assert.equal(tx.request, undefined);
    assert.equal(tx.lastResponse, undefined);
    assert.equal(tx.lastStatus, 200);
    assert.equal(tx.lastToTag, 'ok');
    // A retransmitted INVITE is absorbed (RFC 6026 §8.7), a TU retransmission goes out.
    layer.receiveRequest(request(), UDP);
    assert.equal(bytes.length, 1);
    tx.respond(createResponse(inv, 200, undefined, { toTag: 'ok' }));
    assert.equal(bytes.length, 2);
    layer.close();
  });

  test('without sendBytes nothing is released (messages go through send)', () => {
    const txs: Array<ServerTransaction<Target>> = [];
    const { layer, sent } = setup({ onRequest: (_req, tx) => { txs.push(tx); } });
    const reg = REGISTER();
    layer.receiveRequest(reg, UDP);
    const res = createResponse(reg, 200);
    txs[0]!.respond(res);
    assert.equal(txs[0]!.request, reg);
    assert.equal(txs[0]!.lastResponse, res);
    assert.equal(sent[0]!.msg, res);
    layer.close();
  });
});

describe('completed client transactions release the request (Timer D/K/M)', () => {
  const handlers = (seen: string[]) => ({ onResponse: (res: { status: number }) => { seen.push(String(res.status)); } });

  test('non-INVITE: request released at the final response; the TU still gets it, Timer K ends it', () => {
    const { layer, timers } = setup();
    const seen: string[] = [];
    const opt = request({ method: 'OPTIONS' });
    const tx = layer.request(opt, UDP, handlers(seen));
    assert.equal(tx.request, opt);
    layer.receiveResponse(wire(createResponse(opt, 200, undefined, { toTag: 'x' })), UDP);
    assert.deepEqual(seen, ['200']);
    assert.equal(tx.state, 'Completed');
    assert.equal(tx.request, undefined);
    assert.equal(tx.lastResponse, undefined);
    assert.equal(tx.lastStatus, 200);
    timers.advance(5000);
    assert.equal(tx.terminationReason, 'completed');
    layer.close();
  });

  test('INVITE non-2xx: request released after the ACK is built; a retransmitted final gets the same ACK', () => {
    const { layer, sent } = setup();
    const inv = request();
    const tx = layer.request(inv, UDP, handlers([]));
    const busy = wire(createResponse(inv, 486, undefined, { toTag: 'b' }));
    layer.receiveResponse(busy, UDP);
    assert.equal(tx.request, undefined);
    layer.receiveResponse(busy, UDP);
    assert.deepEqual(log(sent), ['0 INVITE sip:bob@biloxi.com SIP/2.0', '0 ACK sip:bob@biloxi.com SIP/2.0', '0 ACK sip:bob@biloxi.com SIP/2.0']);
    assert.equal(sent[2]!.msg, sent[1]!.msg);
    layer.close();
  });

  test('release(): a lingering INVITE in Accepted no longer reaches its TU', () => {
    const { layer } = setup();
    const seen: string[] = [];
    const inv = request();
    const tx = layer.request(inv, UDP, handlers(seen));
    const ok = createResponse(inv, 200, undefined, { toTag: 'a' });
    layer.receiveResponse(wire(ok), UDP);
    assert.equal(tx.state, 'Accepted');
    layer.receiveResponse(wire(ok), UDP);
    assert.deepEqual(seen, ['200', '200'], 'before release, 2xx retransmissions reach the TU (to re-ACK)');
    tx.release();
    layer.receiveResponse(wire(ok), UDP);
    assert.deepEqual(seen, ['200', '200']);
    assert.equal(tx.state, 'Accepted');
    assert.equal(tx.lastResponse, undefined);
    layer.close();
  });
});
