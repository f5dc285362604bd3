import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage } from '../../../src/sip/parse-message.ts';
import { Dialog, dialogKey } from '../../../src/sip/dialog.ts';

const msg = (s: string) => parseMessage(Buffer.from(s.replace(/\r?\n/g, '\r\n')));

const INVITE = msg(`INVITE sip:bob@biloxi.example.com SIP/2.0
Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8
Max-Forwards: 70
To: Bob <sip:bob@biloxi.example.com>
From: Alice <sip:alice@atlanta.example.com>;tag=1928301774
Call-ID: a84b4c76e66710
CSeq: 314159 INVITE
Contact: <sip:alice@pc33.atlanta.example.com>
Record-Route: <sip:p2.example.com;lr>, <sip:p1.example.com;lr>
Content-Length: 0

`);

const OK = msg(`SIP/2.0 200 OK
Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8
To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf
From: Alice <sip:alice@atlanta.example.com>;tag=1928301774
Call-ID: a84b4c76e66710
CSeq: 314159 INVITE
Contact: <sip:bob@192.0.2.4>
Record-Route: <sip:p2.example.com;lr>, <sip:p1.example.com;lr>
Content-Length: 0

`);

describe('Dialog (RFC 3261 §12)', () => {
  test('UAS side: ids, remote target from Contact, route set in Record-Route order (§12.1.1)', () => {
    const d = Dialog.asUas(INVITE, 'ourtag');
    assert.equal(d.key, dialogKey('a84b4c76e66710', 'ourtag', '1928301774'));
    assert.equal(d.remoteTarget.host, 'pc33.atlanta.example.com');
    assert.deepEqual(d.routeSet.map((r) => r.uri.host), ['p2.example.com', 'p1.example.com']);
    assert.equal(d.remoteSeq, 314159);
  });

  test('UAC side: route set reversed (§12.1.2), remote target from the 2xx Contact', () => {
    const d = Dialog.asUac(INVITE, OK);
    assert.equal(d.localTag, '1928301774');
    assert.equal(d.remoteTag, 'a6c85cf');
    assert.equal(d.remoteTarget.host, '192.0.2.4');
    assert.deepEqual(d.routeSet.map((r) => r.uri.host), ['p1.example.com', 'p2.example.com']);
  });

  test('in-dialog request: Request-URI = remote target, Route = route set, tags, next CSeq (§12.2.1.1)', () => {
    const d = Dialog.asUac(INVITE, OK);
    const bye = d.createRequest('BYE');
    assert.equal(bye.method, 'BYE');
    assert.equal(bye.requestUriText, 'sip:bob@192.0.2.4');
    assert.deepEqual(bye.getHeaders('route'), ['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
    assert.equal(bye.fromTag, '1928301774');
    assert.equal(bye.toTag, 'a6c85cf');
    assert.equal(bye.callId, 'a84b4c76e66710');
    assert.deepEqual(bye.cseq, { seq: 314160, method: 'BYE' });
    const ack = d.createRequest('ACK', { cseq: 314159 });
    assert.deepEqual(ack.cseq, { seq: 314159, method: 'ACK' });
    assert.equal(d.createRequest('INFO').cseq.seq, 314161);
  });

  test('remote CSeq must not go backwards (§12.2.2); ACK/CANCEL are exempt', () => {
    const d = Dialog.asUas(INVITE, 'ourtag');
    const lower = msg(`BYE sip:x@y SIP/2.0
Via: SIP/2.0/UDP h;branch=z9hG4bK1
To: <sip:bob@biloxi.example.com>;tag=ourtag
From: <sip:alice@atlanta.example.com>;tag=1928301774
Call-ID: a84b4c76e66710
CSeq: 100 BYE
Max-Forwards: 70
Content-Length: 0

`);
    assert.equal(d.acceptRemoteSeq(lower), false);
    const higher = msg(lower.toString().replace('CSeq: 100 BYE', 'CSeq: 314160 BYE'));
    assert.equal(d.acceptRemoteSeq(higher), true);
    assert.equal(d.remoteSeq, 314160);
  });

  test('target refresh takes the new Contact', () => {
    const d = Dialog.asUac(INVITE, OK);
    d.refreshTarget(msg(OK.toString().replace('<sip:bob@192.0.2.4>', '<sip:bob@198.51.100.9:5070>')));
    assert.equal(d.remoteTarget.host, '198.51.100.9');
    assert.equal(d.remoteTarget.port, 5070);
  });
});
