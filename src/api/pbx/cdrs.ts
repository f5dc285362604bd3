/**
 * `/api/cdrs` (seed 003): call detail records, readable by any logged-in user (CDRs are
 * written by the call engine, never through the API).
 *
 * `from_date` / `to_date` take a day (YYYY-MM-DD, UTC) or an ISO-8601 date-time (UTC when
 * it has no offset); both bounds are inclusive and a day as `to_date` covers the whole day.
 * `/cdrs/stats` is a static path, so the router never reads "stats" as an `:id`.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';
import { errorResponses, notFound, validationError, type FieldError } from '../shared/errors.ts';
import { ListOf, page, PaginationQuery } from '../shared/pagination.ts';
import {
  CDR_DIRECTIONS, CDR_DISPOSITIONS, CDR_HANGUP_BY, HANGUP_CAUSES, cdrStats, findCdrById, listCdrs, toCdr, type CdrFilters,
} from '../../store/cdrs.ts';
import { IdParams } from './schemas.ts';
import { TwilioCallSchema, TwilioCallSidField, twilioCallView, withTwilioCalls } from './twilio-call-view.ts';
import type { CdrRow, TwilioCallRow } from '../../store/schema.ts';

const literals = <T extends string>(values: readonly T[], description: string) =>
  Type.Union(values.map((v) => Type.Literal(v)), { description: `${description}: ${values.join(' | ')}` });
const Direction = literals(CDR_DIRECTIONS, 'Direction');
const Disposition = literals(CDR_DISPOSITIONS, 'Outcome');
const NullableInt = Type.Union([Type.Integer(), Type.Null()]);
const NullableString = Type.Union([Type.String(), Type.Null()]);

const CdrSchema = Type.Object({
  id: Type.Integer(),
  call_id: Type.String({ description: 'Our call id (as in /api/calls)' }),
  a_call_id: Type.String({ description: 'SIP Call-ID of the incoming leg' }),
  b_call_id: Type.Union([Type.String(), Type.Null()], { description: 'SIP Call-ID of the outgoing leg; null when none was placed' }),
  caller: Type.String(),
  callee: Type.String(),
  did_id: NullableInt,
  did_number: NullableString,
  caller_device_id: NullableInt,
  callee_device_id: NullableInt,
  trunk_id: NullableInt,
  direction: Direction,
  start_time: Type.String({ format: 'date-time' }),
  answer_time: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  end_time: Type.String({ format: 'date-time' }),
  duration: Type.Integer({ description: 'Seconds from start to end (rounded)' }),
  billsec: Type.Integer({ description: 'Seconds from answer to end (rounded); 0 when not answered' }),
  disposition: Disposition,
  hangup_cause: Type.String({ description: `Why the call ended: ${HANGUP_CAUSES.join(', ')}` }),
  hangup_by: literals(CDR_HANGUP_BY, 'Who ended the call'),
  sip_code: Type.Union([Type.Integer(), Type.Null()], { description: 'Final SIP status (200 when answered); null when none was sent' }),
  codec: NullableString,
  created_at: Type.String({ format: 'date-time' }),
  twilio_call_sid: TwilioCallSidField,
  twilio: TwilioCallSchema,
}, {
  examples: [{
    id: 1, call_id: 'c-5f1e0b2a', a_call_id: 'a84b4c76e66710@198.51.100.7', b_call_id: '3848276298220188511@strowger', caller: '+15550001111',
    callee: '1001', did_id: 1, did_number: '+15551234567', caller_device_id: null, callee_device_id: 1, trunk_id: 1, direction: 'inbound',
    start_time: '2026-01-01T09:00:00.000Z', answer_time: '2026-01-01T09:00:04.000Z', end_time: '2026-01-01T09:02:04.000Z', duration: 124,
    billsec: 120, disposition: 'answered', hangup_cause: 'caller_bye', hangup_by: 'caller', sip_code: 200, codec: 'PCMU', created_at: '2026-01-01T09:02:04.012Z',
    twilio_call_sid: null, twilio: null,
  }],
});

const DateBound = (which: string) => Type.String({
  maxLength: 40, description: `${which}: YYYY-MM-DD (UTC day) or ISO-8601 date-time; inclusive`, examples: [which === 'Start' ? '2024-01-01' : '2024-01-31'],
});
const CdrQuery = Type.Object({
  ...PaginationQuery.properties,
  from_date: Type.Optional(DateBound('Start')),
  to_date: Type.Optional(DateBound('End')),
  direction: Type.Optional(Direction),
  disposition: Type.Optional(Disposition),
});

const Period = Type.Union([Type.Literal('day'), Type.Literal('week'), Type.Literal('month')], {
  default: 'day', description: 'day: last 24 h, week: last 7 days, month: last 30 days (all ending now)',
});
const StatsQuery = Type.Object({ period: Type.Optional(Period) });
const counts = (keys: readonly string[]) => Type.Object(Object.fromEntries(keys.map((k) => [k, Type.Integer()])));
const StatsSchema = Type.Object({
  period: Period,
  from: Type.String({ format: 'date-time' }),
  to: Type.String({ format: 'date-time' }),
  total_calls: Type.Integer(),
  by_disposition: counts(CDR_DISPOSITIONS),
  total_duration: Type.Integer({ description: 'Seconds' }),
  average_duration: Type.Number({ description: 'Seconds per call, two decimals' }),
  total_billsec: Type.Integer(),
  average_billsec: Type.Number({ description: 'Billed seconds per answered call, two decimals' }),
  busiest_hour: Type.Union([Type.Integer({ minimum: 0, maximum: 23 }), Type.Null()], { description: 'UTC hour with the most call starts (earliest on a tie); null with no calls' }),
  by_direction: counts(CDR_DIRECTIONS),
}, {
  examples: [{
    period: 'day', from: '2026-01-01T12:00:00.000Z', to: '2026-01-02T12:00:00.000Z', total_calls: 4,
    by_disposition: { answered: 2, busy: 1, no_answer: 1, failed: 0, cancelled: 0, rejected: 0, blocked: 0 },
    total_duration: 125, average_duration: 31.25, total_billsec: 90, average_billsec: 45, busiest_hour: 8,
    by_direction: { inbound: 2, outbound: 1, internal: 1 },
  }],
});

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/i;

function isCalendarDay(y: string, m: string, d: string): boolean {
  const date = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
  return date.getUTCFullYear() === Number(y) && date.getUTCMonth() === Number(m) - 1 && date.getUTCDate() === Number(d);
}

/**
 * A query bound as epoch ms: a day is its midnight (UTC), or the next midnight when it ends
 * a range (so the whole day is in); a date-time is its instant, +1 ms when it ends a range
 * (timestamps are stored to the millisecond, so "< t + 1 ms" is "≤ t"). undefined if invalid.
 */
function parseBound(text: string, end: boolean): number | undefined {
  const day = DAY.exec(text);
  if (day) {
    if (!isCalendarDay(day[1]!, day[2]!, day[3]!)) return undefined;
    return Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3]) + (end ? 1 : 0));
  }
  const dt = DATE_TIME.exec(text);
  if (!dt || !isCalendarDay(dt[1]!, dt[2]!, dt[3]!)) return undefined;
  if (Number(dt[4]) > 23 || Number(dt[5]) > 59 || Number(dt[6] ?? 0) > 59) return undefined;
  const ms = Date.parse(dt[8] ? text : `${text}Z`);
  if (Number.isNaN(ms)) return undefined;
  return end ? ms + 1 : ms;
}

/** The store filters for a validated query; one error per bad bound. */
function cdrFilters(q: Static<typeof CdrQuery>): CdrFilters {
  const errors: FieldError[] = [];
  const message = 'must be a date (YYYY-MM-DD) or an ISO-8601 date-time';
  const from = q.from_date === undefined ? undefined : parseBound(q.from_date, false);
  const to = q.to_date === undefined ? undefined : parseBound(q.to_date, true);
  if (q.from_date !== undefined && from === undefined) errors.push({ field: 'from_date', message });
  if (q.to_date !== undefined && to === undefined) errors.push({ field: 'to_date', message });
  if (from !== undefined && to !== undefined && to <= from) errors.push({ field: 'to_date', message: 'must not be before from_date' });
  if (errors.length > 0) throw validationError(errors);
  return {
    startFrom: from === undefined ? undefined : new Date(from).toISOString(),
    startBefore: to === undefined ? undefined : new Date(to).toISOString(),
    direction: q.direction,
    disposition: q.disposition,
    limit: q.limit,
    offset: q.offset,
  };
}

const cdrView = (row: CdrRow, twilio: TwilioCallRow | undefined) => ({ ...toCdr(row), twilio: twilioCallView(twilio) });

export async function cdrsRoutes(base: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const db = ctx.store.db;
  const tags = ['cdrs'];

  app.get('/cdrs', {
    schema: {
      tags, summary: 'List call detail records, newest first (any logged-in user). from_date/to_date: YYYY-MM-DD (a to_date day is included whole) or ISO-8601 date-time',
      querystring: CdrQuery, response: { 200: ListOf(CdrSchema), ...errorResponses(400, 401) },
    },
  }, async (req) => {
    const { rows, total } = await listCdrs(db, cdrFilters(req.query));
    return page(await withTwilioCalls(db, rows, cdrView), total, req.query);
  });

  app.get('/cdrs/stats', {
    schema: {
      tags, summary: 'Call statistics over the last day (default), week (7 days) or month (30 days); any logged-in user',
      querystring: StatsQuery, response: { 200: StatsSchema, ...errorResponses(400, 401) },
    },
  }, async (req) => cdrStats(db, req.query.period ?? 'day', Date.now()));

  app.get('/cdrs/:id', {
    schema: { tags, summary: 'Get a call detail record (any logged-in user)', params: IdParams, response: { 200: CdrSchema, ...errorResponses(400, 401, 404) } },
  }, async (req) => {
    const row = await findCdrById(db, req.params.id);
    if (!row) throw notFound('CDR');
    return (await withTwilioCalls(db, [row], cdrView))[0]!;
  });
}
