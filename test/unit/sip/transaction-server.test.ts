import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createResponse } from '../../../src/sip/message-build.ts';
import type { ServerTransaction } from '../../../src/sip/transaction-server.ts';
import type { TerminationReason } from '../../../src/sip/transaction-base.ts';
import { TransactionError } from '../../../src/sip/transaction-errors.ts';
import { TCP, UDP, log, parse, request, setup, wire } from './transaction-fixtures.ts';
import type { Target } from './transaction-fixtures.ts';

/** Layer whose TU keeps the server transactions it is given. */
function serverSetup(options: Parameters<typeof setup>[0] = {}) {
  const txs: Array<ServerTransaction<Target>> = [];
  const ended: TerminationReason[] = [];
  const env = setup({
    onRequest: (req, tx) => {
      env.requests.push(req);
      tx.onTerminated = (_t, reason) => ended.push(reason);
      txs.push(tx);
    },
    ...options,
  });
  return { ...env, txs, ended };
}

const ACK_FOR = (toTag: string, extra: Parameters<typeof request>[0] = {}) =>
  request({ method: 'ACK', toTag, cseqMethod: 'ACK', ...extra });

describe('INVITE server transaction (§17.2.1, RFC 6026)', () => {
  test('100 Trying sent by the transaction when the TU is silent for 200 ms', () => {
    const { layer, timers, sent, txs } = serverSetup();
    layer.receiveRequest(request(), UDP);
    timers.advance(199);
    assert.equal(sent.length, 0);
    timers.advance(1);
    assert.deepEqual(log(sent), ['200 SIP/2.0 100 Trying']);
    assert.equal(sent[0].msg.toTag, null);
    assert.equal(sent[0].target, UDP);
    // A retransmitted INVITE now gets the 100 again, and the TU sees one request.
    layer.receiveRequest(request(), UDP);
    assert.deepEqual(log(sent), ['200 SIP/2.0 100 Trying', '200 SIP/2.0 100 Trying']);
    assert.equal(txs.length, 1);
    layer.close();
  });

  test('no 100 Trying when the TU answers within 200 ms', () => {
    const { layer, timers, sent, txs } = serverSetup();
    const inv = request();
    layer.receiveRequest(inv, UDP);
    timers.advance(50);
    txs[0].respond(createResponse(inv, 180, undefined, { toTag: 't' }));
    timers.advance(1000);
    assert.deepEqual(log(sent), ['50 SIP/2.0 180 Ringing']);
    layer.close();
  });

  test('tryingDelayMs: 0 sends 100 Trying at once', () => {
    const { layer, sent } = serverSetup({ tryingDelayMs: 0 });
    layer.receiveRequest(request(), UDP);
    assert.deepEqual(log(sent), ['0 SIP/2.0 100 Trying']);
    layer.close();
  });

  test('3xx-6xx over UDP: G doubles to T2, H at 64*T1 terminates with timeout', () => {
    const { layer, timers, sent, txs, ended } = serverSetup();
    const inv = request();
    layer.receiveRequest(inv, UDP);
    txs[0].respond(createResponse(inv, 486, undefined, { toTag: 't' }));
    assert.equal(txs[0].state, 'Completed');
    timers.advance(32_000);
    assert.deepEqual(
      sent.map((s) => s.at),
      [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500],
    );
    assert.ok(sent.every((s) => s.msg.status === 486));
    assert.equal(txs[0].state, 'Terminated');
    assert.deepEqual(ended, ['timeout']);
    assert.equal(layer.counters.timeouts, 1);
    assert.equal(layer.size, 0);
    assert.equal(timers.size, 0);
  });

  test('ACK -> Confirmed: G and H stop, ACKs absorbed, timer I = T4', () => {
    const { layer, timers, sent, txs, ended, acks } = serverSetup();
    const inv = request();
    layer.receiveRequest(inv, UDP);
    txs[0].respond(createResponse(inv, 404, undefined, { toTag: 't' }));
    timers.advance(600);
    layer.receiveRequest(ACK_FOR('t'), UDP);
    assert.equal(txs[0].state, 'Confirmed');
    layer.receiveRequest(ACK_FOR('t'), UDP);
    layer.receiveRequest(request(), UDP); // INVITE retransmission absorbed too
    assert.equal(acks.length, 0);
    timers.advance(4_999);
    assert.equal(txs[0].state, 'Confirmed');
    timers.advance(1);
    assert.equal(txs[0].state, 'Terminated');
    assert.deepEqual(ended, ['completed']);
    assert.deepEqual(sent.map((s) => s.at), [0, 500]);
    assert.equal(layer.size, 0);
    assert.equal(timers.size, 0);
  });

  test('TCP: no G; ACK terminates at once (I = 0)', () => {
    const { layer, timers, sent, txs } = serverSetup();
    const inv = request();
    layer.receiveRequest(inv, TCP);
    txs[0].respond(createResponse(inv, 480, undefined, { toTag: 't' }));
    timers.advance(10_000);
    assert.equal(sent.length, 1);
    layer.receiveRequest(ACK_FOR('t'), TCP);
    assert.equal(txs[0].state, 'Terminated');
    assert.equal(layer.size, 0);
    assert.equal(timers.size, 0);
  });

  test('2xx -> Accepted: INVITE retransmissions absorbed, TU 2xx retransmissions sent, 2xx ACK to the core, L ends it', () => {
    const { layer, timers, sent, txs, requests, acks, ended } = serverSetup();
    const inv = request();
    layer.receiveRequest(inv, UDP);
    const ok = createResponse(inv, 200, undefined, { toTag: 'as' });
    txs[0].respond(ok);
    assert.equal(txs[0].state, 'Accepted');
    layer.receiveRequest(request(), UDP);
    assert.equal(requests.length, 1); // RFC 6026: not a new request for the TU
    assert.equal(sent.length, 1); // and no 2xx retransmission by the transaction
    timers.advance(500);
    txs[0].respond(ok); // the UAS core retransmits 2xx (§13.3.1.4)
    assert.equal(sent.length, 2);
    assert.throws(() => txs[0].respond(createResponse(inv, 180)), (e: unknown) => e instanceof TransactionError && e.code === 'SIP_ERR_TRANSACTION_STATE');
    // The ACK for 2xx has its own branch: no transaction, goes to onAck.
    layer.receiveRequest(ACK_FOR('as', { branch: 'z9hG4bKack2xx' }), UDP);
    assert.equal(acks.length, 1);
    assert.equal(txs[0].state, 'Accepted');
    timers.advance(31_499);
    assert.equal(txs[0].state, 'Accepted');
    timers.advance(1);
    assert.equal(txs[0].state, 'Terminated');
    assert.deepEqual(ended, ['completed']);
    assert.equal(layer.size, 0);
    assert.equal(timers.size, 0);
  });

  test('Accepted: an ACK reusing the INVITE branch is passed to the TU (RFC 6026 §8.7)', () => {
    const { layer, txs, acks } = serverSetup();
    const inv = request();
    layer.receiveRequest(inv, UDP);
    txs[0].respond(createResponse(inv, 200, undefined, { toTag: 'as' }));
    layer.receiveRequest(ACK_FOR('as'), UDP);
    assert.equal(acks.length, 1);
    assert.equal(layer.counters.strayAcks, 0);
    layer.close();
  });

  test('transport error: terminates with transport_error; in Accepted the transaction lives on', () => {
    let fail = false;
    const errors: unknown[] = [];
    const { layer, txs, ended } = serverSetup({
      send: () => {
        if (fail) throw new Error('ECONNRESET');
      },
    });
    const inv = request();
    layer.receiveRequest(inv, UDP);
    txs[0].onTransportError = (_tx, err) => errors.push(err);
    fail = true;
    txs[0].respond(createResponse(inv, 500, undefined, { toTag: 't' }));
    assert.equal(txs[0].state, 'Terminated');
    assert.deepEqual(ended, ['transport_error']);
    assert.equal(errors.length, 1);

    fail = false;
    const inv2 = request({ branch: 'z9hG4bKsecond' });
    layer.receiveRequest(inv2, UDP);
    txs[1].onTransportError = (_tx, err) => errors.push(err);
    fail = true;
    txs[1].respond(createResponse(inv2, 200, undefined, { toTag: 'u' }));
    assert.equal(txs[1].state, 'Accepted');
    assert.equal(errors.length, 2);
    layer.close();
    assert.deepEqual(ended, ['transport_error', 'closed']);
    assert.equal(layer.size, 0);
  });

  test('respond() refuses requests and bad status codes', () => {
    const { layer, txs } = serverSetup();
    const inv = request();
    layer.receiveRequest(inv, UDP);
    assert.throws(() => txs[0].respond(inv), (e: unknown) => e instanceof TransactionError && e.code === 'SIP_ERR_TRANSACTION_INVALID');
    layer.close();
  });
});

describe('non-INVITE server transaction (§17.2.2)', () => {
  test('Trying absorbs retransmissions; final -> Completed resends it; J = 64*T1 on UDP', () => {
    const { layer, timers, sent, txs, requests, ended } = serverSetup();
    const reg = request({ method: 'REGISTER' });
    layer.receiveRequest(reg, UDP);
    layer.receiveRequest(request({ method: 'REGISTER' }), UDP);
    assert.equal(sent.length, 0);
    assert.equal(requests.length, 1);
    timers.advance(1000);
    assert.equal(sent.length, 0); // no automatic 100 for non-INVITE
    txs[0].respond(createResponse(reg, 200, undefined, { toTag: 'r' }));
    layer.receiveRequest(request({ method: 'REGISTER' }), UDP);
    assert.deepEqual(log(sent), ['1000 SIP/2.0 200 OK', '1000 SIP/2.0 200 OK']);
    assert.equal(sent[1].msg, sent[0].msg);
    assert.throws(() => txs[0].respond(createResponse(reg, 500)), TransactionError);
    timers.advance(31_999);
    assert.equal(txs[0].state, 'Completed');
    timers.advance(1);
    assert.deepEqual(ended, ['completed']);
    assert.equal(layer.size, 0);
    assert.equal(timers.size, 0);
  });

  test('Proceeding resends the last provisional; TCP: J = 0', () => {
    const { layer, sent, txs, timers } = serverSetup();
    const sub = request({ method: 'SUBSCRIBE' });
    layer.receiveRequest(sub, TCP);
    txs[0].respond(createResponse(sub, 100));
    layer.receiveRequest(request({ method: 'SUBSCRIBE' }), TCP);
    assert.deepEqual(log(sent), ['0 SIP/2.0 100 Trying', '0 SIP/2.0 100 Trying']);
    txs[0].respond(createResponse(sub, 202, undefined, { toTag: 's' }));
    assert.equal(txs[0].state, 'Terminated');
    assert.equal(layer.size, 0);
    assert.equal(timers.size, 0);
  });
});

describe('server matching (§17.2.3) and CANCEL (§9.2)', () => {
  test('CANCEL has its own transaction; findInviteForCancel returns the INVITE one', () => {
    const { layer, txs, sent, timers } = serverSetup();
    const inv = request();
    layer.receiveRequest(inv, UDP);
    const cancel = request({ method: 'CANCEL' });
    layer.receiveRequest(cancel, UDP);
    assert.equal(txs.length, 2);
    assert.equal(layer.serverCount, 2);
    const target = layer.findInviteForCancel(cancel);
    assert.equal(target, txs[0]);
    assert.equal(layer.findInviteForCancel(request({ method: 'CANCEL', branch: 'z9hG4bKnope' })), undefined);
    // The TU: 200 to the CANCEL, 487 to the INVITE.
    txs[1].respond(createResponse(cancel, 200, undefined, { toTag: 'c' }));
    target!.respond(createResponse(inv, 487, undefined, { toTag: 'c' }));
    assert.deepEqual(log(sent), ['0 SIP/2.0 200 OK', '0 SIP/2.0 487 Request Terminated']);
    assert.equal(sent[0].msg.cseq.method, 'CANCEL');
    layer.receiveRequest(ACK_FOR('c'), UDP);
    assert.equal(txs[0].state, 'Confirmed');
    timers.runAll();
    assert.equal(layer.size, 0);
  });

  test('same branch, different sent-by -> different transactions', () => {
    const { layer, txs } = serverSetup();
    layer.receiveRequest(request({ method: 'OPTIONS', sentBy: 'a.example.com' }), UDP);
    layer.receiveRequest(request({ method: 'OPTIONS', sentBy: 'b.example.com:5070' }), UDP);
    assert.equal(txs.length, 2);
    layer.close();
  });

  test('RFC 2543 request (no magic cookie): matched by R-URI, tags, Call-ID, CSeq, top Via', () => {
    const { layer, txs, acks, timers } = serverSetup();
    const inv = request({ branch: null });
    layer.receiveRequest(inv, UDP);
    layer.receiveRequest(request({ branch: null }), UDP);
    assert.equal(txs.length, 1);
    layer.receiveRequest(request({ branch: null, cseq: 314160 }), UDP); // new CSeq: new transaction
    assert.equal(txs.length, 2);
    txs[0].respond(createResponse(inv, 603, undefined, { toTag: 'old' }));
    // ACK with another To tag does not match (it would ACK someone else's response).
    layer.receiveRequest(ACK_FOR('other', { branch: null }), UDP);
    assert.equal(acks.length, 1);
    assert.equal(txs[0].state, 'Completed');
    layer.receiveRequest(ACK_FOR('old', { branch: null }), UDP);
    assert.equal(txs[0].state, 'Confirmed');
    timers.runAll();
    assert.equal(txs[0].state, 'Terminated');
    // An unanswered INVITE stays in Proceeding: answering (or Timer C in a proxy) is the TU's job.
    assert.equal(txs[1].state, 'Proceeding');
    assert.equal(layer.size, 1);
    layer.close();
    assert.equal(layer.size, 0);
  });

  test('a raw RFC 3261 retransmission arriving over the wire matches', () => {
    const { layer, txs, sent } = serverSetup();
    const text = request().toString();
    layer.receiveRequest(parse(text), UDP);
    txs[0].respond(createResponse(txs[0].request!, 180, undefined, { toTag: 't' }));
    layer.receiveRequest(parse(text), UDP);
    assert.deepEqual(log(sent), ['0 SIP/2.0 180 Ringing', '0 SIP/2.0 180 Ringing']);
    assert.equal(wire(sent[1].msg).toTag, 't');
    layer.close();
    assert.equal(layer.size, 0);
  });
});
