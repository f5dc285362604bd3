import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN, postWebhook, twilioSignature } from '../helpers/fake-twilio.ts';
import { PUBLIC_URL, startTwilioTestServer, type TwilioTestServer } from '../helpers/twilio-server.ts';

const CALL_SID = 'CA' + 'c'.repeat(32);
const DID = '+15551230001';

describe('Twilio webhooks: X-Twilio-Signature against STROWGER_PUBLIC_URL', () => {
  let s: TwilioTestServer;
  before(async () => {
    s = await startTwilioTestServer('sqlite');
    await s.t.request('POST', '/api/dids', { cookie: s.t.adminCookie, body: { phone_number: DID, capabilities: ['voice', 'sms'] } });
  });
  after(async () => { await s?.close(); });

  const messageCount = async () => (await s.t.request('GET', '/api/messages', { cookie: s.t.adminCookie })).body.pagination.total;
  const callRow = (sid: string) => s.t.server.ctx.store.db.selectFrom('twilio_calls').selectAll().where('call_sid', '=', sid).executeTakeFirst();
  const sms = (n: number) => ({ MessageSid: 'SM' + String(n).padStart(32, '0'), AccountSid: FAKE_ACCOUNT_SID, From: '+15557770000', To: DID, Body: 'hi', NumMedia: '0' });

  test('a valid signature is accepted; tampered parameter, wrong URL, missing or garbage header → 403 and nothing stored', async () => {
    const params = sms(1);
    const signature = twilioSignature(FAKE_AUTH_TOKEN, `${PUBLIC_URL}/api/webhooks/sms/incoming`, params);
    const tampered = await s.webhook('sms/incoming', { ...params, Body: 'hi!' }, { signature });
    const extra = await s.webhook('sms/incoming', { ...params, NumMedia: '1', MediaUrl0: 'https://evil.example/x' }, { signature });
    const wrongUrl = await s.webhook('sms/incoming', params, { signedUrl: 'https://evil.example.com/api/webhooks/sms/incoming' });
    const localUrl = await s.webhook('sms/incoming', params, { signedUrl: `${s.t.baseUrl}/api/webhooks/sms/incoming` });
    const missing = await s.webhook('sms/incoming', params, { signature: null });
    const garbage = await s.webhook('sms/incoming', params, { signature: 'AAAA' });
    const otherToken = await postWebhook(`${s.t.baseUrl}/api/webhooks/sms/incoming`, params, { authToken: 'another-token', signedUrl: `${PUBLIC_URL}/api/webhooks/sms/incoming` });
    for (const [name, r] of Object.entries({ tampered, extra, wrongUrl, localUrl, missing, garbage, otherToken })) {
      assert.equal(r.status, 403, name);
      assert.deepEqual(JSON.parse(r.text), { error: { code: 'authorization_error', message: 'Invalid or missing X-Twilio-Signature', details: null } }, name);
    }
    assert.equal(await messageCount(), 0);
    const ok = await s.webhook('sms/incoming', params);
    assert.equal(ok.status, 200);
    assert.equal(await messageCount(), 1);
  });

  test('the query string is part of the signed URL', async () => {
    const params = sms(2);
    const r = await postWebhook(`${s.t.baseUrl}/api/webhooks/sms/incoming?tenant=a`, params, { signedUrl: `${PUBLIC_URL}/api/webhooks/sms/incoming?tenant=b` });
    assert.equal(r.status, 403);
    const ok = await postWebhook(`${s.t.baseUrl}/api/webhooks/sms/incoming?tenant=a`, params, { signedUrl: `${PUBLIC_URL}/api/webhooks/sms/incoming?tenant=a` });
    assert.equal(ok.status, 200);
  });

  test('voice/incoming dials the DID at our domain over SIP; caller-supplied values cannot inject TwiML', async () => {
    const callerName = '</Sip></Dial><Dial><Number>+19005550000</Number></Dial><Dial><Sip>sip:x@evil & "co"';
    const r = await s.webhook('voice/incoming', {
      CallSid: CALL_SID, AccountSid: FAKE_ACCOUNT_SID, From: '+15557770000</Dial>', To: DID, CallerName: callerName, CallStatus: 'ringing', Direction: 'inbound',
    });
    assert.equal(r.status, 200);
    assert.match(r.contentType!, /^text\/xml/);
    const m = /^<\?xml version="1\.0" encoding="UTF-8"\?><Response><Dial><Sip>([^<]*)<\/Sip><\/Dial><\/Response>$/.exec(r.text);
    assert.ok(m, r.text);
    assert.equal((r.text.match(/<Dial/g) ?? []).length, 1);
    assert.doesNotMatch(r.text, /<Number/);
    const uri = m[1]!.replace(/&amp;/g, '&');
    assert.doesNotMatch(m[1]!, /&(?!amp;)/, 'every & is escaped');
    const [target, query] = uri.split('?');
    assert.equal(target, `sip:${DID}@strowger.test:${s.t.sipPort}`);
    const headers = new URLSearchParams(query);
    assert.equal(headers.get('X-Strowger-Call-Sid'), CALL_SID);
    assert.equal(headers.get('X-Strowger-Caller-Name'), callerName, 'the name reaches the INVITE intact, percent-encoded');
    const row = await callRow(CALL_SID);
    assert.deepEqual([row?.status, row?.from_number, row?.to_number, row?.direction], ['ringing', '+15557770000</Dial>', DID, 'inbound']);
  });

  test('voice/incoming for a number that is not ours is rejected in TwiML', async () => {
    const r = await s.webhook('voice/incoming', { CallSid: 'CA' + 'd'.repeat(32), AccountSid: FAKE_ACCOUNT_SID, From: '+15557770000', To: '+15550000000' });
    assert.equal(r.text, '<?xml version="1.0" encoding="UTF-8"?><Response><Reject reason="rejected"/></Response>');
  });

  test('voice/status, recording and transcription callbacks update the call; a tampered one changes nothing', async () => {
    const status = await s.webhook('voice/status', { CallSid: CALL_SID, AccountSid: FAKE_ACCOUNT_SID, CallStatus: 'completed', CallDuration: '42' });
    assert.equal(status.status, 200);
    const rec = await s.webhook('recording', {
      CallSid: CALL_SID, AccountSid: FAKE_ACCOUNT_SID, RecordingSid: 'RE' + '1'.repeat(32), RecordingStatus: 'completed',
      RecordingUrl: `https://api.twilio.com/2010-04-01/Accounts/${FAKE_ACCOUNT_SID}/Recordings/RE${'1'.repeat(32)}`, RecordingDuration: '40',
    });
    assert.equal(rec.status, 200);
    const tr = await s.webhook('transcription', {
      CallSid: CALL_SID, AccountSid: FAKE_ACCOUNT_SID, TranscriptionSid: 'TR' + '2'.repeat(32), TranscriptionStatus: 'completed', TranscriptionText: 'Please call me back',
    });
    assert.equal(tr.status, 200);
    const signature = twilioSignature(FAKE_AUTH_TOKEN, `${PUBLIC_URL}/api/webhooks/voice/status`, { CallSid: CALL_SID, CallStatus: 'completed', CallDuration: '42' });
    const forged = await s.webhook('voice/status', { CallSid: CALL_SID, CallStatus: 'completed', CallDuration: '4200' }, { signature });
    assert.equal(forged.status, 403);
    const row = await callRow(CALL_SID);
    assert.deepEqual(
      [row?.status, row?.duration, row?.recording_status, row?.recording_duration, row?.transcription_text, row?.transcription_status, row?.from_number],
      ['completed', 42, 'completed', 40, 'Please call me back', 'completed', '+15557770000</Dial>'],
    );
  });

  test('a signed request missing a required field is a 400 (after the signature check)', async () => {
    const r = await s.webhook('voice/status', { AccountSid: FAKE_ACCOUNT_SID, CallStatus: 'completed' });
    assert.equal(r.status, 400);
    assert.deepEqual(JSON.parse(r.text).error.details, [{ field: 'CallSid', message: 'is required' }]);
  });

  test('sms/status for an unknown sid is accepted and stores nothing', async () => {
    const before_ = await messageCount();
    const r = await s.webhook('sms/status', { MessageSid: 'SM' + 'f'.repeat(32), MessageStatus: 'delivered' });
    assert.equal(r.status, 200);
    assert.equal(await messageCount(), before_);
  });
});

describe('Twilio webhooks without STROWGER_PUBLIC_URL: X-Forwarded-* only with STROWGER_TRUST_PROXY', () => {
  const params = { CallSid: 'CA' + 'e'.repeat(32), AccountSid: FAKE_ACCOUNT_SID, CallStatus: 'completed' };
  const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'pbx.example.com' };

  test('trust proxy off: the request URL counts, forwarded headers do not; unconfigured Twilio → 403', async () => {
    const s = await startTwilioTestServer('sqlite', { STROWGER_PUBLIC_URL: '' }, false);
    try {
      const url = `${s.t.baseUrl}/api/webhooks/voice/status`;
      assert.equal((await postWebhook(url, params)).status, 403, 'no auth token configured: nothing can be verified');
      await s.t.request('PUT', '/api/system/config', { cookie: s.t.adminCookie, body: { twilio_account_sid: FAKE_ACCOUNT_SID, twilio_auth_token: FAKE_AUTH_TOKEN } });
      assert.equal((await postWebhook(url, params)).status, 200);
      const spoofed = await postWebhook(url, params, { signedUrl: 'https://pbx.example.com/api/webhooks/voice/status', headers: forwarded });
      assert.equal(spoofed.status, 403);
    } finally {
      await s.close();
    }
  });

  test('trust proxy on: the forwarded protocol and host make the URL', async () => {
    const s = await startTwilioTestServer('sqlite', { STROWGER_PUBLIC_URL: '', STROWGER_TRUST_PROXY: 'true' });
    try {
      const url = `${s.t.baseUrl}/api/webhooks/voice/status`;
      const r = await postWebhook(url, params, { signedUrl: 'https://pbx.example.com/api/webhooks/voice/status', headers: forwarded });
      assert.equal(r.status, 200);
    } finally {
      await s.close();
    }
  });
});
