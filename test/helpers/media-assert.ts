/**
 * Assertions on media content shared by the phone tests: "this audio is that tone", and "this
 * SDES-SRTP leg carries no readable audio" (what tcpdump saw on the wire).
 */
import assert from 'node:assert/strict';
import { dbfs, decodeUlaw, dominantFrequency, goertzelPower, rms, toneShare } from './audio-analysis.ts';
import type { CapturedRtp } from './rtp-capture.ts';
import { findSrtpSuite } from '../../src/media/srtp/srtp-suites.ts';

/** `samples` hold at least `minSeconds` of a tone at `freq` (± 15 Hz) carrying most of the energy. */
export function assertTone(samples: Int16Array, rate: number, freq: number, who: string, minSeconds = 1.5): void {
  const context = `${who}: ${(samples.length / rate).toFixed(2)} s, ${dbfs(samples).toFixed(1)} dBFS`;
  assert.ok(samples.length / rate >= minSeconds, `${context}: too little audio`);
  assert.ok(dbfs(samples) > -35, `${context}: near silence`);
  const f = dominantFrequency(samples, rate, { min: 200, max: 3400 });
  assert.ok(Math.abs(f - freq) <= 15, `${context}: dominant ${f.toFixed(1)} Hz, want ${freq} ± 15`);
  const share = goertzelPower(samples, rate, f, { window: 'hann' }) / rms(samples) ** 2;
  assert.ok(share > 0.5, `${context}: only ${(share * 100).toFixed(0)} % of the energy at ${f.toFixed(1)} Hz`);
}

/** µ-law payloads of `pkts` as samples, `strip` trailing octets (an SRTP tag) left off each. */
export function ulawOf(pkts: readonly CapturedRtp[], strip = 0): Int16Array {
  return decodeUlaw(Buffer.concat(pkts.map((p) => p.payload.subarray(0, p.payload.length - strip))));
}

/**
 * PCMU packets (`pkts`, 20 ms) of an SDES-SRTP leg running `suiteName`: each is 160 octets of
 * ciphertext plus the suite's tag, and `tone` (the audio they carry) is not readable as µ-law.
 */
export function assertSealedPcmu(pkts: readonly CapturedRtp[], suiteName: string, tone: number, who: string): void {
  const suite = findSrtpSuite(suiteName);
  assert.ok(suite, `${who}: unknown suite ${suiteName}`);
  assert.ok(pkts.length >= 50, `${who}: captured ${pkts.length} packets`);
  assert.ok(pkts.every((p) => p.payload.length === 160 + suite.tagLength), `${who}: each SRTP packet is 160 octets + the ${suite.tagLength}-octet tag`);
  const share = toneShare(ulawOf(pkts, suite.tagLength), tone);
  assert.ok(share < 0.05, `${who}: the ${tone} Hz tone is readable in clear (${(share * 100).toFixed(0)} %)`);
}
