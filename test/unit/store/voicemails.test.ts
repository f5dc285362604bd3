import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES, type TestDatabase, useMigratedStore } from '../../helpers/databases.ts';
import { type Store } from '../../../src/store/database.ts';
import { countsByMailbox, deleteVoicemail, findVoicemail, insertVoicemail, listMailboxCounts, listVoicemails, mailboxKey, mailboxesOwnedBy, markVoicemailRead, parseMailboxKey, setVoicemailTranscription, voicemailFilePaths, type NewVoicemail } from '../../../src/store/voicemails.ts';

const T0 = Date.parse('2026-12-04T09:00:00.000Z');

const message = (over: Partial<NewVoicemail> = {}): NewVoicemail => ({
  mailbox: { kind: 'device', id: 1 }, callerNumber: '+15550001111', callerName: 'Alice', called: '1001',
  durationSeconds: 7, filePath: 'voicemail/device-1/a.wav', size: 112_044, format: 'wav', ...over,
});

test('mailbox keys round-trip and reject anything else', () => {
  assert.equal(mailboxKey({ kind: 'did', id: 7 }), 'did:7');
  assert.deepEqual(parseMailboxKey('device:12'), { kind: 'device', id: 12 });
  for (const bad of ['device:0', 'did:', 'user:1', 'device:1x', ' did:1', 'device:01']) assert.equal(parseMailboxKey(bad), undefined, bad);
});

for (const engine of ENGINES) {
  describe(`voicemail store (${engine})`, () => {
    let tdb: TestDatabase;
    let store: Store;

    useMigratedStore(engine, (s, d) => { store = s; tdb = d; });

    test('insert stores every column; a mail address queues one outbox entry in the same write', async () => {
      const row = await insertVoicemail(store.db, message({ callId: 'c1', mailTo: 'bob@example.test', transcriptionState: 'pending' }), T0);
      assert.deepEqual({ ...row, id: 0 }, {
        id: 0, mailbox: 'device:1', device_id: 1, did_id: null, call_id: 'c1', twilio_call_sid: null, caller_number: '+15550001111', caller_name: 'Alice',
        called: '1001', duration_seconds: 7, file_path: 'voicemail/device-1/a.wav', size: 112_044, format: 'wav', read: 0, read_at: null,
        transcription: null, transcription_state: 'pending', transcription_engine: null, mail_state: 'pending', mail_error: null,
        created_at: '2026-12-04T09:00:00.000Z',
      });
      const outbox = await store.db.selectFrom('voicemail_mail_outbox').selectAll().execute();
      assert.deepEqual(outbox.map((o) => [o.voicemail_id, o.recipient, o.attempts, o.next_attempt_at]), [[row.id, 'bob@example.test', 0, '2026-12-04T09:00:00.000Z']]);
      assert.deepEqual(await findVoicemail(store.db, row.id), row);
      const plain = await insertVoicemail(store.db, message({ mailbox: { kind: 'did', id: 3 }, filePath: 'voicemail/did-3/b.wav' }), T0 + 1000);
      assert.equal(plain.mail_state, 'none');
      assert.equal(plain.did_id, 3);
      assert.equal(plain.device_id, null);
    });

    test('counts per mailbox follow read and delete; list filters by read, mailbox and pages newest first', async () => {
      await insertVoicemail(store.db, message({ filePath: 'voicemail/device-1/c.wav' }), T0 + 2000);
      assert.deepEqual(await countsByMailbox(store.db, 'device:1'), { new: 2, old: 0 });
      assert.deepEqual(await countsByMailbox(store.db, 'device:99'), { new: 0, old: 0 });
      const all = await listVoicemails(store.db, { limit: 2, offset: 0 });
      assert.equal(all.total, 3);
      assert.deepEqual(all.rows.map((r) => r.file_path), ['voicemail/device-1/c.wav', 'voicemail/did-3/b.wav']);
      const first = all.rows[0]!;
      const read = await markVoicemailRead(store.db, first.id, true, T0 + 5000);
      assert.equal(read?.read, 1);
      assert.equal(read?.read_at, '2026-12-04T09:00:05.000Z');
      assert.deepEqual(await countsByMailbox(store.db, 'device:1'), { new: 1, old: 1 });
      assert.deepEqual((await listVoicemails(store.db, { read: false, mailboxes: ['device:1'], limit: 10, offset: 0 })).rows.map((r) => r.file_path), ['voicemail/device-1/a.wav']);
      assert.deepEqual((await listVoicemails(store.db, { read: true, limit: 10, offset: 0 })).rows.map((r) => r.id), [first.id]);
      assert.deepEqual(await listVoicemails(store.db, { mailboxes: [], limit: 10, offset: 0 }), { rows: [], total: 0 });
      assert.deepEqual(await listMailboxCounts(store.db), [
        { mailbox: 'device:1', kind: 'device', id: 1, new: 1, old: 1 },
        { mailbox: 'did:3', kind: 'did', id: 3, new: 1, old: 0 },
      ]);
      assert.equal(await markVoicemailRead(store.db, 9999), undefined);
    });

    test('delete removes the row and its queued mail; a second delete finds nothing', async () => {
      const a = (await listVoicemails(store.db, { mailboxes: ['device:1'], read: false, limit: 1, offset: 0 })).rows[0]!;
      const gone = await deleteVoicemail(store.db, a.id);
      assert.equal(gone?.id, a.id);
      assert.equal(await deleteVoicemail(store.db, a.id), undefined);
      assert.equal((await store.db.selectFrom('voicemail_mail_outbox').selectAll().execute()).length, 0);
      assert.deepEqual([...await voicemailFilePaths(store.db)].sort(), ['voicemail/device-1/c.wav', 'voicemail/did-3/b.wav']);
    });

    test('transcription outcome and owned mailboxes', async () => {
      const row = (await listVoicemails(store.db, { limit: 1, offset: 0 })).rows[0]!;
      const t = await setVoicemailTranscription(store.db, row.id, { state: 'done', text: 'hello there', engine: 'pocketsphinx' });
      assert.deepEqual([t?.transcription_state, t?.transcription, t?.transcription_engine], ['done', 'hello there', 'pocketsphinx']);
      const now = new Date(T0).toISOString();
      const user = await store.db.insertInto('users').values({ email: 'u@example.test', password_hash: 'x', role: 'user', created_at: now, updated_at: now }).returning('id').executeTakeFirstOrThrow();
      const dev = await store.db.insertInto('devices').values({ name: 'd', username: 'u1', password_enc: 'x', type: 'generic', user_id: user.id, caller_id: null, created_at: now, updated_at: now }).returning('id').executeTakeFirstOrThrow();
      assert.deepEqual(await mailboxesOwnedBy(store.db, user.id), [`device:${dev.id}`]);
      assert.deepEqual(await mailboxesOwnedBy(store.db, user.id + 1000), []);
    });
  });
}
