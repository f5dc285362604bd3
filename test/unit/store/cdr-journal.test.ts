import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES, createTestDatabase, type TestDatabase, useMigratedStore } from '../../helpers/databases.ts';
import { migrateToLatest, openStore, type Store } from '../../../src/store/database.ts';
import { cdrStats, closeCallWithCdr, closeCallsWithCdrs, closeOrphanedCalls, findCdrById, insertCdr, insertCdrs, listCdrs, openCallRecord, writeCallRecords, toCdr, type CallStart, type NewCdr } from '../../../src/store/cdrs.ts';

const T0 = Date.parse('2026-03-10T09:00:00.000Z');
const at = (sec: number) => new Date(T0 + sec * 1000).toISOString();

function call(id: string, over: Partial<CallStart> = {}): CallStart {
  return { call_id: id, a_call_id: `a-${id}@198.51.100.1`, caller: '+15550001111', callee: '1001', direction: 'inbound', start_time: at(0), ...over };
}

function cdr(id: string, over: Partial<NewCdr> = {}): NewCdr {
  return { ...call(id), end_time: at(60), disposition: 'answered', answer_time: at(10), hangup_cause: 'caller_bye', hangup_by: 'caller', sip_code: 200, ...over };
}

for (const engine of ENGINES) {
  describe(`CDR store and open-calls journal (${engine})`, () => {
    let tdb: TestDatabase;
    let store: Store;

    useMigratedStore(engine, (s, d) => { store = s; tdb = d; });

    const journal = async () => (await store.db.selectFrom('active_calls').select(['call_id', 'node_id']).orderBy('call_id').execute());

    test('insertCdr derives duration and billsec (rounded seconds) and stores every field', async () => {
      const row = await insertCdr(store.db, cdr('c1', {
        b_call_id: 'b-c1@strowger', did_id: 7, did_number: '+15557770000', callee_device_id: 3, trunk_id: 2, codec: 'PCMU',
        start_time: '2026-03-10T10:00:00+01:00', answer_time: at(10.4), end_time: at(61.6),
      }));
      assert.ok(row);
      const { id, created_at, ...rest } = toCdr(row);
      assert.equal(typeof id, 'number');
      assert.match(created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.deepEqual(rest, {
        call_id: 'c1', a_call_id: 'a-c1@198.51.100.1', b_call_id: 'b-c1@strowger', caller: '+15550001111', callee: '1001',
        did_id: 7, did_number: '+15557770000', caller_device_id: null, callee_device_id: 3, trunk_id: 2, direction: 'inbound',
        start_time: '2026-03-10T09:00:00.000Z', answer_time: '2026-03-10T09:00:10.400Z', end_time: '2026-03-10T09:01:01.600Z',
        duration: 62, billsec: 51, disposition: 'answered', hangup_cause: 'caller_bye', hangup_by: 'caller', sip_code: 200, codec: 'PCMU',
        twilio_call_sid: null,
      });
      assert.deepEqual(await findCdrById(store.db, id), row);
    });

    test('a call has one CDR: a second insert for the same call_id is skipped', async () => {
      assert.equal(await insertCdr(store.db, cdr('c1', { hangup_cause: 'callee_bye' })), undefined);
      const n = await store.db.selectFrom('cdrs').select((eb) => eb.fn.countAll().as('n')).where('call_id', '=', 'c1').executeTakeFirstOrThrow();
      assert.equal(Number(n.n), 1);
    });

    test('unanswered calls bill 0; a clock stepping back gives 0, not a negative duration', async () => {
      const busy = await insertCdr(store.db, cdr('c2', { answer_time: null, disposition: 'busy', sip_code: 486, end_time: at(4) }));
      assert.deepEqual([busy?.duration, busy?.billsec, busy?.answer_time], [4, 0, null]);
      const back = await insertCdr(store.db, cdr('c3', { answer_time: at(1), end_time: at(-2) }));
      assert.deepEqual([back?.duration, back?.billsec], [0, 0]);
      await assert.rejects(insertCdr(store.db, cdr('c4', { end_time: 'yesterday' })), /CDR end_time is not a date: "yesterday"/);
    });

    test('insertCdrs stores a batch in one transaction, skipping calls already recorded', async () => {
      const batch = Array.from({ length: 1203 }, (_, i) => cdr(`batch-${i}`, { start_time: at(-3600 - i), answer_time: null, end_time: at(-3600 - i + 3), disposition: 'no_answer' }));
      batch.push(cdr('c1'));
      const rows = await insertCdrs(store.db, batch);
      assert.equal(rows.length, 1203);
      assert.deepEqual(await insertCdrs(store.db, []), []);
      const { total } = await listCdrs(store.db, { disposition: 'no_answer', limit: 1, offset: 0 });
      assert.equal(total, 1203);
    });

    test('a failing batch leaves nothing behind', async () => {
      const bad = [cdr('atomic-1'), cdr('atomic-2', { start_time: 'not a time' })];
      await assert.rejects(insertCdrs(store.db, bad));
      assert.equal(await store.db.selectFrom('cdrs').select('id').where('call_id', '=', 'atomic-1').executeTakeFirst(), undefined);
    });

    test('listCdrs: newest first, filters, pagination', async () => {
      const page1 = await listCdrs(store.db, { startFrom: at(-3604), startBefore: at(-3599), limit: 2, offset: 0 });
      assert.equal(page1.total, 5);
      assert.deepEqual(page1.rows.map((r) => r.call_id), ['batch-0', 'batch-1']);
      const page3 = await listCdrs(store.db, { startFrom: at(-3604), startBefore: at(-3599), limit: 2, offset: 4 });
      assert.deepEqual(page3.rows.map((r) => r.call_id), ['batch-4']);
      const newest = await listCdrs(store.db, { direction: 'inbound', disposition: 'answered', limit: 10, offset: 0 });
      assert.deepEqual(newest.rows.map((r) => r.call_id), ['c3', 'c1']);
      assert.equal((await listCdrs(store.db, { direction: 'outbound', limit: 10, offset: 0 })).total, 0);
    });

    test('journal row → closeCallWithCdr swaps it for the CDR in one step', async () => {
      await openCallRecord(store.db, call('live-1'), { now: T0 });
      await openCallRecord(store.db, call('live-1', { answer_time: at(5), b_call_id: 'b-live-1', codec: 'opus' }), { now: T0 + 5000 });
      const row = await store.db.selectFrom('active_calls').selectAll().where('call_id', '=', 'live-1').executeTakeFirstOrThrow();
      assert.deepEqual(row, {
        call_id: 'live-1', node_id: '', created_at: at(0), updated_at: at(5),
        data: JSON.stringify(call('live-1', { answer_time: at(5), b_call_id: 'b-live-1', codec: 'opus' })),
      });
      const c = await closeCallWithCdr(store.db, 'live-1', cdr('live-1', { answer_time: at(5), end_time: at(125), hangup_cause: 'callee_bye', hangup_by: 'callee' }));
      assert.deepEqual([c?.call_id, c?.duration, c?.billsec, c?.hangup_cause], ['live-1', 125, 120, 'callee_bye']);
      assert.deepEqual(await journal(), []);
    });

    test('closeCallWithCdr rolls back the delete when the CDR cannot be stored', async () => {
      await openCallRecord(store.db, call('live-2'));
      await assert.rejects(closeCallWithCdr(store.db, 'live-2', cdr('live-2', { end_time: 'never' })));
      assert.deepEqual(await journal(), [{ call_id: 'live-2', node_id: '' }]);
      await closeCallsWithCdrs(store.db, [cdr('live-2')]);
      assert.deepEqual(await journal(), []);
    });

    test('writeCallRecords: journal rows, closes and inserts of a batch in one transaction', async () => {
      await openCallRecord(store.db, call('w-old'), { now: T0 });
      await insertCdr(store.db, cdr('w-dup', { hangup_cause: 'no_answer' }));
      await writeCallRecords(store.db, {
        // The same call twice in one batch (answered, then re-journalled): the last one wins.
        opens: [call('w-open'), call('w-open', { codec: 'PCMA/8000' }), call('w-open-2')],
        closes: [cdr('w-old', { hangup_cause: 'callee_bye' })],
        inserts: [cdr('w-new'), cdr('w-dup', { hangup_cause: 'busy' })],
      }, { now: T0 + 1000 });
      assert.deepEqual((await journal()).filter((r) => r.call_id.startsWith('w-')).map((r) => r.call_id), ['w-open', 'w-open-2']);
      const open = await store.db.selectFrom('active_calls').select('data').where('call_id', '=', 'w-open').executeTakeFirstOrThrow();
      assert.equal(JSON.parse(open.data).codec, 'PCMA/8000');
      const rows = await store.db.selectFrom('cdrs').select(['call_id', 'hangup_cause', 'billsec']).where('call_id', 'like', 'w-%').orderBy('call_id').execute();
      assert.deepEqual(rows.map((r) => [r.call_id, r.hangup_cause, Number(r.billsec)]), [['w-dup', 'no_answer', 50], ['w-new', 'caller_bye', 50], ['w-old', 'callee_bye', 50]]);

      // A bad record fails the whole batch before anything is written.
      await assert.rejects(writeCallRecords(store.db, { opens: [call('w-x')], closes: [cdr('w-open-2')], inserts: [cdr('w-bad', { end_time: 'never' })] }), /not a date/);
      assert.deepEqual((await journal()).filter((r) => r.call_id.startsWith('w-')).map((r) => r.call_id), ['w-open', 'w-open-2']);
      assert.equal((await store.db.selectFrom('cdrs').select('call_id').where('call_id', 'in', ['w-open-2', 'w-bad']).execute()).length, 0);
      await writeCallRecords(store.db, { opens: [], closes: [cdr('w-open'), cdr('w-open-2')], inserts: [] });
      assert.deepEqual((await journal()).filter((r) => r.call_id.startsWith('w-')), []);
    });

    test('closeOrphanedCalls turns journalled calls into server_restart CDRs (answered or failed), per node', async () => {
      await openCallRecord(store.db, call('orphan-ringing', { start_time: at(100) }), { nodeId: 'node-a' });
      await openCallRecord(store.db, call('orphan-up', { start_time: at(100), answer_time: at(112), b_call_id: 'b-up', trunk_id: 4 }), { nodeId: 'node-a' });
      await openCallRecord(store.db, call('other-node', { start_time: at(100) }), { nodeId: 'node-b' });
      await store.db.insertInto('active_calls').values({ call_id: 'corrupt', node_id: 'node-a', data: '{not json', created_at: at(90), updated_at: at(90) }).execute();

      const closed = await closeOrphanedCalls(store.db, 'server_restart', T0 + 200_000, 'node-a');
      const byId = Object.fromEntries(closed.map((r) => [r.call_id, r]));
      assert.deepEqual(Object.keys(byId).sort(), ['corrupt', 'orphan-ringing', 'orphan-up']);
      const pick = (r: (typeof closed)[number]) => [r.disposition, r.hangup_cause, r.hangup_by, r.sip_code, r.start_time, r.answer_time, r.end_time, r.duration, r.billsec];
      assert.deepEqual(pick(byId['orphan-ringing']!), ['failed', 'server_restart', 'system', null, at(100), null, at(200), 100, 0]);
      assert.deepEqual(pick(byId['orphan-up']!), ['answered', 'server_restart', 'system', 200, at(100), at(112), at(200), 100, 88]);
      assert.deepEqual([byId['orphan-up']!.b_call_id, byId['orphan-up']!.trunk_id], ['b-up', 4]);
      assert.deepEqual(pick(byId.corrupt!), ['failed', 'server_restart', 'system', null, at(90), null, at(200), 110, 0]);
      assert.deepEqual([byId.corrupt!.caller, byId.corrupt!.a_call_id], ['unknown', 'corrupt']);
      assert.deepEqual(await journal(), [{ call_id: 'other-node', node_id: 'node-b' }]);

      assert.deepEqual(await closeOrphanedCalls(store.db, 'server_restart', T0, 'node-a'), []);
      const all = await closeOrphanedCalls(store.db);
      assert.deepEqual(all.map((r) => [r.call_id, r.hangup_cause]), [['other-node', 'server_restart']]);
      assert.deepEqual(await journal(), []);
      const persisted = await listCdrs(store.db, { startFrom: at(100), startBefore: at(101), limit: 10, offset: 0 });
      assert.equal(persisted.total, 3);
    });

    test('cdrStats: every disposition and direction, sums, averages and busiest UTC hour', async () => {
      const now = Date.parse('2026-05-01T12:00:00.000Z');
      const h = (iso: string, sec = 0) => new Date(Date.parse(iso) + sec * 1000).toISOString();
      const rows: NewCdr[] = [
        cdr('s1', { start_time: h('2026-05-01T08:10:00Z'), answer_time: h('2026-05-01T08:10:00Z', 5), end_time: h('2026-05-01T08:10:00Z', 65) }),
        cdr('s2', { start_time: h('2026-05-01T08:40:00Z'), answer_time: h('2026-05-01T08:40:00Z', 3), end_time: h('2026-05-01T08:40:00Z', 33), direction: 'outbound' }),
        cdr('s3', { start_time: h('2026-05-01T11:59:00Z'), answer_time: null, end_time: h('2026-05-01T11:59:00Z', 20), disposition: 'no_answer', direction: 'internal' }),
        cdr('s4', { start_time: h('2026-04-30T12:00:00Z'), answer_time: null, end_time: h('2026-04-30T12:00:00Z', 7), disposition: 'busy' }),
        cdr('s5', { start_time: h('2026-04-30T11:59:59Z'), disposition: 'blocked', answer_time: null, end_time: h('2026-04-30T11:59:59Z', 1) }),
        cdr('s6', { start_time: h('2026-04-25T03:00:00Z'), disposition: 'cancelled', answer_time: null, end_time: h('2026-04-25T03:00:00Z', 9) }),
      ];
      const fresh = await createTestDatabase(engine);
      const s = openStore(fresh.url, { schema: fresh.schema });
      try {
        await migrateToLatest(s);
        const empty = await cdrStats(s.db, 'day', now);
        assert.deepEqual(empty, {
          period: 'day', from: '2026-04-30T12:00:00.000Z', to: '2026-05-01T12:00:00.000Z', total_calls: 0,
          by_disposition: { answered: 0, busy: 0, no_answer: 0, failed: 0, cancelled: 0, rejected: 0, blocked: 0 },
          total_duration: 0, average_duration: 0, total_billsec: 0, average_billsec: 0, busiest_hour: null,
          by_direction: { inbound: 0, outbound: 0, internal: 0 },
        });
        await insertCdrs(s.db, rows);
        assert.deepEqual(await cdrStats(s.db, 'day', now), {
          period: 'day', from: '2026-04-30T12:00:00.000Z', to: '2026-05-01T12:00:00.000Z', total_calls: 4,
          by_disposition: { answered: 2, busy: 1, no_answer: 1, failed: 0, cancelled: 0, rejected: 0, blocked: 0 },
          total_duration: 65 + 33 + 20 + 7, average_duration: 31.25, total_billsec: 60 + 30, average_billsec: 45, busiest_hour: 8,
          by_direction: { inbound: 2, outbound: 1, internal: 1 },
        });
        const week = await cdrStats(s.db, 'week', now);
        assert.deepEqual([week.from, week.total_calls, week.by_disposition.blocked, week.by_disposition.cancelled, week.total_duration, week.average_duration],
          ['2026-04-24T12:00:00.000Z', 6, 1, 1, 135, 22.5]);
        assert.equal(week.busiest_hour, 8);
        const month = await cdrStats(s.db, 'month', Date.parse('2026-05-20T00:00:00.000Z'));
        assert.deepEqual([month.from, month.total_calls, month.busiest_hour], ['2026-04-20T00:00:00.000Z', 6, 8]);
        // Tie on count: the earliest hour wins.
        const tie = await cdrStats(s.db, 'week', Date.parse('2026-04-30T13:00:00.000Z'));
        assert.deepEqual([tie.total_calls, tie.busiest_hour], [3, 3]);
      } finally {
        await s.close();
        await fresh.cleanup();
      }
    });
  });
}
