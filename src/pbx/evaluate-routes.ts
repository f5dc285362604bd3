/**
 * Inbound route selection: which rule of a DID handles a call now.
 *
 * Semantics (also the API documentation of `conditions`):
 * - Only enabled routes of the call's DID take part, in ascending `priority`, ties by `id`.
 * - The first route whose present conditions all hold wins; no match gives null.
 * - `time_start`/`time_end` ("HH:MM", 24 h) are wall-clock times in `timezone` (IANA name,
 *   UTC when absent), start inclusive, end exclusive. End before start means the window
 *   crosses midnight (22:00-06:00); equal means the whole day. Wall-clock reading follows
 *   DST: "09:00" is 09:00 local on both sides of a change.
 * - `days` is checked in the same zone. For a window crossing midnight the hours after
 *   midnight belong to the day the window opened: Fri 22:00-02:00 holds on Saturday 01:00
 *   when `days` has "fri", not "sat" (an overnight shift is named by its start).
 * - `caller_id` is a number pattern (`src/pbx/phone-number.ts`) matched against the caller.
 */
import type { Route, RouteConditions } from '../store/routes.ts';
import { WEEKDAYS } from '../store/routes.ts';
import { matchNumberPattern } from './phone-number.ts';

/** What evaluation reads of a route; the call engine passes full `Route`s and gets one back. */
export type RouteRule = Pick<Route, 'id' | 'did_id' | 'priority' | 'enabled' | 'conditions'>;

export interface InboundCall {
  /** The DID's id (a numeric string is accepted, e.g. from a SIP parameter). */
  did: string | number;
  /** Caller number as received (From / P-Asserted-Identity user part). */
  caller: string;
}

/**
 * The route that handles `call` at `time`, or null.
 * Pure: no I/O, no clock; linear in the number of routes, no sorting or copying.
 *
 * @example
 * const route = evaluateRoutes(await routesForDid(db, did.id), { did: did.id, caller: '+15551234567' }, new Date());
 * if (route?.action === 'ring') ring(route.action_data.device_ids);
 */
export function evaluateRoutes<R extends RouteRule>(routes: readonly R[], call: InboundCall, time: Date): R | null {
  const didId = typeof call.did === 'number' ? call.did : Number(call.did);
  let best: R | null = null;
  for (const r of routes) {
    if (!r.enabled || r.did_id !== didId) continue;
    if (best !== null && (r.priority > best.priority || (r.priority === best.priority && r.id > best.id))) continue;
    if (conditionsHold(r.conditions, call.caller, time)) best = r;
  }
  return best;
}

export function conditionsHold(c: RouteConditions, caller: string, time: Date): boolean {
  if (c.caller_id !== undefined && !matchNumberPattern(c.caller_id, caller)) return false;
  const hasWindow = c.time_start !== undefined && c.time_end !== undefined;
  if (!hasWindow && c.days === undefined) return true;
  const clock = zonedClock(c.timezone ?? 'UTC', time);
  if (clock === undefined) return false;
  let day = clock.weekday;
  if (hasWindow) {
    const start = parseClock(c.time_start!);
    const end = parseClock(c.time_end!);
    const m = clock.minutes;
    if (start < end) {
      if (m < start || m >= end) return false;
    } else if (start > end) {
      if (m < end) day = (day + 6) % 7; // after midnight: the window opened yesterday
      else if (m < start) return false;
    }
  }
  return c.days === undefined || c.days.includes(WEEKDAYS[day]!);
}

/** Minutes since midnight of "HH:MM" (validated by the API schema). */
export function parseClock(hhmm: string): number {
  return (hhmm.charCodeAt(0) - 48) * 600 + (hhmm.charCodeAt(1) - 48) * 60 + (hhmm.charCodeAt(3) - 48) * 10 + (hhmm.charCodeAt(4) - 48);
}

/** Whether `tz` is an IANA zone name this runtime knows. */
export function isValidTimeZone(tz: string): boolean {
  return formatterFor(tz) !== undefined;
}

interface Clock {
  /** 0 = Monday … 6 = Sunday, as `WEEKDAYS`. */
  weekday: number;
  minutes: number;
}

const SHORT_DAYS: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };
// Building an Intl.DateTimeFormat costs far more than using one: keep one per zone.
const formatters = new Map<string, Intl.DateTimeFormat | null>();

function formatterFor(tz: string): Intl.DateTimeFormat | undefined {
  let f = formatters.get(tz);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-US', { timeZone: tz, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    } catch {
      f = null; // RangeError: unknown zone
    }
    if (formatters.size < 1024) formatters.set(tz, f);
  }
  return f ?? undefined;
}

// One-entry memo: the routes of a DID usually share a zone, and formatToParts costs ~6 µs.
let memoTz = '';
let memoMs = Number.NaN;
let memoClock: Clock | undefined;

function zonedClock(tz: string, time: Date): Clock | undefined {
  const ms = time.getTime();
  if (tz === memoTz && ms === memoMs) return memoClock;
  const f = formatterFor(tz);
  let clock: Clock | undefined;
  if (f !== undefined) {
    let weekday = 0;
    let hour = 0;
    let minute = 0;
    for (const p of f.formatToParts(time)) {
      if (p.type === 'weekday') weekday = SHORT_DAYS[p.value] ?? 0;
      else if (p.type === 'hour') hour = Number(p.value) % 24;
      else if (p.type === 'minute') minute = Number(p.value);
    }
    clock = { weekday, minutes: hour * 60 + minute };
  }
  memoTz = tz;
  memoMs = ms;
  memoClock = clock;
  return clock;
}
