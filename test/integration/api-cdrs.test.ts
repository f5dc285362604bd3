import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES } from '../helpers/databases.ts';
import { createUserSession, startTestServer, type TestServer } from '../helpers/server.ts';
import { insertCdrs, type NewCdr } from '../../src/store/cdrs.ts';

const iso = (ms: number) => new Date(ms).toISOString();

/** A CDR starting at `start` (ms), answered after `ring` s (null: not answered), lasting `talk` s after that. */
function cdr(id: string, start: number, over: Partial<NewCdr> & { ring?: number | null; talk?: number } = {}): NewCdr {
  const { ring = 2, talk = 60, ...rest } = over;
  const answer = ring === null ? null : start + ring * 1000;
  return {
    call_id: id, a_call_id: `${id}@198.51.100.7`, b_call_id: `${id}-b@strowger`, caller: '+15550001111', callee: '1001',
    direction: 'inbound', start_time: iso(start), answer_time: answer === null ? null : iso(answer),
    end_time: iso((answer ?? start) + (ring === null ? 20_000 : talk * 1000)),
    disposition: ring === null ? 'no_answer' : 'answered', hangup_cause: ring === null ? 'no_answer' : 'caller_bye',
    hangup_by: ring === null ? 'system' : 'caller', sip_code: ring === null ? 480 : 200, ...rest,
  };
}

const ZERO_DISPOSITIONS = { answered: 0, busy: 0, no_answer: 0, failed: 0, cancelled: 0, rejected: 0, blocked: 0 };

for (const engine of ENGINES) {
  describe(`/api/cdrs (${engine})`, () => {
    let t: TestServer;
    let userCookie: string;
    const now = Date.now();
    const HOUR = 3_600_000;
    const DAY = 24 * HOUR;

    before(async () => {
      t = await startTestServer(engine);
      userCookie = await createUserSession(t);
      // History (January 2024) for filters, recent calls for stats; none near a period edge.
      await insertCdrs(t.server.ctx.store.db, [
        cdr('jan-01', Date.parse('2024-01-01T00:00:00.000Z')),
        cdr('jan-15a', Date.parse('2024-01-15T10:00:00.000Z'), { direction: 'outbound', trunk_id: 3, codec: 'PCMA' }),
        cdr('jan-15b', Date.parse('2024-01-15T10:00:00.001Z'), { ring: null }),
        cdr('jan-31', Date.parse('2024-01-31T23:59:59.999Z'), { disposition: 'busy', ring: null, sip_code: 486, hangup_cause: 'busy' }),
        cdr('feb-01', Date.parse('2024-02-01T00:00:00.000Z'), { direction: 'internal', caller_device_id: 1, callee_device_id: 2 }),
        // Last 24 h: three calls at the same instant make their hour the busiest.
        cdr('r-1', now - 3 * HOUR, { ring: 4, talk: 100 }),
        cdr('r-2', now - 3 * HOUR, { ring: 3, talk: 41, direction: 'outbound' }),
        cdr('r-3', now - 3 * HOUR, { ring: null, disposition: 'rejected', sip_code: 603, hangup_cause: 'rejected', direction: 'internal' }),
        cdr('r-4', now - 10 * 60_000, { ring: null, disposition: 'blocked', sip_code: 403, hangup_cause: 'blocked' }),
        // Last week and last month only.
        cdr('w-1', now - 3 * DAY, { ring: 1, talk: 30 }),
        cdr('m-1', now - 20 * DAY, { ring: null, disposition: 'cancelled', hangup_cause: 'caller_cancel', hangup_by: 'caller', sip_code: 487 }),
      ]);
    });
    after(async () => { await t?.close(); });

    const get = (path: string, cookie = t.adminCookie) => t.request('GET', path, { cookie });
    const ids = (body: any) => body.data.map((c: { call_id: string }) => c.call_id);

    test('anonymous requests get 401; any logged-in user may read', async () => {
      for (const path of ['/api/cdrs', '/api/cdrs/stats', '/api/cdrs/1']) {
        const r = await t.request('GET', path);
        assert.equal(r.status, 401, path);
        assert.deepEqual(r.body, { error: { code: 'authentication_error', message: 'Not authenticated', details: null } });
        assert.equal((await get(path, userCookie)).status, 200, path);
      }
    });

    test('list: newest first, paginated', async () => {
      const r = await get('/api/cdrs');
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.pagination, { total: 11, limit: 50, offset: 0 });
      // Equal start times: the later insert (higher id) first.
      assert.deepEqual(ids(r.body), ['r-4', 'r-3', 'r-2', 'r-1', 'w-1', 'm-1', 'feb-01', 'jan-31', 'jan-15b', 'jan-15a', 'jan-01']);
      const p = await get('/api/cdrs?limit=3&offset=4');
      assert.deepEqual(p.body.pagination, { total: 11, limit: 3, offset: 4 });
      assert.deepEqual(ids(p.body), ['w-1', 'm-1', 'feb-01']);
    });

    test('from_date/to_date as days: to_date covers its whole day', async () => {
      const r = await get('/api/cdrs?limit=50&offset=0&from_date=2024-01-01&to_date=2024-01-31');
      assert.deepEqual(ids(r.body), ['jan-31', 'jan-15b', 'jan-15a', 'jan-01']);
      assert.equal(r.body.pagination.total, 4);
      assert.deepEqual(ids((await get('/api/cdrs?from_date=2024-01-15&to_date=2024-01-15')).body), ['jan-15b', 'jan-15a']);
      assert.deepEqual(ids((await get('/api/cdrs?to_date=2024-01-14')).body), ['jan-01']);
      assert.deepEqual(ids((await get('/api/cdrs?from_date=2024-01-31&to_date=2024-02-01')).body), ['feb-01', 'jan-31']);
    });

    test('from_date/to_date as date-times: both inclusive to the millisecond, offsets honoured', async () => {
      assert.deepEqual(ids((await get('/api/cdrs?from_date=2024-01-15T10:00:00Z&to_date=2024-01-15T10:00:00Z')).body), ['jan-15a']);
      assert.deepEqual(ids((await get('/api/cdrs?from_date=2024-01-15T10:00:00.001Z&to_date=2024-01-31T23:59:59.999Z')).body), ['jan-31', 'jan-15b']);
      assert.deepEqual(ids((await get(`/api/cdrs?from_date=${encodeURIComponent('2024-01-15T12:00:00+02:00')}&to_date=2024-01-15T10:00`)).body), ['jan-15a']);
    });

    test('direction and disposition filters combine with dates', async () => {
      assert.deepEqual(ids((await get('/api/cdrs?direction=outbound')).body), ['r-2', 'jan-15a']);
      assert.deepEqual(ids((await get('/api/cdrs?disposition=no_answer')).body), ['jan-15b']);
      assert.deepEqual(ids((await get('/api/cdrs?direction=inbound&disposition=answered&to_date=2024-12-31')).body), ['jan-01']);
      const none = await get('/api/cdrs?direction=internal&disposition=busy');
      assert.deepEqual(none.body, { data: [], pagination: { total: 0, limit: 50, offset: 0 } });
    });

    test('bad filters are validation errors naming the field', async () => {
      const cases: Array<[string, Array<{ field: string; message: string }>]> = [
        ['from_date=yesterday', [{ field: 'from_date', message: 'must be a date (YYYY-MM-DD) or an ISO-8601 date-time' }]],
        ['to_date=2024-02-30', [{ field: 'to_date', message: 'must be a date (YYYY-MM-DD) or an ISO-8601 date-time' }]],
        ['from_date=2024-01-01T25:00Z&to_date=2024-13-01', [
          { field: 'from_date', message: 'must be a date (YYYY-MM-DD) or an ISO-8601 date-time' },
          { field: 'to_date', message: 'must be a date (YYYY-MM-DD) or an ISO-8601 date-time' },
        ]],
        ['from_date=2024-02-01&to_date=2024-01-31', [{ field: 'to_date', message: 'must not be before from_date' }]],
      ];
      for (const [query, details] of cases) {
        const r = await get(`/api/cdrs?${query}`);
        assert.equal(r.status, 400, query);
        assert.deepEqual(r.body, { error: { code: 'validation_error', message: 'Validation failed', details } }, query);
      }
      for (const [query, field] of [['direction=sideways', 'direction'], ['disposition=lost', 'disposition'], ['limit=0', 'limit'], ['limit=501', 'limit'], ['offset=-1', 'offset']]) {
        const r = await get(`/api/cdrs?${query}`);
        assert.equal(r.status, 400, query);
        assert.equal(r.body.error.code, 'validation_error');
        assert.deepEqual(r.body.error.details.map((d: { field: string }) => d.field), [field], query);
      }
    });

    test('get one CDR by id with every field; unknown id 404, bad id 400', async () => {
      const listed = (await get('/api/cdrs?direction=outbound&to_date=2024-12-31')).body.data[0];
      const r = await get(`/api/cdrs/${listed.id}`, userCookie);
      assert.equal(r.status, 200);
      const { id, created_at, ...rest } = r.body;
      assert.equal(id, listed.id);
      assert.match(created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.deepEqual(rest, {
        call_id: 'jan-15a', a_call_id: 'jan-15a@198.51.100.7', b_call_id: 'jan-15a-b@strowger', caller: '+15550001111', callee: '1001',
        did_id: null, did_number: null, caller_device_id: null, callee_device_id: null, trunk_id: 3, direction: 'outbound',
        start_time: '2024-01-15T10:00:00.000Z', answer_time: '2024-01-15T10:00:02.000Z', end_time: '2024-01-15T10:01:02.000Z',
        duration: 62, billsec: 60, disposition: 'answered', hangup_cause: 'caller_bye', hangup_by: 'caller', sip_code: 200, codec: 'PCMA',
        twilio_call_sid: null, twilio: null,
      });
      const missing = await get('/api/cdrs/999999');
      assert.equal(missing.status, 404);
      assert.deepEqual(missing.body, { error: { code: 'not_found', message: 'CDR not found', details: null } });
      const bad = await get('/api/cdrs/abc');
      assert.equal(bad.status, 400);
      assert.deepEqual(bad.body.error.details.map((d: { field: string }) => d.field), ['id']);
    });

    test('stats: day (default), week, month with exact numbers; /cdrs/stats is not an id', async () => {
      const busiest = new Date(now - 3 * HOUR).getUTCHours();
      const day = await get('/api/cdrs/stats');
      assert.equal(day.status, 200);
      const { from, to, ...d } = day.body;
      assert.equal(Date.parse(to) - Date.parse(from), DAY);
      assert.ok(Date.parse(to) >= now && Date.parse(to) - now < 60_000);
      // r-1: 104 s (billsec 100), r-2: 44 s (41), r-3: 20 s, r-4: 20 s.
      assert.deepEqual(d, {
        period: 'day', total_calls: 4,
        by_disposition: { ...ZERO_DISPOSITIONS, answered: 2, rejected: 1, blocked: 1 },
        total_duration: 188, average_duration: 47, total_billsec: 141, average_billsec: 70.5, busiest_hour: busiest,
        by_direction: { inbound: 2, outbound: 1, internal: 1 },
      });
      assert.deepEqual((await get('/api/cdrs/stats?period=day', userCookie)).body.total_calls, 4);

      const week = (await get('/api/cdrs/stats?period=week')).body;
      assert.equal(Date.parse(week.to) - Date.parse(week.from), 7 * DAY);
      // + w-1: 31 s (30).
      assert.deepEqual([week.period, week.total_calls, week.by_disposition, week.total_duration, week.average_duration, week.total_billsec, week.average_billsec, week.busiest_hour, week.by_direction],
        ['week', 5, { ...ZERO_DISPOSITIONS, answered: 3, rejected: 1, blocked: 1 }, 219, 43.8, 171, 57, busiest, { inbound: 3, outbound: 1, internal: 1 }]);

      const month = (await get('/api/cdrs/stats?period=month')).body;
      assert.equal(Date.parse(month.to) - Date.parse(month.from), 30 * DAY);
      // + m-1: 20 s, cancelled.
      assert.deepEqual([month.period, month.total_calls, month.by_disposition, month.total_duration, month.average_duration, month.total_billsec, month.average_billsec, month.by_direction],
        ['month', 6, { ...ZERO_DISPOSITIONS, answered: 3, rejected: 1, blocked: 1, cancelled: 1 }, 239, 39.83, 171, 57, { inbound: 4, outbound: 1, internal: 1 }]);
    });

    test('stats: a bad period is a validation error', async () => {
      for (const period of ['year', 'DAY', '']) {
        const r = await get(`/api/cdrs/stats?period=${period}`);
        assert.equal(r.status, 400, period);
        assert.equal(r.body.error.code, 'validation_error');
        assert.deepEqual(r.body.error.details.map((d: { field: string }) => d.field), ['period']);
      }
    });
  });
}
