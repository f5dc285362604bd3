import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage } from '../../../src/sip/parse-message.ts';
import { createResponse } from '../../../src/sip/message-build.ts';
import { loadResponse, storeResponse } from '../../../src/sip/response-tail.ts';

const crlf = (lines: string[]): Buffer => Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');

const REGISTER = crlf([
  'REGISTER sip:example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.4:5062;branch=z9hG4bK-abc;rport',
  'Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK-outer',
  'Max-Forwards: 70',
  'From: <sip:1001@example.com>;tag=f1',
  't: <sip:1001@example.com>',
  'Call-ID: reg-1@192.0.2.4',
  'CSeq: 2 REGISTER',
  'Contact: <sip:1001@192.0.2.4:5062>',
  'Content-Length: 0',
]);

describe('response-tail: completed responses without the copies of the request', () => {
  test('a 200 to REGISTER is stored as its tail and rebuilt byte for byte from the retransmission', () => {
    const res = createResponse(parseMessage(REGISTER), 200, 'OK', { toTag: 'srv1', headers: { Contact: '<sip:1001@192.0.2.4:5062>;expires=3600', Server: 'Strowger' } });
    const bytes = res.toBuffer();
    const stored = storeResponse(bytes);
    assert.equal(stored.toString('latin1')[0], 'T');
    assert.ok(stored.length < bytes.length * 0.6, `${stored.length} of ${bytes.length}`);
    assert.ok(!stored.toString('latin1').includes('reg-1@192.0.2.4'), 'Call-ID not kept');
    assert.deepEqual(loadResponse(stored, parseMessage(REGISTER)), bytes);
  });

  test('a request with a To tag (in a dialog) gets its To copied as the first time', () => {
    const inDialog = Buffer.from(REGISTER.toString('latin1').replace('t: <sip:1001@example.com>', 'To: <sip:1001@example.com>;tag=dlg9').replace('REGISTER sip', 'MESSAGE sip').replace('2 REGISTER', '2 MESSAGE'), 'latin1');
    const bytes = createResponse(parseMessage(inDialog), 202, 'Accepted').toBuffer();
    const stored = storeResponse(bytes);
    assert.equal(stored.toString('latin1')[0], 'T');
    assert.deepEqual(loadResponse(stored, parseMessage(inDialog)), bytes);
  });

  test('copies after CSeq (Record-Route of a dialog-creating 2xx) stay in the tail; anything else in the head is kept whole', () => {
    const sub = Buffer.from(REGISTER.toString('latin1').replace('REGISTER sip', 'SUBSCRIBE sip').replace('2 REGISTER', '2 SUBSCRIBE').replace('Max-Forwards: 70', 'Max-Forwards: 70\r\nRecord-Route: <sip:proxy.example.com;lr>\r\nEvent: presence'), 'latin1');
    const rr = createResponse(parseMessage(sub), 200, 'OK', { toTag: 's' }).toBuffer().toString('latin1');
    assert.match(rr, /Record-Route/);
    assert.equal(loadResponse(storeResponse(Buffer.from(rr, 'latin1')), parseMessage(sub))!.toString('latin1'), rr);
    const odd = 'SIP/2.0 200 OK\r\nFrom: <sip:a@b>;tag=1\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n';
    const untagged = 'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n';
    for (const whole of [odd, untagged, 'garbage']) {
      const stored = storeResponse(Buffer.from(whole, 'latin1'));
      assert.equal(stored.toString('latin1'), 'W' + whole);
      assert.equal(loadResponse(stored, parseMessage(sub))!.toString('latin1'), whole);
    }
  });

  test('the To tag is read off the octets as the pattern /;tag=([^;>\\s\\u0000]+)$/ reads it', () => {
    const head = 'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\n';
    const rest = '\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n';
    const toValues = [
      '<sip:a@b>;tag=2', '<sip:a@b>;tag=a=b', '<sip:a@b>;xtag=2', '<sip:a@b>;tag=', '<sip:a@b>;tag=;tag=z', 'tag=2',
      '<sip:a@b>;tag=2 ', '<sip:a@b>;tag=x\ty', '<sip:a@b;tag=in-uri>', 'sip:a@b;tag=\u00e9t\u00e9', 'sip:a@b;TAG=2', '<sip:a@b>;tag=x\u00a0y',
    ];
    for (const to of toValues) {
      const whole = `${head}To: ${to}${rest}`;
      const tag = /;tag=([^;>\s\u0000]+)$/.exec(`To: ${to}`)?.[1];
      const stored = storeResponse(Buffer.from(whole, 'latin1')).toString('latin1');
      if (tag === undefined) assert.equal(stored, 'W' + whole, to);
      else assert.equal(stored.split('\u0000')[1], tag, to);
    }
  });
});
