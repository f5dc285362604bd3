/**
 * Issue 12: which digest challenges a device is sent, by its `digest_algorithm` setting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { digestAlgorithmsFor } from '../../../src/pbx/device-auth.ts';
import type { DigestAlgorithm } from '../../../src/sip/digest-algorithm.ts';
import type { DigestAlgorithmSetting } from '../../../src/store/devices.ts';

const cases: Array<[DigestAlgorithmSetting | null, readonly DigestAlgorithm[], readonly DigestAlgorithm[], string]> = [
  ['MD5', ['SHA-256', 'MD5'], ['MD5'], 'default setting: one MD5 challenge (baresip, JsSIP, sipp)'],
  [null, ['SHA-256', 'MD5'], ['MD5'], 'unknown user: same as the default, reveals nothing'],
  ['SHA-256', ['SHA-256', 'MD5'], ['SHA-256'], 'SHA-256 device: one SHA-256 challenge'],
  ['both', ['SHA-256', 'MD5'], ['SHA-256', 'MD5'], 'both: the configured order'],
  ['both', ['MD5', 'SHA-256'], ['MD5', 'SHA-256'], 'both: the configured order, reversed'],
  ['MD5', ['SHA-256'], ['SHA-256'], 'a setting the server does not accept falls back to what it accepts'],
];

for (const [setting, accepted, want, why] of cases) {
  test(`digestAlgorithmsFor(${setting}, [${accepted}]) = [${want}]: ${why}`, () => {
    assert.deepEqual(digestAlgorithmsFor(setting, accepted), want);
  });
}
