/**
 * Issue 11 acceptance, MWI with a real phone: Debian's baresip with its `mwi` module
 * registers, SUBSCRIBEs to message-summary (answering our 401), and reports every NOTIFY
 * body as an `MWI_NOTIFY` event; voicemail rows added, read and deleted in the store (then
 * announced as the voicemail code does) reach it as new counts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { hasBaresipModule, startBaresip, type BaresipPhone } from '../helpers/baresip.ts';
import { PASSWORD } from './sip-client.ts';
import { parseMessageSummary } from '../../src/sip/message-summary.ts';
import { deleteVoicemail, insertVoicemail, markVoicemailRead } from '../../src/store/voicemails.ts';

describe('MWI with baresip (mwi module)', { skip: hasBaresipModule('mwi') ? false : 'baresip mwi.so not installed' }, () => {
  let t: TestServer;
  let phone: BaresipPhone | undefined;
  let deviceId: number;

  before(async () => {
    t = await startTestServer('sqlite');
    const r = await t.request('POST', '/api/devices', { cookie: t.adminCookie, body: { name: 'Desk', username: '4001', password: PASSWORD } });
    assert.equal(r.status, 201);
    deviceId = r.body.id;
  });
  after(async () => {
    await phone?.close();
    await t?.close();
  });

  test('baresip subscribes and sees the counts follow adding, reading and deleting messages', async () => {
    phone = await startBaresip({ user: '4001', password: PASSWORD, port: t.sipPort, mwi: true });
    await phone.registered;
    const p = phone;
    const summaries = () => p.events.filter((e) => e.type === 'MWI_NOTIFY').map((e) => parseMessageSummary(String(e.param).replace(/\\r\\n/g, '\r\n')));
    const waitFor = async (count: number) => {
      const deadline = Date.now() + 8000;
      while (summaries().length < count) {
        if (Date.now() > deadline) assert.fail(`${count} MWI_NOTIFYs expected, got ${summaries().length}:\n${p.output().slice(-3000)}`);
        await p.waitForEvent('MWI_NOTIFY', Math.max(1, deadline - Date.now()), p.events.length).catch(() => {});
      }
      return summaries()[count - 1]!;
    };
    const db = t.server.ctx.store.db;
    const announce = (id: number, reason: 'added' | 'read' | 'deleted') =>
      t.server.ctx.events.emit('pbx.voicemail.changed', { mailbox: `device:${deviceId}`, device_id: deviceId, did_id: null, voicemail_id: id, reason });
    const add = async () => {
      const row = await insertVoicemail(db, { mailbox: { kind: 'device', id: deviceId }, callerNumber: '+15550002222', called: '4001', durationSeconds: 3, filePath: `voicemail/b-${Date.now()}.wav`, size: 10, format: 'wav' });
      announce(row.id, 'added');
      return row.id;
    };

    const first = await waitFor(1);
    assert.deepEqual(first, { waiting: false, account: 'sip:4001@strowger.test', voice: { new: 0, old: 0, urgentNew: 0, urgentOld: 0 } });

    const a = await add();
    assert.deepEqual((await waitFor(2)).voice, { new: 1, old: 0, urgentNew: 0, urgentOld: 0 });
    assert.equal(summaries()[1]!.waiting, true);
    const b = await add();
    assert.deepEqual((await waitFor(3)).voice, { new: 2, old: 0, urgentNew: 0, urgentOld: 0 });
    await markVoicemailRead(db, a);
    announce(a, 'read');
    assert.deepEqual((await waitFor(4)).voice, { new: 1, old: 1, urgentNew: 0, urgentOld: 0 });
    await deleteVoicemail(db, b);
    announce(b, 'deleted');
    const last = await waitFor(5);
    assert.deepEqual(last, { waiting: false, account: 'sip:4001@strowger.test', voice: { new: 0, old: 1, urgentNew: 0, urgentOld: 0 } });

    const status = await t.request('GET', '/api/mwi/status', { cookie: t.adminCookie });
    assert.equal(status.body.subscriptions.length, 1);
    assert.equal(status.body.subscriptions[0].username, '4001');
    assert.equal(status.body.subscriptions[0].notifies, 5);
    assert.equal(status.body.subscriptions[0].expires_in <= 600, true);
  });
});
