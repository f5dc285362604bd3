import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { ENGINES, createTestDatabase, type TestDatabase } from '../../helpers/databases.ts';
import { migrateToLatest, openStore, type Store } from '../../../src/store/database.ts';
import type { CallStart, NewCdr } from '../../../src/store/cdrs.ts';
import { CallRecordWriter } from '../../../src/pbx/call-cdr-writer.ts';

const start = (id: string): CallStart => ({ call_id: id, a_call_id: `a-${id}`, caller: '+15550001111', callee: '1001', direction: 'inbound', start_time: '2026-03-10T09:00:00.000Z', answer_time: '2026-03-10T09:00:02.000Z' });
const end = (id: string, over: Partial<NewCdr> = {}): NewCdr => ({ ...start(id), end_time: '2026-03-10T09:01:00.000Z', disposition: 'answered', hangup_cause: 'caller_bye', hangup_by: 'caller', sip_code: 200, ...over });

for (const engine of ENGINES) {
  describe(`CallRecordWriter (${engine})`, () => {
    let tdb: TestDatabase;
    let store: Store;
    const log = pino({ level: 'silent' });
    const journal = async () => (await store.db.selectFrom('active_calls').select('call_id').orderBy('call_id').execute()).map((r) => r.call_id);
    const cdrs = async () => (await store.db.selectFrom('cdrs').select(['call_id', 'billsec']).orderBy('call_id').execute());

    before(async () => {
      tdb = await createTestDatabase(engine);
      store = openStore(tdb.url, { schema: tdb.schema });
      await migrateToLatest(store);
    });
    after(async () => { await store.close(); await tdb.cleanup(); });

    test('records queued in one turn commit as one batch; later ones in the next', async () => {
      const w = new CallRecordWriter(store.db, log);
      w.open(start('j1'));
      w.open(start('j2'));
      w.close(end('r1', { disposition: 'busy', answer_time: null, sip_code: 486 }), false);
      await w.flushed();
      assert.deepEqual(w.counters, { batches: 1, records: 3, failed: 0 });
      assert.deepEqual(await journal(), ['j1', 'j2']);
      w.close(end('j1'), true);
      await w.flushed();
      assert.deepEqual(await journal(), ['j2']);
      assert.deepEqual(await cdrs(), [{ call_id: 'j1', billsec: 58 }, { call_id: 'r1', billsec: 0 }]);
      assert.equal(w.counters.batches, 2);
    });

    test('a call answered and ended in the same batch never touches the journal', async () => {
      const w = new CallRecordWriter(store.db, log);
      w.open(start('s1'));
      w.close(end('s1'), true);
      await w.flushed();
      assert.deepEqual(await journal(), ['j2']);
      assert.ok((await cdrs()).some((c) => c.call_id === 's1'));
      assert.deepEqual(w.counters, { batches: 1, records: 1, failed: 0 });
    });

    test('a failing record is retried alone: the rest of its batch is stored', async () => {
      const w = new CallRecordWriter(store.db, log);
      w.close(end('ok1'), false);
      w.close(end('bad', { end_time: 'not a date' }), false);
      w.close(end('ok2'), false);
      await w.flushed();
      const ids = (await cdrs()).map((c) => c.call_id);
      assert.ok(ids.includes('ok1') && ids.includes('ok2') && !ids.includes('bad'), ids.join());
      assert.equal(w.counters.failed, 1);
      assert.equal(w.counters.records, 2);
    });
  });
}
