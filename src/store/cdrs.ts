/**
 * Call detail records: one row per call, written when the call ends, plus the journal of
 * calls in progress (`active_calls`) that makes a crash lose nothing: a call is journalled
 * when it starts ringing, its journal row is swapped for its CDR in one transaction when it
 * ends, and whatever is still journalled at the next start-up becomes a "server_restart" CDR.
 *
 * Field names are the CDR's own (snake_case) end to end: journal JSON, table row and API
 * object are the same record at different stages, so no layer renames anything.
 */
import { sql, type Insertable } from 'kysely';
import type { CdrRow, CdrsTable } from './schema.ts';
import { inTransaction } from './in-transaction.ts';
import { isoNow } from './time.ts';
import { ROWS_PER_STATEMENT, runMultiRowChunked } from './multi-row.ts';
import { commitSteps, sqliteInsertText } from './database.ts';
import type { WriteStep } from './write-steps.ts';
import type { Db } from './db.ts';

export const CDR_DIRECTIONS = ['inbound', 'outbound', 'internal'] as const;
export type CdrDirection = (typeof CDR_DIRECTIONS)[number];

export const CDR_DISPOSITIONS = ['answered', 'busy', 'no_answer', 'failed', 'cancelled', 'rejected', 'blocked'] as const;
export type CdrDisposition = (typeof CDR_DISPOSITIONS)[number];

export const CDR_HANGUP_BY = ['caller', 'callee', 'system', 'api'] as const;
export type CdrHangupBy = (typeof CDR_HANGUP_BY)[number];

/**
 * Every hangup cause the engine records, the one list of them: the router's rejections, the
 * call's own endings and the start-up sweep name their cause from here (`HangupCause`), and
 * the API documents these values. The column stays free text so a new cause needs no migration.
 */
export const HANGUP_CAUSES = [
  // A party ended an answered or ringing call.
  'normal_clearing', 'caller_bye', 'callee_bye', 'caller_cancel', 'api_hangup',
  // The callee side answered with a failure (RFC 3261 §21.4/§21.6 statuses).
  'busy', 'no_answer', 'rejected', 'failed',
  // The router decided before anything rang.
  'no_route', 'blocked', 'dnd', 'unavailable', 'voicemail_unavailable', 'no_media_ports',
  // The engine ended the call: timers (RFC 3261 §13.3.1.4 no ACK, RFC 3262 no PRACK,
  // RFC 4028 session expiry), media silence, limits, shutdown and crash recovery.
  'no_ack', 'no_prack', 'session_expired', 'session_refresh_failed', 'rtp_timeout', 'max_duration',
  // SRTP (issue 16): every packet of a leg failed authentication for STROWGER_SRTP_AUTH_FAIL_SECONDS.
  'srtp_auth_failed',
  'shutdown', 'server_restart',
  // The media worker carrying the call died (its sockets went with it).
  'media_failure',
  // Transfer (RFC 3515 REFER, RFC 3891 Replaces, or the API): the pairing before the transfer
  // ends `transferred` (the continuing call gets its own CDR); a blind API transfer whose
  // target failed ends the call `transfer_failed`.
  'transferred', 'transfer_failed',
  // An INVITE with Replaces (RFC 3891: call pickup, a transfer completed between phones) took
  // a party's place: the pairing before ends `replaced`, the continuing call gets its own CDR.
  'replaced',
] as const;
export type HangupCause = (typeof HANGUP_CAUSES)[number];

/** What is known about a call when it starts ringing (and, once answered, its answer time and codec). */
export interface CallStart {
  /** Our opaque call id. */
  call_id: string;
  /** SIP Call-ID of the incoming leg. */
  a_call_id: string;
  /** SIP Call-ID of the outgoing leg, once it exists. */
  b_call_id?: string | null;
  caller: string;
  callee: string;
  did_id?: number | null;
  did_number?: string | null;
  caller_device_id?: number | null;
  callee_device_id?: number | null;
  trunk_id?: number | null;
  direction: CdrDirection;
  /** ISO-8601. */
  start_time: string;
  answer_time?: string | null;
  codec?: string | null;
  /** Twilio's CallSid (`X-Strowger-Call-Sid` of an INVITE from a trunk), when Twilio sent the call. */
  twilio_call_sid?: string | null;
}

/** A finished call. `duration` and `billsec` are derived from the times, never given. */
export interface NewCdr extends CallStart {
  end_time: string;
  disposition: CdrDisposition;
  hangup_cause: string;
  hangup_by: CdrHangupBy;
  /** Final SIP status of the call (200 when answered); null when none was sent. */
  sip_code?: number | null;
}

export interface Cdr {
  id: number;
  call_id: string;
  a_call_id: string;
  b_call_id: string | null;
  caller: string;
  callee: string;
  did_id: number | null;
  did_number: string | null;
  caller_device_id: number | null;
  callee_device_id: number | null;
  trunk_id: number | null;
  direction: CdrDirection;
  start_time: string;
  answer_time: string | null;
  end_time: string;
  duration: number;
  billsec: number;
  disposition: CdrDisposition;
  hangup_cause: string;
  hangup_by: CdrHangupBy;
  sip_code: number | null;
  codec: string | null;
  created_at: string;
  twilio_call_sid: string | null;
}

export function toCdr(r: CdrRow): Cdr {
  return {
    id: r.id, call_id: r.call_id, a_call_id: r.a_call_id, b_call_id: r.b_call_id,
    caller: r.caller, callee: r.callee, did_id: r.did_id, did_number: r.did_number,
    caller_device_id: r.caller_device_id, callee_device_id: r.callee_device_id, trunk_id: r.trunk_id,
    direction: r.direction, start_time: r.start_time, answer_time: r.answer_time, end_time: r.end_time,
    duration: r.duration, billsec: r.billsec, disposition: r.disposition, hangup_cause: r.hangup_cause,
    hangup_by: r.hangup_by, sip_code: r.sip_code, codec: r.codec, created_at: r.created_at, twilio_call_sid: r.twilio_call_sid,
  };
}

/** Canonical stored form (24-character UTC ISO), so text order is time order. Throws on a non-date. */
function canonicalTime(field: string, value: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new RangeError(`CDR ${field} is not a date: ${JSON.stringify(value)}`);
  return isoNow(ms);
}

/** Whole seconds from `a` to `b`, rounded to nearest; 0 if the clock stepped back. */
function secondsBetween(a: string, b: string): number {
  return Math.max(0, Math.round((Date.parse(b) - Date.parse(a)) / 1000));
}

function cdrValues(c: NewCdr, createdAt: string): Insertable<CdrsTable> {
  const start = canonicalTime('start_time', c.start_time);
  const end = canonicalTime('end_time', c.end_time);
  const answer = c.answer_time == null ? null : canonicalTime('answer_time', c.answer_time);
  return {
    call_id: c.call_id,
    a_call_id: c.a_call_id,
    b_call_id: c.b_call_id ?? null,
    caller: c.caller,
    callee: c.callee,
    did_id: c.did_id ?? null,
    did_number: c.did_number ?? null,
    caller_device_id: c.caller_device_id ?? null,
    callee_device_id: c.callee_device_id ?? null,
    trunk_id: c.trunk_id ?? null,
    direction: c.direction,
    start_time: start,
    answer_time: answer,
    end_time: end,
    duration: secondsBetween(start, end),
    billsec: answer === null ? 0 : secondsBetween(answer, end),
    disposition: c.disposition,
    hangup_cause: c.hangup_cause,
    hangup_by: c.hangup_by,
    sip_code: c.sip_code ?? null,
    codec: c.codec ?? null,
    created_at: createdAt,
    twilio_call_sid: c.twilio_call_sid ?? null,
  };
}

/**
 * Stores one CDR. Idempotent per call: undefined when a CDR for `call_id` exists already
 * (a retried close, or an orphan closed twice), so a repeat never doubles a call.
 */
export async function insertCdr(db: Db, cdr: NewCdr): Promise<CdrRow | undefined> {
  return db.insertInto('cdrs').values(cdrValues(cdr, isoNow()))
    .onConflict((oc) => oc.column('call_id').doNothing()).returningAll().executeTakeFirst();
}

/**
 * Stores many CDRs in one transaction (the engine groups commits at high call rates: one
 * fsync for the batch). Calls that already have a CDR are skipped; returns the rows inserted.
 */
export async function insertCdrs(db: Db, cdrs: readonly NewCdr[]): Promise<CdrRow[]> {
  if (cdrs.length === 0) return [];
  const now = isoNow();
  const values = cdrs.map((c) => cdrValues(c, now));
  return inTransaction(db, async (tx) => {
    const out: CdrRow[] = [];
    for (let i = 0; i < values.length; i += ROWS_PER_STATEMENT) {
      const rows = await tx.insertInto('cdrs').values(values.slice(i, i + ROWS_PER_STATEMENT))
        .onConflict((oc) => oc.column('call_id').doNothing()).returningAll().execute();
      out.push(...rows);
    }
    return out;
  });
}

export async function findCdrById(db: Db, id: number): Promise<CdrRow | undefined> {
  return db.selectFrom('cdrs').selectAll().where('id', '=', id).executeTakeFirst();
}

export interface CdrFilters {
  /** Calls that started at or after this instant (ISO-8601). */
  startFrom?: string;
  /** Calls that started strictly before this instant (ISO-8601). */
  startBefore?: string;
  direction?: CdrDirection;
  disposition?: CdrDisposition;
  limit: number;
  offset: number;
}

/** A page of CDRs, newest first (start time, then id), with the total matching the filters. */
export async function listCdrs(db: Db, f: CdrFilters): Promise<{ rows: CdrRow[]; total: number }> {
  let q = db.selectFrom('cdrs');
  if (f.startFrom !== undefined) q = q.where('start_time', '>=', canonicalTime('startFrom', f.startFrom));
  if (f.startBefore !== undefined) q = q.where('start_time', '<', canonicalTime('startBefore', f.startBefore));
  if (f.direction !== undefined) q = q.where('direction', '=', f.direction);
  if (f.disposition !== undefined) q = q.where('disposition', '=', f.disposition);
  const [rows, count] = await Promise.all([
    q.selectAll().orderBy('start_time', 'desc').orderBy('id', 'desc').limit(f.limit).offset(f.offset).execute(),
    q.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.n) };
}

export const CDR_STATS_PERIODS = { day: 86_400_000, week: 7 * 86_400_000, month: 30 * 86_400_000 } as const;
export type CdrStatsPeriod = keyof typeof CDR_STATS_PERIODS;

export interface CdrStats {
  period: CdrStatsPeriod;
  from: string;
  to: string;
  total_calls: number;
  by_disposition: Record<CdrDisposition, number>;
  total_duration: number;
  /** Seconds per call, two decimals; 0 with no calls. */
  average_duration: number;
  total_billsec: number;
  /** Billed seconds per answered call, two decimals; 0 with no answered call. */
  average_billsec: number;
  /** UTC hour (0-23) in which most calls started; the earliest such hour on a tie; null with no calls. */
  busiest_hour: number | null;
  by_direction: Record<CdrDirection, number>;
}

const zeroes = <K extends string>(keys: readonly K[]) => Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
const twoDecimals = (x: number) => Math.round(x * 100) / 100;

/**
 * Statistics over calls that started in the last day, 7 days or 30 days before `now`
 * (both ends included). Every disposition and direction is present, with 0 where none.
 */
export async function cdrStats(db: Db, period: CdrStatsPeriod, now: number = Date.now()): Promise<CdrStats> {
  const from = isoNow(now - CDR_STATS_PERIODS[period]);
  const to = isoNow(now);
  const window = db.selectFrom('cdrs').where('start_time', '>=', from).where('start_time', '<=', to);
  // start_time is always "YYYY-MM-DDTHH:…Z": characters 12-13 are the UTC hour on both engines.
  // Literal arguments: PostgreSQL would see `substr($1…)` and `substr($3…)` as different expressions.
  const hour = sql<string>`substr(start_time, 12, 2)`;
  const [groups, hours] = await Promise.all([
    window.select((eb) => [
      'disposition', 'direction',
      eb.fn.countAll().as('calls'),
      eb.fn.sum('duration').as('duration'),
      eb.fn.sum('billsec').as('billsec'),
    ]).groupBy(['disposition', 'direction']).execute(),
    window.select((eb) => [hour.as('hour'), eb.fn.countAll().as('calls')]).groupBy(hour).execute(),
  ]);
  const stats: CdrStats = {
    period, from, to, total_calls: 0, by_disposition: zeroes(CDR_DISPOSITIONS), total_duration: 0,
    average_duration: 0, total_billsec: 0, average_billsec: 0, busiest_hour: null, by_direction: zeroes(CDR_DIRECTIONS),
  };
  // PostgreSQL returns count/sum as bigint strings: Number() both engines' values.
  for (const g of groups) {
    const calls = Number(g.calls);
    stats.total_calls += calls;
    stats.total_duration += Number(g.duration);
    stats.total_billsec += Number(g.billsec);
    if (g.disposition in stats.by_disposition) stats.by_disposition[g.disposition] += calls;
    if (g.direction in stats.by_direction) stats.by_direction[g.direction] += calls;
  }
  if (stats.total_calls > 0) stats.average_duration = twoDecimals(stats.total_duration / stats.total_calls);
  if (stats.by_disposition.answered > 0) stats.average_billsec = twoDecimals(stats.total_billsec / stats.by_disposition.answered);
  let best = 0;
  for (const h of hours) {
    const calls = Number(h.calls);
    const hr = Number(h.hour);
    if (calls > best || (calls === best && stats.busiest_hour !== null && hr < stats.busiest_hour)) {
      best = calls;
      stats.busiest_hour = hr;
    }
  }
  return stats;
}

export interface JournalOptions {
  /** The node carrying the call (cluster mode); '' on a single node. */
  nodeId?: string;
  now?: number;
}

/**
 * Journals a call in progress, or updates its journal entry (call it when the call starts
 * ringing and again when it is answered: the row holds the latest `CallStart`). Committed
 * before the caller answers the SIP request, so a crash right after still leaves a trace.
 */
export async function openCallRecord(db: Db, call: CallStart, opts: JournalOptions = {}): Promise<void> {
  const now = isoNow(opts.now);
  const data = JSON.stringify(call);
  await db.insertInto('active_calls')
    .values({ call_id: call.call_id, node_id: opts.nodeId ?? '', data, created_at: now, updated_at: now })
    .onConflict((oc) => oc.column('call_id').doUpdateSet({ data, updated_at: now }))
    .execute();
}

/**
 * Ends a call: removes its journal row and stores its CDR in one transaction, so the call is
 * never both open and closed, nor neither. Returns the CDR row, undefined if the call already had one.
 */
export async function closeCallWithCdr(db: Db, callId: string, cdr: NewCdr): Promise<CdrRow | undefined> {
  return inTransaction(db, async (tx) => {
    await tx.deleteFrom('active_calls').where('call_id', '=', callId).execute();
    return insertCdr(tx, cdr);
  });
}

/** `closeCallWithCdr` for many calls in one transaction (grouped commits); keyed by each `call_id`. */
export async function closeCallsWithCdrs(db: Db, cdrs: readonly NewCdr[]): Promise<CdrRow[]> {
  if (cdrs.length === 0) return [];
  return inTransaction(db, async (tx) => {
    for (let i = 0; i < cdrs.length; i += ROWS_PER_STATEMENT) {
      const ids = cdrs.slice(i, i + ROWS_PER_STATEMENT).map((c) => c.call_id);
      await tx.deleteFrom('active_calls').where('call_id', 'in', ids).execute();
    }
    return insertCdrs(tx, cdrs);
  });
}

// SQLite's path (`commitSteps`: the writer thread, else synchronous) runs one-row statements:
// on SQLite a prepared one-row INSERT per record beats a multi-row VALUES (27 against 48 µs
// per call at 8 calls a batch, with the upsert), while PostgreSQL takes the multi-row
// statements (one round trip).
const SQLITE_JOURNAL_UPSERT = sqliteInsertText('active_calls', ['call_id', 'node_id', 'data', 'created_at', 'updated_at'], { keys: ['call_id'], update: ['data', 'updated_at'] });
const SQLITE_JOURNAL_DELETE = 'delete from active_calls where call_id = ?';
let cdrInsertText: string | undefined;

/** The one-row CDR insert, its columns in `cdrValues`' key order (the order its values bind in). */
function sqliteCdrInsert(row: Insertable<CdrsTable>): string {
  return cdrInsertText ??= sqliteInsertText('cdrs', Object.keys(row), { keys: ['call_id'] });
}

/**
 * One group commit of the call engine: journal rows of `opens`, then the CDRs of `closes`
 * (their journal rows removed) and of `inserts`, in one transaction and at most three
 * statements per 500 records, returning nothing (the engine needs no rows back, and
 * `RETURNING` costs a row object per CDR), each statement built by Kysely once per row count
 * (`runMultiRow`). Same semantics as {@link openCallRecord},
 * {@link closeCallsWithCdrs} and {@link insertCdrs}: a call that already has a CDR is skipped.
 */
export async function writeCallRecords(
  db: Db,
  batch: { opens: readonly CallStart[]; closes: readonly NewCdr[]; inserts: readonly NewCdr[] },
  opts: JournalOptions = {},
): Promise<void> {
  const now = isoNow(opts.now);
  // One statement may not upsert a key twice (PostgreSQL refuses): the last journal row wins.
  const opens = [...new Map(batch.opens.map((c) => [c.call_id, c])).values()];
  const cdrs = batch.closes.length === 0 ? batch.inserts : [...batch.closes, ...batch.inserts];
  // Validated before the transaction: a bad date fails the batch without touching the database.
  const values = cdrs.map((c) => cdrValues(c, now));
  const journal = opens.map((call) => ({ call_id: call.call_id, node_id: opts.nodeId ?? '', data: JSON.stringify(call), created_at: now, updated_at: now }));
  const closed = batch.closes.map((c) => ({ call_id: c.call_id }));
  if (await commitSteps(db, () => [
    ...journal.map((j): WriteStep => ({ sql: SQLITE_JOURNAL_UPSERT, params: [j.call_id, j.node_id, j.data, j.created_at, j.updated_at] })),
    ...closed.map((c): WriteStep => ({ sql: SQLITE_JOURNAL_DELETE, params: [c.call_id] })),
    ...values.map((v): WriteStep => ({ sql: sqliteCdrInsert(v), params: Object.values(v) })),
  ])) return;
  await inTransaction(db, async (tx) => {
    await runMultiRowChunked(tx, 'active_calls:upsert', journal, (d, rows) => d.insertInto('active_calls').values(rows)
      .onConflict((oc) => oc.column('call_id').doUpdateSet((eb) => ({ data: eb.ref('excluded.data'), updated_at: eb.ref('excluded.updated_at') }))));
    await runMultiRowChunked(tx, 'active_calls:delete', closed, (d, rows) => d.deleteFrom('active_calls').where('call_id', 'in', rows.map((r) => r.call_id)));
    await runMultiRowChunked(tx, 'cdrs:insert', values, (d, rows) => d.insertInto('cdrs').values(rows).onConflict((oc) => oc.column('call_id').doNothing()));
  });
}

/** The journalled start of a call; a row we cannot read still becomes a CDR rather than vanish. */
function journalledStart(callId: string, data: string, createdAt: string): CallStart {
  try {
    const call = JSON.parse(data) as CallStart;
    if (typeof call.start_time === 'string' && !Number.isNaN(Date.parse(call.start_time))) return { ...call, call_id: callId };
  } catch { /* fall through to the minimal record */ }
  return { call_id: callId, a_call_id: callId, caller: 'unknown', callee: 'unknown', direction: 'internal', start_time: createdAt };
}

/**
 * At start-up: turns every call still journalled (the process died while they were up) into
 * a CDR ending `now`, answered if it had been answered (sip_code 200) else failed, with
 * `hangup_cause` = `cause` and `hangup_by` = 'system', all in one transaction. With `nodeId`,
 * only that node's calls: in a cluster the other nodes' calls are alive.
 *
 * @example
 * await closeOrphanedCalls(store.db);            // single node, before accepting SIP traffic
 * await closeOrphanedCalls(store.db, 'server_restart', Date.now(), config.nodeId);
 */
export async function closeOrphanedCalls(db: Db, cause: HangupCause = 'server_restart', now: number = Date.now(), nodeId?: string): Promise<CdrRow[]> {
  const end = isoNow(now);
  return inTransaction(db, async (tx) => {
    let q = tx.selectFrom('active_calls').selectAll();
    if (nodeId !== undefined) q = q.where('node_id', '=', nodeId);
    const open = await q.orderBy('created_at').execute();
    if (open.length === 0) return [];
    const cdrs: NewCdr[] = open.map((row) => {
      const call = journalledStart(row.call_id, row.data, row.created_at);
      const answered = call.answer_time != null;
      return {
        ...call,
        end_time: end,
        disposition: answered ? 'answered' : 'failed',
        hangup_cause: cause,
        hangup_by: 'system',
        sip_code: answered ? 200 : null,
      };
    });
    return closeCallsWithCdrs(tx, cdrs);
  });
}
