/**
 * Real phones (Debian's baresip 1.0.0, see test/helpers/baresip.ts) calling each other through
 * Strowger: sipp forgives what phones do not. Two devices are created through the API, both
 * phones REGISTER with digest, phone A dials phone B (B answers at once), each sends a tone
 * from a WAV file — A 1000 Hz, B 700 Hz — and after ~3 s A hangs up. Media flowed both ways
 * through Strowger's relay when the audio each phone decoded has the other's tone as its
 * dominant frequency; the call is booked when a CDR row says `answered`. Keys pressed on one
 * phone must reach the other as its own DTMF events (RFC 4733 relayed, or detected and re-sent
 * across transcoding), and a phone calling out through the default trunk hears the carrier's
 * echo of its tone.
 *
 * Digest: baresip 1.0.0 gives up on a 401 that carries any challenge other than MD5 (its
 * REGISTER fails with ENOSYS, "Function not implemented"). Since issue 12 a device is sent one
 * challenge, MD5 unless its `digest_algorithm` says otherwise, so every server here runs with
 * the default digest settings.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { dtmfReceived, startBaresip, type BaresipCodec, type BaresipPhone } from '../helpers/baresip.ts';
import { dbfs, dominantFrequency, goertzelPower, makeToneWav, readWavPcm, rms } from '../helpers/audio-analysis.ts';
import { getFreePort, startSippServer, type SippServer } from '../helpers/sipp.ts';
import { api, assertIdle, cdrCount, DEVICE_PASSWORD, nextCdr } from './call-fixtures.ts';

const TONE_A = 1000;
const TONE_B = 700;
const TALK_MS = 3000;
const TOLERANCE_HZ = 15;

const dir = mkdtempSync(path.join(tmpdir(), 'phone-baresip-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Tone files at the rate each phone's source runs at (baresip resamples to the codec's rate). */
const toneA = path.join(dir, 'tone-a.wav');
const toneB = path.join(dir, 'tone-b.wav');
makeToneWav(toneA, { freq: TONE_A, seconds: 10, rate: 8000, amplitude: 0.4 });
makeToneWav(toneB, { freq: TONE_B, seconds: 10, rate: 8000, amplitude: 0.4 });

interface CallCase {
  transport?: 'udp' | 'tcp' | 'tls';
  ipv6?: boolean;
  codecsA: BaresipCodec[];
  codecsB: BaresipCodec[];
  /** The codec column of the CDR. */
  cdrCodec?: string;
}

/** What one phone decoded, checked for the other phone's tone. */
function assertHeard(file: string, freq: number, who: string, phone: BaresipPhone): void {
  const wav = readWavPcm(file);
  const seconds = wav.samples.length / wav.sampleRate;
  const context = `${who}: ${seconds.toFixed(2)} s at ${wav.sampleRate} Hz, ${dbfs(wav.samples).toFixed(1)} dBFS`;
  assert.ok(seconds >= 2, `${context}: too little audio\n${phone.output().slice(-3000)}`);
  assert.ok(dbfs(wav.samples) > -30, `${context}: near silence`);
  const f = dominantFrequency(wav.samples, wav.sampleRate, { min: 200, max: 3400 });
  assert.ok(Math.abs(f - freq) <= TOLERANCE_HZ, `${context}: dominant ${f.toFixed(1)} Hz, want ${freq} ± ${TOLERANCE_HZ}`);
  // The tone is the signal, not a peak in noise: most of the energy is at that frequency.
  const share = goertzelPower(wav.samples, wav.sampleRate, f, { window: 'hann' }) / rms(wav.samples) ** 2;
  assert.ok(share > 0.5, `${context}: only ${(share * 100).toFixed(0)} % of the energy at ${f.toFixed(1)} Hz`);
}

describe('baresip phones through Strowger', () => {
  let t: TestServer;
  let tlsPort: number;

  before(async () => {
    tlsPort = await getFreePort('tcp');
    t = await startTestServer('sqlite', {
      STROWGER_SIP_TLS_PORT: String(tlsPort),
      STROWGER_SIP_HOST: '127.0.0.1,::1',
      STROWGER_RTP_PORTS: '22200-22399',
      STROWGER_MEDIA_WORKERS: '1',
    });
    for (const user of ['alice', 'bob']) await api(t, 'POST', '/api/devices', { name: user, username: user, password: DEVICE_PASSWORD });
  });
  after(() => t.close());
  afterEach(() => assertIdle(t));

  async function call(c: CallCase): Promise<void> {
    const transport = c.transport ?? 'udp';
    const host = c.ipv6 ? '[::1]' : '127.0.0.1';
    const outA = path.join(dir, `a-${Date.now()}.wav`);
    const outB = path.join(dir, `b-${Date.now()}.wav`);
    const port = transport === 'tls' ? tlsPort : t.sipPort;
    const common = { password: DEVICE_PASSWORD, port, transport, ipv6: c.ipv6 };
    const phones: BaresipPhone[] = [];
    try {
      const b = await startBaresip({ ...common, user: 'bob', codecs: c.codecsB, audioIn: toneB, audioOut: outB, autoAnswer: true });
      phones.push(b);
      const a = await startBaresip({ ...common, user: 'alice', codecs: c.codecsA, audioIn: toneA, audioOut: outA });
      phones.push(a);
      await Promise.all([a.registered, b.registered]);
      const n = await cdrCount(t);
      // No ;transport= here: baresip 1.0.0 appends its account's transport to the dialled URI itself.
      await a.dial(`sip:bob@${host}:${port}`);
      await a.waitForEvent('CALL_ESTABLISHED', 5000);
      await b.waitForEvent('CALL_ESTABLISHED', 2000);
      await new Promise((r) => setTimeout(r, TALK_MS));
      await a.hangup();
      await Promise.all([a.waitForEvent('CALL_CLOSED', 3000), b.waitForEvent('CALL_CLOSED', 3000)]);
      await Promise.all(phones.map((p) => p.close()));
      assertHeard(outB, TONE_A, 'B heard A', b);
      assertHeard(outA, TONE_B, 'A heard B', a);
      const cdr = await nextCdr(t, n);
      assert.deepEqual([cdr.disposition, cdr.caller, cdr.callee, cdr.hangup_by], ['answered', 'alice', 'bob', 'caller']);
      assert.ok(cdr.billsec >= 2 && cdr.billsec <= 5, `billsec ${cdr.billsec}`);
      if (c.cdrCodec) assert.equal(cdr.codec, c.cdrCodec);
    } finally {
      await Promise.all(phones.map((p) => p.close()));
    }
  }

  test('PCMU both sides over UDP/IPv4: each phone hears the other\'s tone; CDR answered', () =>
    call({ codecsA: ['PCMU'], codecsB: ['PCMU'], cdrCodec: 'PCMU/8000' }));

  test('PCMA both sides over TCP', () =>
    call({ transport: 'tcp', codecsA: ['PCMA'], codecsB: ['PCMA'], cdrCodec: 'PCMA/8000' }));

  test('G.722 both sides', () =>
    call({ codecsA: ['G722'], codecsB: ['G722'], cdrCodec: 'G722/8000' }));

  test('Opus both sides over TLS', () =>
    call({ transport: 'tls', codecsA: ['opus'], codecsB: ['opus'] }));

  test('PCMU over IPv6 ([::1])', () =>
    call({ ipv6: true, codecsA: ['PCMU'], codecsB: ['PCMU'], cdrCodec: 'PCMU/8000' }));

  test('PCMU caller, G.722-only callee (transcoding)', () =>
    call({ codecsA: ['PCMU'], codecsB: ['G722'] }));

  /** Alice keys `digits` during the call; bob's phone must report each, in order (RFC 4733 both sides). */
  async function keys(codecsA: BaresipCodec[], codecsB: BaresipCodec[], digits: string): Promise<void> {
    const common = { password: DEVICE_PASSWORD, port: t.sipPort };
    const phones: BaresipPhone[] = [];
    try {
      const b = await startBaresip({ ...common, user: 'bob', codecs: codecsB, autoAnswer: true });
      phones.push(b);
      const a = await startBaresip({ ...common, user: 'alice', codecs: codecsA });
      phones.push(a);
      await Promise.all([a.registered, b.registered]);
      await a.dial(`sip:bob@127.0.0.1:${t.sipPort}`);
      await a.waitForEvent('CALL_ESTABLISHED', 5000);
      const from = b.events.length;
      for (const d of digits) {
        await a.sendDtmf(d);
        await new Promise((r) => setTimeout(r, 400));
      }
      assert.equal(await dtmfReceived(b, from, digits.length, 3000), digits, `bob's phone reported the keys in order\n${b.output().slice(-2000)}`);
      await a.hangup();
      await b.waitForEvent('CALL_CLOSED', 3000);
    } finally {
      await Promise.all(phones.map((p) => p.close()));
    }
  }

  test('keys pressed on one phone reach the other (RFC 4733 relayed, PCMU both sides)', () => keys(['PCMU'], ['PCMU'], '159#'));

  test('keys pressed on one phone reach the other across transcoding (PCMU -> G.722: detected and re-sent)', () => keys(['PCMU'], ['G722'], '2*0'));
});


describe('a baresip phone calling out through the default trunk', () => {
  let t: TestServer;
  let carrier: SippServer;

  before(async () => {
    t = await startTestServer('sqlite', { STROWGER_RTP_PORTS: '22440-22499', STROWGER_MEDIA_WORKERS: '1' });
    await api(t, 'POST', '/api/devices', { name: 'alice', username: 'alice', password: DEVICE_PASSWORD });
    // The carrier: a sipp UAS that answers with the offer's first codec and echoes the RTP it gets.
    carrier = await startSippServer({ scenario: 'uas-answer.xml', rtpEcho: true, timeoutMs: 60_000 });
    await api(t, 'POST', '/api/trunks', { name: 'carrier-out', host: '127.0.0.1', port: carrier.port, transport: 'udp', default: true });
  });
  after(async () => { await carrier?.stop(); await t?.close(); });
  afterEach(() => assertIdle(t));

  test('alice dials an E.164 number: the carrier answers, alice hears her tone echoed through both legs; CDR outbound, answered', async () => {
    const out = path.join(dir, `out-${Date.now()}.wav`);
    const a = await startBaresip({ password: DEVICE_PASSWORD, port: t.sipPort, user: 'alice', codecs: ['PCMU'], audioIn: toneA, audioOut: out });
    try {
      await a.registered;
      const n = await cdrCount(t);
      await a.dial(`sip:+15559990000@127.0.0.1:${t.sipPort}`);
      await a.waitForEvent('CALL_ESTABLISHED', 5000);
      await new Promise((r) => setTimeout(r, TALK_MS));
      await a.hangup();
      await a.waitForEvent('CALL_CLOSED', 3000);
      await a.close();
      assertHeard(out, TONE_A, 'alice heard her tone back from the carrier', a);
      const cdr = await nextCdr(t, n);
      assert.deepEqual([cdr.direction, cdr.disposition, cdr.caller, cdr.callee, cdr.hangup_by], ['outbound', 'answered', 'alice', '+15559990000', 'caller']);
    } finally {
      await a.close();
    }
  });
});

describe('baresip with the server defaults', () => {
  test('registering with the server\'s default digest settings', async () => {
    const t = await startTestServer('sqlite', { STROWGER_RTP_PORTS: '22400-22419' });
    let phone: BaresipPhone | undefined;
    try {
      await api(t, 'POST', '/api/devices', { name: 'carol', username: 'carol', password: DEVICE_PASSWORD });
      phone = await startBaresip({ user: 'carol', password: DEVICE_PASSWORD, port: t.sipPort });
      await phone.registered;
    } finally {
      await phone?.close();
      await t.close();
    }
  });

  test('a phone retrying a wrong password locks only its own username there: another phone at 127.0.0.1 registers (issue 12)', async () => {
    const t = await startTestServer('sqlite', { STROWGER_RTP_PORTS: '22420-22439' });
    const phones: BaresipPhone[] = [];
    try {
      for (const user of ['dave', 'erin']) await api(t, 'POST', '/api/devices', { name: user, username: user, password: DEVICE_PASSWORD });
      // baresip answers every 401 again with the same wrong password (up to 16 times): the
      // 10th failure (STROWGER_SIP_BAN_FAILURES) locks "dave" at 127.0.0.1, and the 403 that
      // follows stops it.
      const wrong = await startBaresip({ user: 'dave', password: 'not-the-password', port: t.sipPort, timeoutMs: 15000 });
      phones.push(wrong);
      await assert.rejects(wrong.registered, /REGISTER_FAIL 403 Forbidden/);
      const sent = wrong.output().match(/^REGISTER sip:/gm)?.length ?? 0;
      assert.ok(sent >= 11, `baresip sent ${sent} REGISTERs`);
      const bans = (await t.request('GET', '/api/security/bans', { cookie: t.adminCookie })).body.data;
      assert.deepEqual(bans.map((b: any) => [b.address, b.username, b.reason]), [['127.0.0.1', 'dave', 'repeated_failures']]);
      const right = await startBaresip({ user: 'erin', password: DEVICE_PASSWORD, port: t.sipPort });
      phones.push(right);
      await right.registered;
    } finally {
      await Promise.all(phones.map((p) => p.close()));
      await t.close();
    }
  });
});
