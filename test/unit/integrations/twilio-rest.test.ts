import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTwilioRest, TwilioRestError } from '../../../src/integrations/twilio/rest-client.ts';
import { FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN, startFakeTwilio, type FakeTwilio } from '../../helpers/fake-twilio.ts';

describe('Twilio REST adapter against the local fake', () => {
  let fake: FakeTwilio;
  const rest = () => createTwilioRest({ accountSid: FAKE_ACCOUNT_SID, authToken: FAKE_AUTH_TOKEN, apiBase: fake.url, timeoutMs: 2000 });
  before(async () => { fake = await startFakeTwilio(); });
  after(async () => { await fake.close(); });

  test('lists every number across pages (the SDK follows next_page_uri through the rebased client)', async () => {
    fake.setNumbers(Array.from({ length: 130 }, (_, i) => ({ phone_number: `+1555000${String(i).padStart(4, '0')}`, capabilities: { sms: i % 2 === 0 } })));
    fake.requests.length = 0;
    const list = await rest().listIncomingNumbers();
    assert.equal(list.length, 130);
    assert.deepEqual(list[1]!.capabilities, { voice: true, sms: false, mms: false });
    assert.match(list[0]!.sid, /^PN[0-9a-f]{32}$/);
    const reqs = fake.requestsTo('GET', /IncomingPhoneNumbers\.json$/);
    assert.deepEqual(reqs.map((r) => r.query.Page ?? '0'), ['0', '1']);
    assert.equal(reqs[0]!.query.PageSize, '100');
    assert.ok(reqs.every((r) => r.authorized && r.path === `/2010-04-01/Accounts/${FAKE_ACCOUNT_SID}/IncomingPhoneNumbers.json`));
  });

  test('creates and fetches a message; media URLs go as repeated MediaUrl fields', async () => {
    fake.requests.length = 0;
    const m = await rest().createMessage({ from: '+15550001111', to: '+15550002222', body: 'hé', mediaUrls: ['https://a.example/1.png', 'https://a.example/2.png'], statusCallback: 'https://pbx.example/api/webhooks/sms/status' });
    assert.equal(m.status, 'queued');
    const [req] = fake.requestsTo('POST', /Messages\.json$/);
    assert.deepEqual(req!.form, { From: '+15550001111', To: '+15550002222', Body: 'hé', MediaUrl: ['https://a.example/1.png', 'https://a.example/2.png'], StatusCallback: 'https://pbx.example/api/webhooks/sms/status' });
    fake.messages.get(m.sid)!.status = 'delivered';
    assert.equal((await rest().fetchMessage(m.sid)).status, 'delivered');
  });

  test('5xx and unreachable are retryable; 4xx carry Twilio code and are not', async () => {
    fake.failNext(1, 503);
    const e5 = await rest().createMessage({ from: '+15550001111', to: '+15550002222', body: 'x' }).catch((e) => e);
    assert.ok(e5 instanceof TwilioRestError);
    assert.equal(e5.status, 503);
    assert.equal(e5.retryable, true);
    fake.rejectNextMessage(400, 21211, "The 'To' number +1555 is not a valid phone number.");
    const e4 = await rest().createMessage({ from: '+15550001111', to: '+1555', body: 'x' }).catch((e) => e);
    assert.deepEqual([e4.status, e4.code, e4.retryable, e4.message], [400, 21211, false, "The 'To' number +1555 is not a valid phone number."]);
    const bad = await createTwilioRest({ accountSid: FAKE_ACCOUNT_SID, authToken: 'wrong', apiBase: fake.url }).fetchMessage('SM0').catch((e) => e);
    assert.deepEqual([bad.status, bad.code, bad.retryable], [401, 20003, false]);
    const down = await createTwilioRest({ accountSid: FAKE_ACCOUNT_SID, authToken: FAKE_AUTH_TOKEN, apiBase: 'http://127.0.0.1:1' }).fetchMessage('SM0').catch((e) => e);
    assert.equal(down.retryable, true);
    assert.equal(down.status, null);
    assert.match(down.message, /unreachable/);
  });
});
