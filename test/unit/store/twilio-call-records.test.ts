/**
 * The Twilio CallSid on CDRs (every write path: single insert, group commit, crash sweep) and
 * on voicemails, Twilio's rows found by CallSid, and the transcription precedence (a local
 * engine's text is never replaced by Twilio's), on SQLite and PostgreSQL.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES, useMigratedStore } from '../../helpers/databases.ts';
import type { Store } from '../../../src/store/database.ts';
import { closeOrphanedCalls, insertCdr, openCallRecord, writeCallRecords, type CallStart, type NewCdr } from '../../../src/store/cdrs.ts';
import { twilioCallsBySid, upsertTwilioCall } from '../../../src/store/twilio-calls.ts';
import { applyTwilioTranscription, insertVoicemail, setVoicemailTranscription } from '../../../src/store/voicemails.ts';

const sid = (c: string) => 'CA' + c.repeat(32);
const start = (id: string, over: Partial<CallStart> = {}): CallStart => ({
  call_id: id, a_call_id: `a-${id}`, caller: '+15550001111', callee: '+15551230000', direction: 'inbound', start_time: '2026-03-10T09:00:00.000Z', ...over,
});
const ended = (id: string, over: Partial<NewCdr> = {}): NewCdr => ({
  ...start(id), end_time: '2026-03-10T09:01:00.000Z', answer_time: '2026-03-10T09:00:05.000Z', disposition: 'answered', hangup_cause: 'caller_bye', hangup_by: 'caller', sip_code: 200, ...over,
});

for (const engine of ENGINES) {
  describe(`Twilio CallSid on CDRs and voicemails (${engine})`, () => {
    const t = {} as { store: Store };
    useMigratedStore(engine, (store) => { t.store = store; });

    const sidOf = async (callId: string) => (await t.store.db.selectFrom('cdrs').select('twilio_call_sid').where('call_id', '=', callId).executeTakeFirstOrThrow()).twilio_call_sid;

    test('every CDR write path keeps the CallSid; calls without one store null', async () => {
      await insertCdr(t.store.db, ended('one', { twilio_call_sid: sid('1') }));
      await writeCallRecords(t.store.db, { opens: [start('batch-open', { twilio_call_sid: sid('2') })], closes: [], inserts: [ended('batch', { twilio_call_sid: sid('3') }), ended('plain')] });
      await writeCallRecords(t.store.db, { opens: [], closes: [ended('batch-open', { twilio_call_sid: sid('2') })], inserts: [] });
      // A call journalled with its CallSid that the process never ended: the start-up sweep's CDR keeps it.
      await openCallRecord(t.store.db, start('crashed', { twilio_call_sid: sid('4'), answer_time: '2026-03-10T09:00:05.000Z' }));
      const swept = await closeOrphanedCalls(t.store.db, 'server_restart', Date.parse('2026-03-10T09:05:00.000Z'));
      assert.deepEqual(swept.map((r) => [r.call_id, r.twilio_call_sid, r.hangup_cause]), [['crashed', sid('4'), 'server_restart']]);
      assert.deepEqual(await Promise.all(['one', 'batch-open', 'batch', 'plain'].map(sidOf)), [sid('1'), sid('2'), sid('3'), null]);
    });

    test("Twilio's rows by CallSid: unknown and null sids are skipped", async () => {
      await upsertTwilioCall(t.store.db, sid('1'), { status: 'completed', duration: 61 });
      const m = await twilioCallsBySid(t.store.db, [sid('1'), null, sid('9'), sid('1')]);
      assert.deepEqual([...m.keys()], [sid('1')]);
      assert.equal(m.get(sid('1'))!.duration, 61);
      assert.equal((await twilioCallsBySid(t.store.db, [null])).size, 0);
    });

    test("Twilio's transcription fills none/pending/failed and its own, never a local engine's text", async () => {
      const vm = (callSid: string | null, state: 'none' | 'pending' = 'none') => insertVoicemail(t.store.db, {
        mailbox: { kind: 'did', id: 1 }, callId: 'c', twilioCallSid: callSid, callerNumber: '+15550001111', called: '+15551230000',
        durationSeconds: 3, filePath: `vm/${Math.random()}.wav`, size: 100, format: 'wav', transcriptionState: state,
      });
      const none = await vm(sid('5'));
      const pending = await vm(sid('5'), 'pending');
      const local = await vm(sid('5'));
      await setVoicemailTranscription(t.store.db, local.id, { state: 'done', text: 'local words', engine: 'whisper' });
      const failed = await vm(sid('5'));
      await setVoicemailTranscription(t.store.db, failed.id, { state: 'failed', engine: 'whisper' });
      const other = await vm(sid('6'));
      const unlinked = await vm(null);
      assert.equal(none.twilio_call_sid, sid('5'));

      const changed = await applyTwilioTranscription(t.store.db, sid('5'), 'twilio words');
      assert.deepEqual(changed.map((r) => r.id).sort((a, b) => a - b), [none.id, pending.id, failed.id]);
      const again = await applyTwilioTranscription(t.store.db, sid('5'), 'twilio words, corrected');
      assert.equal(again.length, 3, 'Twilio may correct its own text');
      const rows = await t.store.db.selectFrom('voicemails').select(['id', 'transcription', 'transcription_state', 'transcription_engine']).orderBy('id').execute();
      const byId = new Map(rows.map((r) => [r.id, [r.transcription, r.transcription_state, r.transcription_engine]]));
      assert.deepEqual(byId.get(none.id), ['twilio words, corrected', 'done', 'twilio']);
      assert.deepEqual(byId.get(local.id), ['local words', 'done', 'whisper']);
      assert.deepEqual(byId.get(other.id), [null, 'none', null]);
      assert.deepEqual(byId.get(unlinked.id), [null, 'none', null]);
    });

    test('a transcription that came before the message is stored becomes its text (unless a local engine will run)', async () => {
      await upsertTwilioCall(t.store.db, sid('7'), { transcription_status: 'completed', transcription_text: 'early words' });
      const base = { mailbox: { kind: 'did' as const, id: 1 }, twilioCallSid: sid('7'), callerNumber: '+15550001111', called: '+15551230000', durationSeconds: 3, size: 100, format: 'wav' };
      const plain = await insertVoicemail(t.store.db, { ...base, filePath: 'vm/early-1.wav' });
      assert.deepEqual([plain.transcription, plain.transcription_state, plain.transcription_engine], ['early words', 'done', 'twilio']);
      const local = await insertVoicemail(t.store.db, { ...base, filePath: 'vm/early-2.wav', transcriptionState: 'pending' });
      assert.deepEqual([local.transcription, local.transcription_state, local.transcription_engine], [null, 'pending', null]);
    });
  });
}
