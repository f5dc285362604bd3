/**
 * Transcoded calls through the B2BUA with real user agents, checked on the audio each callee
 * decodes (dominant frequency and level), not only on the signalling:
 * - Opus <-> PCMU: two baresip phones, A offers only Opus, B accepts only PCMU; each sends a
 *   tone (A 1000 Hz, B 700 Hz) and must hear the other's; the media worker runs the decode path
 *   while the call is up (`decodeSinks`).
 * - PCMA -> PCMU: sipp calls as a device and replays a pcap of a 1 kHz A-law tone (written by
 *   `test/helpers/rtp-pcap.ts`) to a PCMU-only baresip callee, which must hear 1 kHz.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { startBaresip, type BaresipPhone } from '../helpers/baresip.ts';
import { dbfs, dominantFrequency, goertzelPower, makeToneWav, readWavPcm, rms } from '../helpers/audio-analysis.ts';
import { runSipp } from '../helpers/sipp.ts';
import { pcmaToneScenario } from '../helpers/rtp-pcap.ts';
import { api, assertIdle, cdrCount, DEVICE_PASSWORD, deviceCall, nextCdr } from './call-fixtures.ts';

const TONE_A = 1000;
const TONE_B = 700;
const TALK_MS = 3000;
const TOLERANCE_HZ = 15;

const dir = mkdtempSync(path.join(tmpdir(), 'call-codecs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const toneA = path.join(dir, 'tone-a.wav');
const toneB = path.join(dir, 'tone-b.wav');
makeToneWav(toneA, { freq: TONE_A, seconds: 10, rate: 8000, amplitude: 0.4 });
makeToneWav(toneB, { freq: TONE_B, seconds: 10, rate: 8000, amplitude: 0.4 });

/** What a phone decoded: at least `minSeconds` of audio, not silence, peaking at `freq`. */
function assertHeard(file: string, freq: number, who: string, phone: BaresipPhone, minSeconds = 2): void {
  const wav = readWavPcm(file);
  const seconds = wav.samples.length / wav.sampleRate;
  const context = `${who}: ${seconds.toFixed(2)} s at ${wav.sampleRate} Hz, ${dbfs(wav.samples).toFixed(1)} dBFS`;
  assert.ok(seconds >= minSeconds, `${context}: too little audio\n${phone.output().slice(-3000)}`);
  assert.ok(dbfs(wav.samples) > -30, `${context}: near silence`);
  const f = dominantFrequency(wav.samples, wav.sampleRate, { min: 200, max: 3400 });
  assert.ok(Math.abs(f - freq) <= TOLERANCE_HZ, `${context}: dominant ${f.toFixed(1)} Hz, want ${freq} ± ${TOLERANCE_HZ}`);
  const share = goertzelPower(wav.samples, wav.sampleRate, f, { window: 'hann' }) / rms(wav.samples) ** 2;
  assert.ok(share > 0.5, `${context}: only ${(share * 100).toFixed(0)} % of the energy at ${f.toFixed(1)} Hz`);
}

describe('transcoded calls with real user agents', () => {
  let t: TestServer;

  before(async () => {
    t = await startTestServer('sqlite', {
      STROWGER_RTP_PORTS: '22600-22799',
      STROWGER_SIP_DIGEST_ALGORITHMS: 'MD5,SHA-256', // sipp answers the first challenge, MD5 only
      STROWGER_MEDIA_WORKERS: '1',
    });
    for (const user of ['alice', 'bob', 'carol']) await api(t, 'POST', '/api/devices', { name: user, username: user, password: DEVICE_PASSWORD });
  });
  after(() => t.close());
  afterEach(() => assertIdle(t));

  test('Opus caller (baresip) <-> PCMU-only callee (baresip): each hears the other\'s tone, the worker transcodes', async () => {
    const outA = path.join(dir, 'opus-a.wav');
    const outB = path.join(dir, 'pcmu-b.wav');
    const common = { password: DEVICE_PASSWORD, port: t.sipPort };
    const phones: BaresipPhone[] = [];
    try {
      const b = await startBaresip({ ...common, user: 'bob', codecs: ['PCMU'], audioIn: toneB, audioOut: outB, autoAnswer: true });
      phones.push(b);
      const a = await startBaresip({ ...common, user: 'alice', codecs: ['opus'], audioIn: toneA, audioOut: outA });
      phones.push(a);
      await Promise.all([a.registered, b.registered]);
      const n = await cdrCount(t);
      await a.dial(`sip:bob@127.0.0.1:${t.sipPort}`);
      await a.waitForEvent('CALL_ESTABLISHED', 5000);
      await b.waitForEvent('CALL_ESTABLISHED', 2000);
      await new Promise((r) => setTimeout(r, TALK_MS / 2));
      // Different codecs on the legs: both directions are on the worker's decode path.
      const load = t.server.ctx.sip!.media.totals().perWorker[0];
      assert.ok(load.decodeSinks >= 2, `decodeSinks ${load.decodeSinks}: the call is not transcoded`);
      await new Promise((r) => setTimeout(r, TALK_MS / 2));
      await a.hangup();
      await Promise.all([a.waitForEvent('CALL_CLOSED', 3000), b.waitForEvent('CALL_CLOSED', 3000)]);
      await Promise.all(phones.map((p) => p.close()));
      assertHeard(outB, TONE_A, 'B (PCMU) heard A (Opus)', b);
      assertHeard(outA, TONE_B, 'A (Opus) heard B (PCMU)', a);
      const cdr = await nextCdr(t, n);
      assert.deepEqual([cdr.disposition, cdr.caller, cdr.callee], ['answered', 'alice', 'bob']);
    } finally {
      await Promise.all(phones.map((p) => p.close()));
    }
  });

  test('PCMA caller (sipp replaying a 1 kHz A-law pcap) -> PCMU-only callee (baresip) hears 1 kHz', async () => {
    // 3 s of a 1 kHz tone at -8 dBFS as 150 RTP packets of PCMA (PT 8), in the shipped scenario.
    const scenario = pcmaToneScenario(dir, 1000, 3);

    const outB = path.join(dir, 'pcmu-from-pcma.wav');
    const b = await startBaresip({ password: DEVICE_PASSWORD, port: t.sipPort, user: 'bob', codecs: ['PCMU'], audioOut: outB, autoAnswer: true });
    try {
      await b.registered;
      const n = await cdrCount(t);
      const r = await runSipp(deviceCall(t, 'carol', 'bob', { scenario, pauseMs: 3600, mediaIp: '127.0.0.1' }));
      assert.equal(r.stats.successful, 1, `sipp: ${r.errors}\n${r.messages?.slice(-3000) ?? ''}`);
      await b.waitForEvent('CALL_CLOSED', 3000);
      await b.close();
      assertHeard(outB, 1000, 'B (PCMU) heard the PCMA pcap', b, 1.5);
      const cdr = await nextCdr(t, n);
      assert.deepEqual([cdr.disposition, cdr.caller, cdr.callee], ['answered', 'carol', 'bob']);
    } finally {
      await b.close();
    }
  });
});

