import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hasWildcard, isE164, isNumberPattern, matchesAnyPattern, matchNumberPattern } from '../../../src/pbx/phone-number.ts';

describe('isE164 (ITU-T E.164 §6, "+" form of RFC 3966 §5.1.4)', () => {
  const cases: Array<[string, boolean]> = [
    ['+15551234567', true],
    ['+1', true],
    ['+123456789012345', true], // 15 digits: the maximum
    ['+1234567890123456', false], // 16 digits
    ['+0123', false], // country codes never start with 0
    ['15551234567', false],
    ['+', false],
    ['+1 555 123', false],
    ['+1-555', false],
    ['', false],
    ['+١٢٣', false], // non-ASCII digits
  ];
  for (const [s, want] of cases) test(JSON.stringify(s), () => assert.equal(isE164(s), want));
});

describe('number patterns', () => {
  test('grammar', () => {
    for (const ok of ['+1555*', '*666', '10XX', '+44*0000', '*', '+15551234567']) assert.equal(isNumberPattern(ok), true, ok);
    for (const bad of ['', '1+2', 'x10', '+1 555', '1'.repeat(33), '+1555?']) assert.equal(isNumberPattern(bad), false, bad);
    assert.equal(hasWildcard('+1555*'), true);
    assert.equal(hasWildcard('10XX'), true);
    assert.equal(hasWildcard('+15551234567'), false);
  });

  const cases: Array<[string, string, boolean]> = [
    ['+15551234567', '+15551234567', true],
    ['+15551234567', '+15551234568', false],
    ['+15551234567', '+1555123456', false],
    ['+1555*', '+15551234567', true],
    ['+1555*', '+1555', true], // * may be empty
    ['+1555*', '+16551234567', false],
    ['*666', '+15550000666', true],
    ['*666', '+15550000667', false],
    ['+44*0000', '+442079460000', true],
    ['+44*0000', '+440000', true], // * may be empty in the middle too
    ['+44*0000', '+4420794600001', false],
    ['10XX', '1001', true],
    ['10XX', '10A1', false], // X is a digit only
    ['10XX', '100', false],
    ['10XX', '10011', false],
    ['*X', '', false],
    ['*', '', true],
    ['*', 'anonymous', true],
    ['**1', '11', true],
    ['*1*2*', 'a1b2c', true],
    ['*1*2*', 'a2b1c', false],
    ['', '', true],
    ['', '1', false],
  ];
  for (const [pattern, value, want] of cases) {
    test(`${pattern} ~ ${JSON.stringify(value)} = ${want}`, () => assert.equal(matchNumberPattern(pattern, value), want));
  }

  test('matchesAnyPattern checks every entry', () => {
    assert.equal(matchesAnyPattern(['+15550000001', '+1900*'], '+19005551234'), true);
    assert.equal(matchesAnyPattern(['+15550000001', '+1900*'], '+15550000001'), true);
    assert.equal(matchesAnyPattern(['+15550000001', '+1900*'], '+15550000002'), false);
    assert.equal(matchesAnyPattern([], '+15550000002'), false);
  });
});
