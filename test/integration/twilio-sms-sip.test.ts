import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage } from '../../src/sip/parse-message.ts';
import { createResponse } from '../../src/sip/message-build.ts';
import { FAKE_ACCOUNT_SID } from '../helpers/fake-twilio.ts';
import { startTwilioTestServer, type TwilioTestServer } from '../helpers/twilio-server.ts';
import { PASSWORD, SipTestClient } from './sip-client.ts';

describe('inbound SMS relayed to the DID\'s registered phones as SIP MESSAGE (RFC 3428)', () => {
  let s: TwilioTestServer;
  let phone: SipTestClient;
  before(async () => {
    s = await startTwilioTestServer('sqlite');
    const dev = await s.t.request('POST', '/api/devices', { cookie: s.t.adminCookie, body: { name: 'Desk', username: '1001', password: PASSWORD } });
    const did = await s.t.request('POST', '/api/dids', { cookie: s.t.adminCookie, body: { phone_number: '+15551230001', capabilities: ['voice', 'sms', 'mms'] } });
    const route = await s.t.request('POST', '/api/routes', { cookie: s.t.adminCookie, body: { name: 'Desk', did_id: did.body.id, action: 'ring', action_data: { device_ids: [dev.body.id] } } });
    assert.equal(route.status, 201, JSON.stringify(route.body));
    phone = await SipTestClient.udp(s.t.sipPort);
    const reg = await phone.register({ user: '1001' });
    assert.equal(reg.final.status, 200);
  });
  after(async () => { await phone?.close(); await s?.close(); });

  const params = {
    MessageSid: 'MM' + '7'.repeat(32), AccountSid: FAKE_ACCOUNT_SID, From: '+15557770000', To: '+15551230001',
    Body: 'Héllo <b>', NumMedia: '1', MediaUrl0: 'https://api.twilio.com/media/ME1',
  };

  test('the phone gets one MESSAGE with the text and media URLs; its 200 ends the transaction', async () => {
    const r = await s.webhook('sms/incoming', params);
    assert.equal(r.status, 200);
    const raw = await phone.nextRaw(3000);
    assert.ok(raw, 'a MESSAGE arrived');
    const msg = parseMessage(raw);
    assert.equal(msg.method, 'MESSAGE');
    assert.equal(msg.requestUriText, `sip:1001@127.0.0.1:${phone.localPort};transport=udp`);
    assert.match(msg.getHeader('from')!, /^<sip:\+15557770000@strowger\.test>;tag=/);
    assert.equal(msg.getHeader('to'), '<sip:1001@strowger.test>');
    assert.equal(msg.getHeader('content-type'), 'text/plain;charset=UTF-8');
    assert.equal(msg.body.toString('utf8'), 'Héllo <b>\nhttps://api.twilio.com/media/ME1');
    phone.send(createResponse(msg, 200).toBuffer());
    assert.equal(await phone.silence(700), null, 'no retransmission after the 200');
  });

  test('a webhook Twilio retries (same MessageSid) is not relayed again', async () => {
    assert.equal((await s.webhook('sms/incoming', params)).status, 200);
    assert.equal(await phone.silence(700), null);
  });
});
