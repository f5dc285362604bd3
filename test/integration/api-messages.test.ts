import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES } from '../helpers/databases.ts';
import { createUserSession } from '../helpers/server.ts';
import { FAKE_ACCOUNT_SID } from '../helpers/fake-twilio.ts';
import { PUBLIC_URL, startTwilioTestServer, type TwilioTestServer } from '../helpers/twilio-server.ts';

const TO = '+15559876543';
const sid = (p: string, n: number) => p + n.toString(16).padStart(32, '0');
const fields = (body: any) => body.error.details.map((d: { field: string }) => d.field);

for (const engine of ENGINES) {
  describe(`/api/messages (${engine})`, () => {
    let s: TwilioTestServer;
    let userCookie: string;
    let smsDid: number;
    let voiceDid: number;
    let mmsDid: number;

    before(async () => {
      s = await startTwilioTestServer(engine, { STROWGER_SMS_MAX_ATTEMPTS: '3' });
      userCookie = await createUserSession(s.t);
      const did = async (phone_number: string, capabilities: string[]) =>
        (await s.t.request('POST', '/api/dids', { cookie: s.t.adminCookie, body: { phone_number, capabilities } })).body.id as number;
      smsDid = await did('+15551230001', ['voice', 'sms']);
      voiceDid = await did('+15551230002', ['voice']);
      mmsDid = await did('+15551230003', ['sms', 'mms']);
    });
    after(async () => { await s?.close(); });

    const send = (body: unknown, cookie = userCookie) => s.t.request('POST', '/api/messages', { cookie, body });
    const twilioPosts = () => s.fake.requestsTo('POST', /\/Messages\.json$/);

    test('every endpoint needs a login (401); deleting needs admin (403)', async () => {
      const routes: Array<[string, string, unknown?]> = [
        ['GET', '/api/messages'], ['POST', '/api/messages', { to: TO, from_did_id: 1, body: 'x' }], ['GET', '/api/messages/stats'],
        ['GET', '/api/messages/unread/count'], ['GET', '/api/messages/conversations'], ['GET', `/api/messages/conversation/${TO}`],
        ['PUT', `/api/messages/conversation/${TO}/read`], ['GET', '/api/messages/1'], ['PUT', '/api/messages/1/read'],
        ['POST', '/api/messages/1/resend'], ['POST', '/api/messages/1/sync'], ['POST', '/api/messages/1/cancel'], ['DELETE', '/api/messages/1'],
      ];
      for (const [method, path, body] of routes) {
        const r = await s.t.request(method, path, { body });
        assert.equal(r.status, 401, `${method} ${path}`);
        assert.equal(r.body.error.code, 'authentication_error');
      }
      const del = await s.t.request('DELETE', '/api/messages/1', { cookie: userCookie });
      assert.deepEqual([del.status, del.body.error.code], [403, 'authorization_error']);
    });

    test('bad input is a 400 naming the field and the reason; nothing is stored or sent', async () => {
      const cases: Array<[unknown, string, RegExp]> = [
        [{ to: '5559876543', from_did_id: smsDid, body: 'x' }, 'to', /pattern/],
        [{ to: '+0123', from_did_id: smsDid, body: 'x' }, 'to', /pattern/],
        [{ to: TO, from_did_id: smsDid, body: 'x'.repeat(1601) }, 'body', /1600/],
        [{ to: TO, from_did_id: mmsDid, body: 'x', media_urls: ['ftp://example.com/a.png'] }, 'media_urls.0', /pattern/],
        [{ to: TO, from_did_id: mmsDid, body: 'x', media_urls: ['javascript:alert(1)'] }, 'media_urls.0', /pattern/],
        [{ to: TO, from_did_id: voiceDid, body: 'x' }, 'from_did_id', /no sms capability/],
        [{ to: TO, from_did_id: smsDid, body: 'x', media_urls: ['https://example.com/a.png'] }, 'media_urls', /no mms capability/],
        [{ to: TO, from_did_id: 9999, body: 'x' }, 'from_did_id', /no such DID/],
        [{ to: TO, from_did_id: smsDid }, 'body', /required when there are no media_urls/],
        [{ to: TO, body: 'x' }, 'from_did_id', /required/],
      ];
      for (const [body, field, reason] of cases) {
        const r = await send(body);
        assert.equal(r.status, 400, JSON.stringify(body).slice(0, 80));
        assert.equal(r.body.error.code, 'validation_error');
        assert.deepEqual(fields(r.body), [field], JSON.stringify(r.body));
        assert.match(r.body.error.details[0].message, reason);
      }
      const list = await s.t.request('GET', '/api/messages', { cookie: userCookie });
      assert.equal(list.body.pagination.total, 0);
      assert.equal(twilioPosts().length, 0);
    });

    test('lifecycle: 201 queued → handed to Twilio (sending) → sent → delivered by status callbacks; a late callback does not go back', async () => {
      const r = await send({ to: TO, from_did_id: smsDid, body: 'Hello, world!' });
      assert.equal(r.status, 201);
      assert.equal(r.body.status, 'queued');
      assert.deepEqual({ ...r.body, id: 0, created_at: '', updated_at: '' }, {
        id: 0, direction: 'outbound', did_id: smsDid, from: '+15551230001', to: TO, body: 'Hello, world!', media_urls: [], status: 'queued',
        twilio_sid: null, error_code: null, error_message: null, read: true, attempts: 0, created_at: '', updated_at: '', sent_at: null, delivered_at: null,
      });
      const sending = await s.waitForStatus(r.body.id, 'sending');
      assert.match(sending.twilio_sid, /^SM[0-9a-f]{32}$/);
      assert.equal(sending.attempts, 1);
      const posted = twilioPosts().at(-1)!;
      assert.equal(posted.path, `/2010-04-01/Accounts/${FAKE_ACCOUNT_SID}/Messages.json`);
      assert.ok(posted.authorized);
      assert.deepEqual(posted.form, { From: '+15551230001', To: TO, Body: 'Hello, world!', StatusCallback: `${PUBLIC_URL}/api/webhooks/sms/status?message_id=${r.body.id}` });

      const cb = (MessageStatus: string, extra: Record<string, string> = {}) =>
        s.webhook(`sms/status?message_id=${r.body.id}`, { MessageSid: sending.twilio_sid, MessageStatus, AccountSid: FAKE_ACCOUNT_SID, From: '+15551230001', To: TO, ...extra });
      assert.equal((await cb('sent')).status, 200);
      const sent = (await s.t.request('GET', `/api/messages/${r.body.id}`, { cookie: userCookie })).body;
      assert.equal(sent.status, 'sent');
      assert.ok(sent.sent_at);
      assert.equal((await cb('delivered')).status, 200);
      assert.equal((await cb('sent')).status, 200);
      const delivered = (await s.t.request('GET', `/api/messages/${r.body.id}`, { cookie: userCookie })).body;
      assert.equal(delivered.status, 'delivered');
      assert.ok(delivered.delivered_at >= delivered.sent_at);

      const cancel = await s.t.request('POST', `/api/messages/${r.body.id}/cancel`, { cookie: userCookie });
      assert.deepEqual([cancel.status, cancel.body.error.code, cancel.body.error.message], [409, 'conflict', 'Only queued messages can be canceled (this one is delivered)']);
      const resend = await s.t.request('POST', `/api/messages/${r.body.id}/resend`, { cookie: userCookie });
      assert.equal(resend.status, 409);
    });

    test('MMS: media URLs reach Twilio as MediaUrl fields', async () => {
      const media = ['https://example.com/a.png', 'http://example.com/b.jpg'];
      const r = await send({ to: TO, from_did_id: mmsDid, body: '', media_urls: media });
      assert.equal(r.status, 201);
      await s.waitForStatus(r.body.id, 'sending');
      assert.deepEqual(twilioPosts().at(-1)!.form.MediaUrl, media);
    });

    test('Twilio answering 500 twice: retried with backoff and sent exactly once', async () => {
      const before_ = twilioPosts().length;
      const created = s.fake.messages.size;
      s.fake.failNext(2, 500);
      const r = await send({ to: TO, from_did_id: smsDid, body: 'retry me' });
      const m = await s.waitForStatus(r.body.id, 'sending');
      assert.equal(m.attempts, 3);
      assert.equal(twilioPosts().length - before_, 3);
      assert.equal(s.fake.messages.size - created, 1, 'Twilio created the message once');
      assert.equal(m.error_code, null, 'the error of the failed attempts is cleared');
    });

    test("after the last attempt the message is failed with Twilio's code and message; resend queues it again", async () => {
      s.fake.failNext(3, 503);
      const r = await send({ to: TO, from_did_id: smsDid, body: 'doomed' });
      const m = await s.waitForStatus(r.body.id, 'failed');
      assert.deepEqual([m.attempts, m.error_code, m.error_message, m.twilio_sid], [3, 20500, 'Internal Server Error', null]);
      const resend = await s.t.request('POST', `/api/messages/${r.body.id}/resend`, { cookie: userCookie });
      assert.deepEqual([resend.status, resend.body.status, resend.body.attempts, resend.body.error_code], [200, 'queued', 0, null]);
      const again = await s.waitForStatus(r.body.id, 'sending');
      assert.equal(again.attempts, 1);
    });

    test('a 4xx from Twilio fails at once (no retry) with its code', async () => {
      s.fake.rejectNextMessage(400, 21610, 'Attempt to send to unsubscribed recipient');
      const n = twilioPosts().length;
      const r = await send({ to: TO, from_did_id: smsDid, body: 'stop' });
      const m = await s.waitForStatus(r.body.id, 'failed');
      assert.deepEqual([m.attempts, m.error_code, m.error_message], [1, 21610, 'Attempt to send to unsubscribed recipient']);
      assert.equal(twilioPosts().length - n, 1);
    });

    test('inbound SMS/MMS: stored once per MessageSid with media; unread, conversations, read marks, stats', async () => {
      const peer = '+15557770000';
      const inbound = (n: number, body: string, media: string[] = []) => s.webhook('sms/incoming', {
        MessageSid: sid('MM', n), AccountSid: FAKE_ACCOUNT_SID, From: peer, To: '+15551230003', Body: body, NumMedia: String(media.length),
        ...Object.fromEntries(media.map((u, i) => [`MediaUrl${i}`, u])), ...Object.fromEntries(media.map((_, i) => [`MediaContentType${i}`, 'image/jpeg'])),
      });
      const first = await inbound(1, 'pic', ['https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1']);
      assert.equal(first.status, 200);
      assert.match(first.contentType!, /^text\/xml/);
      assert.match(first.text, /<Response\/>/);
      assert.equal((await inbound(1, 'pic', ['https://api.twilio.com/x'])).status, 200, 'Twilio retry');
      await inbound(2, 'second');

      const list = await s.t.request('GET', '/api/messages?direction=inbound&read=false', { cookie: userCookie });
      assert.equal(list.body.pagination.total, 2);
      assert.deepEqual(list.body.data.map((m: any) => [m.body, m.from, m.to, m.did_id, m.status, m.read]), [
        ['second', peer, '+15551230003', mmsDid, 'received', false], ['pic', peer, '+15551230003', mmsDid, 'received', false],
      ]);
      assert.deepEqual(list.body.data[1].media_urls, ['https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1']);
      assert.deepEqual((await s.t.request('GET', '/api/messages/unread/count', { cookie: userCookie })).body, { count: 2 });

      await send({ to: peer, from_did_id: mmsDid, body: 'reply' });
      const convs = await s.t.request('GET', '/api/messages/conversations', { cookie: userCookie });
      assert.equal(convs.status, 200);
      assert.deepEqual(convs.body.data.map((c: any) => [c.number, c.message_count, c.unread_count, c.last_message.body]), [
        [peer, 3, 2, 'reply'], [TO, convs.body.data[1].message_count, 0, convs.body.data[1].last_message.body],
      ]);
      assert.equal(convs.body.pagination.total, 2);
      const conv = await s.t.request('GET', `/api/messages/conversation/${encodeURIComponent(peer)}?limit=2`, { cookie: userCookie });
      assert.deepEqual([conv.body.pagination, conv.body.data.map((m: any) => m.body)], [{ total: 3, limit: 2, offset: 0 }, ['reply', 'second']]);
      assert.equal((await s.t.request('GET', '/api/messages/conversation/not%20a%20number', { cookie: userCookie })).status, 400);

      const one = list.body.data[1];
      const read = await s.t.request('PUT', `/api/messages/${one.id}/read`, { cookie: userCookie });
      assert.deepEqual([read.status, read.body.read], [200, true]);
      const convRead = await s.t.request('PUT', `/api/messages/conversation/${peer}/read`, { cookie: userCookie });
      assert.deepEqual(convRead.body, { success: true, updated: 1 });
      assert.deepEqual((await s.t.request('GET', '/api/messages/unread/count', { cookie: userCookie })).body, { count: 0 });

      const stats = (await s.t.request('GET', '/api/messages/stats', { cookie: userCookie })).body;
      const all = (await s.t.request('GET', '/api/messages?limit=500', { cookie: userCookie })).body;
      assert.equal(stats.total, all.pagination.total);
      assert.equal(stats.inbound, 2);
      assert.equal(stats.outbound, all.pagination.total - 2);
      assert.equal(stats.unread, 0);
      assert.equal(stats.by_status.received, 2);
    });

    test('sync refreshes the status from Twilio; 409 before Twilio has it; 502 when Twilio fails', async () => {
      const r = await send({ to: TO, from_did_id: smsDid, body: 'sync me' });
      const m = await s.waitForStatus(r.body.id, 'sending');
      s.fake.messages.get(m.twilio_sid)!.status = 'undelivered';
      s.fake.messages.get(m.twilio_sid)!.error_code = 30003;
      s.fake.messages.get(m.twilio_sid)!.error_message = 'Unreachable destination handset';
      const synced = await s.t.request('POST', `/api/messages/${r.body.id}/sync`, { cookie: userCookie });
      assert.deepEqual([synced.status, synced.body.status, synced.body.error_code, synced.body.error_message], [200, 'undelivered', 30003, 'Unreachable destination handset']);
      const get = s.fake.requestsTo('GET', new RegExp(`/Messages/${m.twilio_sid}\\.json$`));
      assert.equal(get.length, 1);

      s.fake.failNext(1, 500);
      const bad = await s.t.request('POST', `/api/messages/${r.body.id}/sync`, { cookie: userCookie });
      assert.deepEqual([bad.status, bad.body.error.code, bad.body.error.details], [502, 'bad_gateway', { twilio_status: 500, twilio_code: 20500 }]);
      assert.equal((await s.t.request('POST', '/api/messages/99999/sync', { cookie: userCookie })).status, 404);
    });

    test('get, delete (admin), 404s', async () => {
      const r = await send({ to: TO, from_did_id: smsDid, body: 'bye' });
      await s.waitForStatus(r.body.id, 'sending');
      const got = await s.t.request('GET', `/api/messages/${r.body.id}`, { cookie: userCookie });
      assert.equal(got.body.body, 'bye');
      assert.deepEqual((await s.t.request('DELETE', `/api/messages/${r.body.id}`, { cookie: s.t.adminCookie })).body, { success: true });
      for (const [method, path] of [['GET', ''], ['PUT', '/read'], ['POST', '/cancel'], ['POST', '/resend'], ['DELETE', '']] as const) {
        const x = await s.t.request(method, `/api/messages/${r.body.id}${path}`, { cookie: s.t.adminCookie });
        assert.deepEqual([x.status, x.body.error.code], [404, 'not_found'], `${method} ${path}`);
      }
      assert.equal((await s.t.request('GET', '/api/messages/abc', { cookie: userCookie })).status, 400);
    });
  });
}

describe('/api/messages: the queue survives a restart; cancel while queued', () => {
  let s: TwilioTestServer;
  let did: number;
  before(async () => {
    // Retries an hour apart: a message that failed once stays queued for the test.
    s = await startTwilioTestServer('sqlite', { STROWGER_SMS_RETRY_BASE_MS: '3600000' });
    did = (await s.t.request('POST', '/api/dids', { cookie: s.t.adminCookie, body: { phone_number: '+15551239999', capabilities: ['sms'] } })).body.id;
  });
  after(async () => { await s?.close(); });

  const queuedAfterOneFailure = async (body: string) => {
    s.fake.failNext(1, 500);
    const r = await s.t.request('POST', '/api/messages', { cookie: s.t.adminCookie, body: { to: TO, from_did_id: did, body } });
    for (let i = 0; i < 250; i++) {
      const m = (await s.t.request('GET', `/api/messages/${r.body.id}`, { cookie: s.t.adminCookie })).body;
      if (m.attempts === 1) return m;
      await new Promise((res) => setTimeout(res, 20));
    }
    assert.fail('first attempt never happened');
  };

  test('cancel of a queued message → canceled; again → 409; it is never sent', async () => {
    const m = await queuedAfterOneFailure('cancel me');
    assert.deepEqual([m.status, m.error_code], ['queued', 20500]);
    const c = await s.t.request('POST', `/api/messages/${m.id}/cancel`, { cookie: s.t.adminCookie });
    assert.deepEqual([c.status, c.body.status], [200, 'canceled']);
    const again = await s.t.request('POST', `/api/messages/${m.id}/cancel`, { cookie: s.t.adminCookie });
    assert.equal(again.status, 409);
    assert.equal(s.fake.messages.size, 0);
  });

  test('a queued message is sent by the restarted server once due', async () => {
    const m = await queuedAfterOneFailure('survive');
    await s.t.restart();
    const db = s.t.server.ctx.store.db;
    // The hour has passed: make the retry due, as the clock would.
    await db.updateTable('messages').set({ next_attempt_at: new Date(Date.now() - 1000).toISOString() }).where('id', '=', m.id).execute();
    s.t.server.ctx.events.emit('sms.message.queued', { id: m.id });
    const sent = await s.waitForStatus(m.id, 'sending');
    assert.equal(sent.attempts, 2);
    assert.equal(s.fake.messages.size, 1);
  });

  test("a status callback that beats Twilio's create answer finds the message by the id in its URL", async () => {
    const m = await queuedAfterOneFailure('raced');
    const sid = 'SM' + '9'.repeat(32);
    const cb = await s.webhook(`sms/status?message_id=${m.id}`, { MessageSid: sid, MessageStatus: 'sent', AccountSid: FAKE_ACCOUNT_SID });
    assert.equal(cb.status, 200);
    const after_ = (await s.t.request('GET', `/api/messages/${m.id}`, { cookie: s.t.adminCookie })).body;
    assert.deepEqual([after_.status, after_.twilio_sid], ['sent', sid]);
    const unsigned = await s.webhook(`sms/status?message_id=${m.id}`, { MessageSid: sid, MessageStatus: 'delivered' }, { signedUrl: `${PUBLIC_URL}/api/webhooks/sms/status?message_id=1` });
    assert.equal(unsigned.status, 403, 'the query string is signed too');
  });

  test('without Twilio credentials sending is refused (409), nothing stored', async () => {
    await s.t.request('PUT', '/api/system/config', { cookie: s.t.adminCookie, body: { twilio_auth_token: null } });
    const r = await s.t.request('POST', '/api/messages', { cookie: s.t.adminCookie, body: { to: TO, from_did_id: did, body: 'x' } });
    assert.deepEqual([r.status, r.body.error.details], [409, { reason: 'twilio_not_configured' }]);
  });
});
