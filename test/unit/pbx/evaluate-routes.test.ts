import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { conditionsHold, evaluateRoutes, isValidTimeZone, parseClock, type RouteRule } from '../../../src/pbx/evaluate-routes.ts';
import type { RouteConditions } from '../../../src/store/routes.ts';

const rule = (id: number, priority: number, conditions: RouteConditions = {}, extra: Partial<RouteRule> = {}): RouteRule =>
  ({ id, did_id: 1, priority, enabled: true, conditions, ...extra });
const at = (iso: string) => new Date(iso);
const holds = (c: RouteConditions, iso: string, caller = '+15551234567') => conditionsHold(c, caller, at(iso));

describe('parseClock / isValidTimeZone', () => {
  test('HH:MM to minutes', () => {
    assert.equal(parseClock('00:00'), 0);
    assert.equal(parseClock('09:30'), 570);
    assert.equal(parseClock('23:59'), 1439);
  });
  test('IANA zones', () => {
    assert.equal(isValidTimeZone('Europe/Paris'), true);
    assert.equal(isValidTimeZone('UTC'), true);
    assert.equal(isValidTimeZone('Mars/Olympus_Mons'), false);
    assert.equal(isValidTimeZone(''), false);
  });
});

describe('time windows (UTC)', () => {
  const day: RouteConditions = { time_start: '09:00', time_end: '17:00' };
  const cases: Array<[string, boolean]> = [
    ['2026-03-04T08:59:59Z', false],
    ['2026-03-04T09:00:00Z', true], // start inclusive
    ['2026-03-04T16:59:59Z', true],
    ['2026-03-04T17:00:00Z', false], // end exclusive
  ];
  for (const [iso, want] of cases) test(`09:00-17:00 at ${iso}`, () => assert.equal(holds(day, iso), want));

  const night: RouteConditions = { time_start: '22:00', time_end: '06:00' };
  const nightCases: Array<[string, boolean]> = [
    ['2026-03-04T21:59:00Z', false],
    ['2026-03-04T22:00:00Z', true],
    ['2026-03-04T23:59:00Z', true],
    ['2026-03-05T00:00:00Z', true],
    ['2026-03-05T05:59:00Z', true],
    ['2026-03-05T06:00:00Z', false],
    ['2026-03-05T12:00:00Z', false],
  ];
  for (const [iso, want] of nightCases) test(`22:00-06:00 (crosses midnight) at ${iso}`, () => assert.equal(holds(night, iso), want));

  test('equal start and end is the whole day', () => {
    assert.equal(holds({ time_start: '00:00', time_end: '00:00' }, '2026-03-04T00:00:00Z'), true);
    assert.equal(holds({ time_start: '08:00', time_end: '08:00' }, '2026-03-04T07:59:00Z'), true);
  });
});

describe('days', () => {
  // 2026-03-06 is a Friday.
  test('day of week', () => {
    assert.equal(holds({ days: ['fri'] }, '2026-03-06T12:00:00Z'), true);
    assert.equal(holds({ days: ['mon', 'tue', 'wed', 'thu'] }, '2026-03-06T12:00:00Z'), false);
    assert.equal(holds({ days: ['sat', 'sun'] }, '2026-03-07T12:00:00Z'), true);
    assert.equal(holds({ days: ['sun'] }, '2026-03-08T23:59:59Z'), true);
    assert.equal(holds({ days: ['sun'] }, '2026-03-09T00:00:00Z'), false);
  });

  test('after midnight, an overnight window belongs to the day it opened', () => {
    const fridayNight: RouteConditions = { time_start: '22:00', time_end: '02:00', days: ['fri'] };
    assert.equal(holds(fridayNight, '2026-03-06T23:00:00Z'), true); // Fri 23:00
    assert.equal(holds(fridayNight, '2026-03-07T01:00:00Z'), true); // Sat 01:00, Friday's night
    assert.equal(holds(fridayNight, '2026-03-07T23:00:00Z'), false); // Sat 23:00
    assert.equal(holds(fridayNight, '2026-03-06T01:00:00Z'), false); // Fri 01:00 is Thursday's night
  });

  test('day of week is read in the route\'s zone', () => {
    // 2026-01-15T20:00Z is Thursday in UTC, Friday 09:00 in Auckland (NZDT, UTC+13).
    assert.equal(holds({ days: ['fri'], timezone: 'Pacific/Auckland' }, '2026-01-15T20:00:00Z'), true);
    assert.equal(holds({ days: ['fri'] }, '2026-01-15T20:00:00Z'), false);
    assert.equal(holds({ days: ['thu'], timezone: 'Pacific/Auckland' }, '2026-01-15T20:00:00Z'), false);
  });
});

describe('time zones and DST', () => {
  const paris: RouteConditions = { time_start: '09:00', time_end: '17:00', timezone: 'Europe/Paris' };
  test('Europe/Paris: same wall clock in winter (UTC+1) and summer (UTC+2)', () => {
    assert.equal(holds(paris, '2026-01-15T08:30:00Z'), true); // 09:30 CET
    assert.equal(holds(paris, '2026-01-15T07:30:00Z'), false); // 08:30 CET
    assert.equal(holds(paris, '2026-07-15T07:30:00Z'), true); // 09:30 CEST
    assert.equal(holds(paris, '2026-01-15T15:30:00Z'), true); // 16:30 CET
    assert.equal(holds(paris, '2026-07-15T15:30:00Z'), false); // 17:30 CEST
  });

  const ny: RouteConditions = { time_start: '09:00', time_end: '17:00', timezone: 'America/New_York' };
  test('America/New_York across the 2026-03-08 spring-forward', () => {
    assert.equal(holds(ny, '2026-03-06T14:30:00Z'), true); // Fri 09:30 EST (UTC-5)
    assert.equal(holds(ny, '2026-03-06T13:30:00Z'), false); // Fri 08:30 EST
    assert.equal(holds(ny, '2026-03-09T13:30:00Z'), true); // Mon 09:30 EDT (UTC-4)
    assert.equal(holds(ny, '2026-03-09T12:30:00Z'), false); // Mon 08:30 EDT
    assert.equal(holds(ny, '2026-03-09T21:00:00Z'), false); // Mon 17:00 EDT
  });

  test('the skipped hour never holds; the repeated hour holds twice', () => {
    const skipped: RouteConditions = { time_start: '02:00', time_end: '03:00', timezone: 'America/New_York' };
    assert.equal(holds(skipped, '2026-03-08T06:59:00Z'), false); // 01:59 EST
    assert.equal(holds(skipped, '2026-03-08T07:00:00Z'), false); // 03:00 EDT (02:00-02:59 do not exist)
    const repeated: RouteConditions = { time_start: '01:00', time_end: '02:00', timezone: 'America/New_York' };
    assert.equal(holds(repeated, '2026-11-01T05:30:00Z'), true); // 01:30 EDT
    assert.equal(holds(repeated, '2026-11-01T06:30:00Z'), true); // 01:30 EST, again
    assert.equal(holds(repeated, '2026-11-01T07:00:00Z'), false); // 02:00 EST
  });

  test('an unknown stored zone makes the route not match instead of throwing', () => {
    assert.equal(holds({ days: ['mon'], timezone: 'Nowhere/Land' }, '2026-03-09T12:00:00Z'), false);
  });
});

describe('caller patterns', () => {
  test('prefix, exact-length and exact', () => {
    assert.equal(holds({ caller_id: '+1555*' }, '2026-03-04T12:00:00Z', '+15551234567'), true);
    assert.equal(holds({ caller_id: '+1555*' }, '2026-03-04T12:00:00Z', '+16661234567'), false);
    assert.equal(holds({ caller_id: '10XX' }, '2026-03-04T12:00:00Z', '1042'), true);
    assert.equal(holds({ caller_id: '10XX' }, '2026-03-04T12:00:00Z', '104'), false);
  });
  test('all present conditions must hold', () => {
    const c: RouteConditions = { caller_id: '+1555*', time_start: '09:00', time_end: '17:00', days: ['wed'] };
    assert.equal(holds(c, '2026-03-04T10:00:00Z', '+15550000000'), true); // Wednesday
    assert.equal(holds(c, '2026-03-04T10:00:00Z', '+44000'), false);
    assert.equal(holds(c, '2026-03-04T18:00:00Z', '+15550000000'), false);
    assert.equal(holds(c, '2026-03-05T10:00:00Z', '+15550000000'), false);
  });
});

describe('evaluateRoutes', () => {
  const now = at('2026-03-04T12:00:00Z'); // Wednesday noon UTC
  const call = { did: 1, caller: '+15551234567' };

  test('ascending priority wins, whatever the input order; ties go to the lower id', () => {
    const routes = [rule(3, 20), rule(1, 10), rule(2, 10), rule(4, 5, { days: ['sun'] })];
    assert.equal(evaluateRoutes(routes, call, now)?.id, 1);
    assert.equal(evaluateRoutes([rule(9, 1), rule(7, 1), rule(8, 1)], call, now)?.id, 7);
  });

  test('the first route whose conditions hold, falling through the others', () => {
    const routes = [
      rule(1, 1, { caller_id: '+44*' }),
      rule(2, 2, { time_start: '18:00', time_end: '08:00' }),
      rule(3, 3, { days: ['wed'], caller_id: '+1555*' }),
      rule(4, 4),
    ];
    assert.equal(evaluateRoutes(routes, call, now)?.id, 3);
    assert.equal(evaluateRoutes(routes, { did: 1, caller: '+33123' }, now)?.id, 4);
    assert.equal(evaluateRoutes(routes, { did: 1, caller: '+447700900000' }, now)?.id, 1);
  });

  test('disabled routes and other DIDs are skipped; a numeric string DID works', () => {
    const routes = [rule(1, 1, {}, { enabled: false }), rule(2, 2, {}, { did_id: 2 }), rule(3, 3), rule(4, 0, {}, { did_id: null })];
    assert.equal(evaluateRoutes(routes, call, now)?.id, 3);
    assert.equal(evaluateRoutes(routes, { did: '1', caller: 'anonymous' }, now)?.id, 3);
    assert.equal(evaluateRoutes(routes, { did: '2', caller: 'x' }, now)?.id, 2);
  });

  test('no match is null', () => {
    assert.equal(evaluateRoutes([], call, now), null);
    assert.equal(evaluateRoutes([rule(1, 1, { days: ['sat'] }), rule(2, 2, {}, { enabled: false })], call, now), null);
    assert.equal(evaluateRoutes([rule(1, 1)], { did: 99, caller: '1' }, now), null);
  });

  test('returns the very object passed in (full routes keep their action)', () => {
    const full = { ...rule(1, 1), name: 'All', action: 'reject' as const, action_data: { code: 603 } };
    assert.equal(evaluateRoutes([full], call, now), full);
  });
});
