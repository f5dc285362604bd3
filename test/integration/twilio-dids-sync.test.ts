import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES } from '../helpers/databases.ts';
import { FAKE_ACCOUNT_SID } from '../helpers/fake-twilio.ts';
import { startTwilioTestServer, type TwilioTestServer } from '../helpers/twilio-server.ts';

const SID_A = 'PN' + 'a'.repeat(32);
const SID_B = 'PN' + 'b'.repeat(32);

for (const engine of ENGINES) {
  describe(`POST /api/dids/sync against the fake Twilio (${engine})`, () => {
    let s: TwilioTestServer;
    before(async () => { s = await startTwilioTestServer(engine); });
    after(async () => { await s?.close(); });

    const sync = () => s.t.request('POST', '/api/dids/sync', { cookie: s.t.adminCookie });
    const dids = async () => Object.fromEntries((await s.t.request('GET', '/api/dids', { cookie: s.t.adminCookie })).body.data.map((d: any) => [d.phone_number, d]));

    test('imports new numbers, links a hand-made DID by number, leaves other DIDs alone', async () => {
      await s.t.request('POST', '/api/dids', { cookie: s.t.adminCookie, body: { phone_number: '+15551110002', friendly_name: 'typed by hand' } });
      await s.t.request('POST', '/api/dids', { cookie: s.t.adminCookie, body: { phone_number: '+15551119999', friendly_name: 'other carrier' } });
      s.fake.setNumbers([
        { sid: SID_A, phone_number: '+15551110001', friendly_name: '(555) 111-0001', capabilities: { voice: true, sms: true, mms: true } },
        { sid: SID_B, phone_number: '+15551110002', friendly_name: 'Support', capabilities: { voice: true, sms: false } },
      ]);
      const r = await sync();
      assert.deepEqual([r.status, r.body], [200, { created: 1, updated: 1, removed: 0 }]);
      const get = s.fake.requestsTo('GET', /IncomingPhoneNumbers\.json$/).at(-1)!;
      assert.equal(get.path, `/2010-04-01/Accounts/${FAKE_ACCOUNT_SID}/IncomingPhoneNumbers.json`);
      assert.ok(get.authorized);
      const d = await dids();
      assert.deepEqual([d['+15551110001'].twilio_sid, d['+15551110001'].friendly_name, d['+15551110001'].capabilities], [SID_A, '(555) 111-0001', ['voice', 'sms', 'mms']]);
      assert.deepEqual([d['+15551110002'].twilio_sid, d['+15551110002'].friendly_name, d['+15551110002'].capabilities], [SID_B, 'Support', ['voice']]);
      assert.deepEqual([d['+15551119999'].twilio_sid, d['+15551119999'].friendly_name, d['+15551119999'].released_at], [null, 'other carrier', null]);
      assert.deepEqual((await sync()).body, { created: 0, updated: 0, removed: 0 }, 'nothing changed: nothing counted');
    });

    test('a number that left the account is marked released (routes kept) and comes back when it returns', async () => {
      const a = (await dids())['+15551110001'];
      const route = await s.t.request('POST', '/api/routes', { cookie: s.t.adminCookie, body: { name: 'All', did_id: a.id, action: 'reject' } });
      assert.equal(route.status, 201);
      s.fake.setNumbers([{ sid: SID_B, phone_number: '+15551110002', friendly_name: 'Support', capabilities: { voice: true, sms: true } }]);
      assert.deepEqual((await sync()).body, { created: 0, updated: 1, removed: 1 });
      const d = await dids();
      assert.match(d['+15551110001'].released_at, /^\d{4}-\d\d-\d\dT/);
      assert.deepEqual(d['+15551110002'].capabilities, ['voice', 'sms']);
      assert.equal(d['+15551119999'].released_at, null);
      assert.equal((await s.t.request('GET', `/api/routes/${route.body.id}`, { cookie: s.t.adminCookie })).status, 200);
      assert.deepEqual((await sync()).body, { created: 0, updated: 0, removed: 0 });

      const send = await s.t.request('POST', '/api/messages', { cookie: s.t.adminCookie, body: { to: '+15559876543', from_did_id: a.id, body: 'x' } });
      assert.deepEqual([send.status, send.body.error.details], [400, [{ field: 'from_did_id', message: 'this number is no longer on the Twilio account' }]]);

      s.fake.setNumbers([
        { sid: SID_A, phone_number: '+15551110001', friendly_name: '(555) 111-0001', capabilities: { voice: true, sms: true, mms: true } },
        { sid: SID_B, phone_number: '+15551110002', friendly_name: 'Support', capabilities: { voice: true, sms: true } },
      ]);
      assert.deepEqual((await sync()).body, { created: 0, updated: 1, removed: 0 });
      assert.equal((await dids())['+15551110001'].released_at, null);
    });

    test('GET /api/system/status shows the Twilio account and the SMS queue', async () => {
      const r = await s.t.request('GET', '/api/system/status', { cookie: s.t.adminCookie });
      assert.deepEqual(r.body.twilio, { status: 'configured', account_sid: FAKE_ACCOUNT_SID, api_base: s.fake.url, sms_queued: 0 });
    });

    test('Twilio failing → 502 with its status and code, nothing changed', async () => {
      const before_ = await dids();
      s.fake.setNumbers([]);
      s.fake.failNext(1, 500);
      const r = await sync();
      assert.deepEqual([r.status, r.body.error.code, r.body.error.details], [502, 'bad_gateway', { twilio_status: 500, twilio_code: 20500 }]);
      assert.deepEqual(await dids(), before_);
    });
  });
}
