/**
 * Hold with real phones (Debian's baresip 1.0.0, PCMU): alice calls bob, alice's phone sends a
 * 1 kHz tone. Bob is held through the API, resumed; then alice's phone holds (`hold`, a
 * sendonly re-INVITE) and resumes (`resume`). Checked: bob's phone accepts our re-INVITEs
 * (sendonly narrowed to PCMU, then sendrecv), the call reports who holds whom, the call goes
 * on and ends cleanly, and what reaches bob's phone is alice's tone, then music on hold, tone,
 * music on hold, tone.
 *
 * How the audio is checked. Bob's own decoded-audio dump (module sndfile) covers only the time
 * up to the first re-INVITE bob receives, whatever we send: its encode dump goes on to the end
 * of the call in the same file, baresip logs no new "dumping decode audio" file and no error,
 * and reports ~64 kbit/s received to the end. The same with an audio player loaded (ALSA
 * `null`, so the receive side has a real `auplay`), and with the jitter buffer disabled
 * (`jitter_buffer_delay 0-0`); and our stream towards bob is one continuous RTP stream (one
 * SSRC, consecutive sequence numbers, wall-clock timestamps: `src/media/rtp-out-stream.ts`).
 * So baresip 1.0's receive path stops running its decode filters after a stream update: a
 * recording limit of that phone, not a media gap. We therefore check the dump only for the
 * first segment (bob decoded alice's tone) and check the whole call on the wire: tcpdump
 * captures the RTP our leg sends to bob's media port (`test/helpers/rtp-capture.ts`), and its
 * PCMU payloads are decoded and classified in 250 ms windows (tone, MOH chord, neither).
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { startBaresip, type BaresipPhone } from '../helpers/baresip.ts';
import { decodeUlaw, goertzelPower, makeToneWav, readWavPcm } from '../helpers/audio-analysis.ts';
import { startRtpCapture, type RtpCapture } from '../helpers/rtp-capture.ts';
import { DEFAULT_MOH_CHORDS } from '../../src/pbx/moh-default.ts';
import { api, assertIdle, DEVICE_PASSWORD, eventually } from './call-fixtures.ts';

const TONE_HZ = 1000;
const [C_MAJOR] = DEFAULT_MOH_CHORDS;
const dir = mkdtempSync(path.join(tmpdir(), 'hold-baresip-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const tone = path.join(dir, 'tone.wav');
makeToneWav(tone, { freq: TONE_HZ, seconds: 30, rate: 8000, amplitude: 0.3 });

/** What each 250 ms of `samples` is: the caller's tone, the MOH chord, or neither ('-'). */
function windows(samples: Int16Array, rate: number): string[] {
  const n = Math.round(rate / 4);
  const out: string[] = [];
  for (let from = 0; from + n <= samples.length; from += n) {
    const p = (f: number) => goertzelPower(samples, rate, f, { from, length: n, window: 'hann' });
    const t = p(TONE_HZ);
    const chord = C_MAJOR.map(p);
    const floor = 1e5;
    if (t > floor && chord.every((c) => t > 100 * c)) out.push('tone');
    else if (chord.every((c) => c > floor && c > 100 * t)) out.push('moh');
    else out.push('-');
  }
  return out;
}

/** Runs of at least 3 windows (0.75 s) of the same kind, in order, neighbours merged. */
function phases(out: readonly string[]): string[] {
  const runs: string[] = [];
  let i = 0;
  while (i < out.length) {
    let j = i;
    while (j < out.length && out[j] === out[i]) j++;
    if (out[i] !== '-' && j - i >= 3 && runs.at(-1) !== out[i]) runs.push(out[i]);
    i = j;
  }
  return runs;
}

describe('hold with baresip phones', () => {
  let t: TestServer;

  before(async () => {
    t = await startTestServer('sqlite', { STROWGER_RTP_PORTS: '23200-23399', STROWGER_MEDIA_WORKERS: '1' });
    for (const user of ['alice', 'bob']) await api(t, 'POST', '/api/devices', { name: user, username: user, password: DEVICE_PASSWORD });
  });
  after(() => t.close());
  afterEach(() => assertIdle(t));

  test('bob hears alice, MOH while held by the API, alice, MOH while alice\'s phone holds, alice', async () => {
    const outB = path.join(dir, 'bob');
    mkdirSync(outB);
    const phones: BaresipPhone[] = [];
    let capture: RtpCapture | undefined;
    try {
      const common = { password: DEVICE_PASSWORD, port: t.sipPort, codecs: ['PCMU' as const] };
      const b = await startBaresip({ ...common, user: 'bob', audioOutDir: outB, autoAnswer: true });
      phones.push(b);
      const a = await startBaresip({ ...common, user: 'alice', audioIn: tone, audioOut: path.join(dir, 'alice.wav') });
      phones.push(a);
      await Promise.all([a.registered, b.registered]);
      await a.dial(`sip:bob@127.0.0.1:${t.sipPort}`);
      await a.waitForEvent('CALL_ESTABLISHED', 5000);
      const call = await eventually('the answered call', async () => ((await api(t, 'GET', '/api/calls')).data as Array<{ id: string; state: string }>).find((c) => c.state === 'answered'));
      // What our leg sends to bob's phone, from now to the hang-up.
      const legB = (await api(t, 'GET', `/api/calls/${call.id}`)).legs.b.media;
      capture = await startRtpCapture(path.join(dir, 'to-bob.pcap'), Number(/:(\d+)$/.exec(legB.remote)![1]), legB.local_port);
      await sleep(1500);
      const held = await t.request('POST', `/api/calls/${call.id}/hold`, { cookie: t.adminCookie, body: { hold: true } });
      assert.equal(held.status, 200, JSON.stringify(held.body));
      await sleep(2500);
      const resumed = await t.request('POST', `/api/calls/${call.id}/hold`, { cookie: t.adminCookie, body: { hold: false } });
      assert.equal(resumed.status, 200, JSON.stringify(resumed.body));
      await sleep(1500);
      await a.command('hold');
      const byPhone = await eventually('held by alice\'s phone', async () => {
        const c = await api(t, 'GET', `/api/calls/${call.id}`);
        return c.on_hold ? c : undefined;
      }, 3000);
      assert.deepEqual([byPhone.held_by, byPhone.held_party], ['caller', 'callee']);
      await sleep(2500);
      await a.command('resume');
      await eventually('resumed by alice\'s phone', async () => !(await api(t, 'GET', `/api/calls/${call.id}`)).on_hold, 3000);
      // Long enough that a loaded machine still leaves a run of alice's tone after her phone restarts its audio.
      await sleep(2500);
      await a.hangup();
      await Promise.all([a.waitForEvent('CALL_CLOSED', 3000), b.waitForEvent('CALL_CLOSED', 3000)]);
      await Promise.all(phones.map((p) => p.close()));
      const wire = (await capture.stop()).filter((p) => p.payloadType === 0);
      capture = undefined;
      const heard = decodeUlaw(Buffer.concat(wire.map((p) => p.payload)));
      assert.deepEqual(phases(windows(heard, 8000)), ['tone', 'moh', 'tone', 'moh', 'tone'], `what reached bob's phone (${wire.length} packets)`);
      const sdp = b.output().split('\n').filter((l) => /^a=(sendonly|sendrecv|recvonly|inactive)/.test(l.trim())).map((l) => l.trim());
      assert.ok(sdp.includes('a=sendonly'), `bob got a sendonly offer: ${sdp.join(' ')}`);
      // Before the first hold bob heard alice (the first file, up to the first stream change).
      const files = readdirSync(outB).sort();
      assert.ok(files.length >= 1);
      const first = readWavPcm(path.join(outB, files[0]));
      assert.equal(phases(windows(first.samples, first.sampleRate))[0], 'tone', 'bob heard alice before the hold');
    } finally {
      await capture?.stop().catch(() => {});
      await Promise.all(phones.map((p) => p.close()));
    }
  });
});
