/**
 * Issue 10, acceptance "Hold via API": a call between a sipp UAC and a sipp UAS
 * (test/sipp/uas-hold.xml, whose media goes to this test's RTP socket). A 1 kHz tone is sent
 * into the caller's leg all along. Hold: the callee gets a re-INVITE whose SDP says
 * a=sendonly (uas-hold.xml fails the call otherwise), then RTP whose decoded audio carries
 * the default MOH's first chord (C5 E5 G5, `DEFAULT_MOH_CHORDS`) and not the caller's tone;
 * resume: a re-INVITE with a=sendrecv, the MOH stops and the caller's tone arrives again.
 * The same for a phone that holds (test/sipp/uac-hold-long.xml: sendonly re-INVITE relayed,
 * MOH to the other party), and the API's answers for bad input.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestServer } from '../helpers/server.ts';
import { spawnSipp, startSippServer, type SippResult } from '../helpers/sipp.ts';
import { decodeUlaw, goertzelPower } from '../helpers/audio-analysis.ts';
import { PCMU } from '../../src/media/codec/g711.ts';
import { DEFAULT_MOH_CHORDS } from '../../src/pbx/moh-default.ts';
import { api, assertIdle, defaultTrunk, did, eventually, inboundTrunk, route, startCallServer, trunkCall } from './call-fixtures.ts';

const DID = '+15553350000';
const TONE_HZ = 1000;
const [C_MAJOR] = DEFAULT_MOH_CHORDS;
const MOH_TONE_POWER = (0.15 * 32767) ** 2 / 2;

function assertOne(r: SippResult, what: string): void {
  assert.equal(r.stats.successful, 1, `${what}: ${r.errors}\n${r.stdout.slice(-800)}`);
  assert.equal(r.stats.failed, 0, `${what}: ${r.errors}`);
}

/** RTP arriving at the callee: payloads with their arrival time. */
async function callee(): Promise<{ socket: dgram.Socket; port: number; packets: Array<{ at: number; pt: number; payload: Buffer }> }> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  const packets: Array<{ at: number; pt: number; payload: Buffer }> = [];
  socket.on('message', (msg) => {
    if (msg.length < 12 || (msg[1] >= 200 && msg[1] <= 204)) return;
    const cc = msg[0] & 0x0f;
    packets.push({ at: Date.now(), pt: msg[1] & 0x7f, payload: Buffer.from(msg.subarray(12 + 4 * cc)) });
  });
  return { socket, port: (socket.address()).port, packets };
}

/** Sends a 1 kHz PCMU tone every 20 ms to `port` until stopped. */
async function toneInto(port: number): Promise<() => void> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  const enc = PCMU.createEncoder();
  const pcm = new Int16Array(160);
  let i = 0;
  const timer = setInterval(() => {
    for (let n = 0; n < 160; n++) pcm[n] = Math.round(8000 * Math.sin((2 * Math.PI * TONE_HZ * (i * 160 + n)) / 8000));
    const packet = Buffer.alloc(12 + 160);
    packet[0] = 0x80; packet[1] = 0;
    packet.writeUInt16BE(i & 0xffff, 2);
    packet.writeUInt32BE((i * 160) >>> 0, 4);
    packet.writeUInt32BE(0xc0ffee, 8);
    enc.encode(pcm, packet.subarray(12));
    socket.send(packet, port, '127.0.0.1');
    i++;
  }, 20);
  return () => { clearInterval(timer); socket.close(); };
}

/** Decoded PCMU received in [from, to) (ms epoch). */
function audioBetween(packets: Array<{ at: number; pt: number; payload: Buffer }>, from: number, to: number): Int16Array {
  const parts = packets.filter((p) => p.at >= from && p.at < to && p.pt === 0).map((p) => decodeUlaw(p.payload));
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** Powers at the caller's tone and at the chord's tones, plus a frequency in neither. */
function spectrum(pcm: Int16Array) {
  const p = (f: number) => goertzelPower(pcm, 8000, f, { window: 'hann' });
  return { samples: pcm.length, tone: p(TONE_HZ), chord: C_MAJOR.map(p), off: p(1250) };
}

function assertMoh(pcm: Int16Array, what: string): void {
  const s = spectrum(pcm);
  assert.ok(s.samples >= 8000, `${what}: at least 1 s of audio, got ${s.samples} samples`);
  for (const [i, power] of s.chord.entries()) {
    assert.ok(power > 100 * s.tone && power > 100 * s.off, `${what}: MOH tone ${C_MAJOR[i].toFixed(1)} Hz must dominate: ${JSON.stringify(s)}`);
    // The file's tones peak at 0.15 of full scale (moh-default.ts): a sine of amplitude A gives A²/2.
    assert.ok(power > MOH_TONE_POWER / 2 && power < MOH_TONE_POWER * 2, `${what}: ${C_MAJOR[i].toFixed(1)} Hz at the file's level: ${power} vs ${MOH_TONE_POWER}`);
  }
}

function assertTone(pcm: Int16Array, what: string): void {
  const s = spectrum(pcm);
  assert.ok(s.samples >= 4000, `${what}: at least 0.5 s of audio, got ${s.samples} samples`);
  for (const power of s.chord) assert.ok(s.tone > 100 * power, `${what}: the caller's ${TONE_HZ} Hz tone, no MOH: ${JSON.stringify(s)}`);
}

describe('hold', () => {
  let t: TestServer;

  before(async () => {
    t = await startCallServer(22600);
    await inboundTrunk(t);
    await route(t, await did(t, DID), { action: 'forward', action_data: { number: '+15559990005' } });
  });
  after(() => t.close());
  afterEach(() => assertIdle(t));

  async function answeredCall(uasPort: number, scenario: string, caller: string) {
    const outTrunk = await defaultTrunk(t, uasPort);
    const uac = await spawnSipp(trunkCall(t, DID, caller, { scenario, timeoutMs: 40000 }));
    const call = await eventually('the answered call', async () => {
      const list = (await api(t, 'GET', '/api/calls')).data as Array<{ id: string; state: string }>;
      return list.find((c) => c.state === 'answered');
    }, 10000);
    const view = await api(t, 'GET', `/api/calls/${call.id}`);
    return { uac, id: call.id, aPort: view.legs.a.media.local_port as number, outTrunk };
  }

  test('API hold: re-INVITE sendonly and MOH to the callee, silence of the caller; resume: sendrecv, the caller\'s audio again', async () => {
    const rx = await callee();
    const uas = await startSippServer({ scenario: 'uas-hold.xml', extraArgs: ['-set', 'rtpport', String(rx.port)] });
    let stopTone: (() => void) | undefined;
    try {
      const { uac, id, aPort, outTrunk } = await answeredCall(uas.port, 'uac-wait-bye.xml', '+15550100901');
      const before = await api(t, 'GET', `/api/calls/${id}`);
      assert.deepEqual([before.on_hold, before.held_by, before.held_party], [false, null, null]);
      stopTone = await toneInto(aPort);
      await sleep(1000);
      const holdAt = Date.now();
      const held = await t.request('POST', `/api/calls/${id}/hold`, { cookie: t.adminCookie, body: { hold: true } });
      assert.equal(held.status, 200, JSON.stringify(held.body));
      assert.deepEqual([held.body.id, held.body.state, held.body.on_hold, held.body.held_by, held.body.held_party], [id, 'answered', true, 'api', 'callee']);
      const again = await t.request('POST', `/api/calls/${id}/hold`, { cookie: t.adminCookie, body: { hold: true, leg: 'callee' } });
      assert.equal(again.status, 200, 'holding a held party again: idempotent, no re-INVITE (uas-hold.xml would fail on a third)');
      const other = await t.request('POST', `/api/calls/${id}/hold`, { cookie: t.adminCookie, body: { hold: true, leg: 'caller' } });
      assert.equal(other.status, 409);
      assert.equal(other.body.error.code, 'conflict');
      const during = await api(t, 'GET', `/api/calls/${id}`);
      assert.deepEqual([during.on_hold, during.held_by, during.held_party], [true, 'api', 'callee']);
      await sleep(2500);
      const resumeAt = Date.now();
      const resumed = await t.request('POST', `/api/calls/${id}/hold`, { cookie: t.adminCookie, body: { hold: false } });
      assert.equal(resumed.status, 200, JSON.stringify(resumed.body));
      assert.deepEqual([resumed.body.on_hold, resumed.body.held_by, resumed.body.held_party], [false, null, null]);
      await sleep(1200);
      const endAt = Date.now();
      stopTone();
      stopTone = undefined;
      assert.equal((await t.request('DELETE', `/api/calls/${id}`, { cookie: t.adminCookie })).status, 200);
      assertOne(await uac.done, 'caller');
      assertOne(await uas.stop(), 'callee (re-INVITEs sendonly then sendrecv)');
      await api(t, 'DELETE', `/api/trunks/${outTrunk}`);

      assertTone(audioBetween(rx.packets, holdAt - 800, holdAt), 'before hold');
      assertMoh(audioBetween(rx.packets, holdAt + 700, resumeAt), 'on hold');
      assertTone(audioBetween(rx.packets, resumeAt + 300, endAt), 'after resume');
    } finally {
      stopTone?.();
      await uas.stop().catch(() => {});
      rx.socket.close();
    }
  });

  test('phone hold: the caller\'s sendonly re-INVITE is relayed, the callee hears MOH; sendrecv resumes the caller\'s audio', async () => {
    const rx = await callee();
    const uas = await startSippServer({ scenario: 'uas-hold.xml', extraArgs: ['-set', 'rtpport', String(rx.port)] });
    let stopTone: (() => void) | undefined;
    try {
      const { uac, id, aPort, outTrunk } = await answeredCall(uas.port, 'uac-hold-long.xml', '+15550100902');
      stopTone = await toneInto(aPort);
      const heldAt = await eventually('held by the caller', async () => {
        const c = await api(t, 'GET', `/api/calls/${id}`);
        return c.on_hold ? { at: Date.now(), c } : undefined;
      }, 5000);
      assert.deepEqual([heldAt.c.held_by, heldAt.c.held_party], ['caller', 'callee']);
      const resumedAt = await eventually('resumed by the caller', async () => {
        const c = await t.request('GET', `/api/calls/${id}`, { cookie: t.adminCookie });
        return c.status === 200 && !c.body.on_hold ? Date.now() : undefined;
      }, 5000);
      await sleep(1000);
      const endAt = Date.now();
      stopTone();
      stopTone = undefined;
      assertOne(await uac.done, 'caller (uac-hold-long.xml: hold answered recvonly)');
      assertOne(await uas.stop(), 'callee (relayed sendonly, then sendrecv)');
      await api(t, 'DELETE', `/api/trunks/${outTrunk}`);

      assertMoh(audioBetween(rx.packets, heldAt.at + 500, resumedAt - 100), 'held by the caller\'s phone');
      assertTone(audioBetween(rx.packets, resumedAt + 300, endAt), 'after the phone resumed');
    } finally {
      stopTone?.();
      await uas.stop().catch(() => {});
      rx.socket.close();
    }
  });

  test('bad input: 404 for an unknown call, 400 for a bad body', async () => {
    const unknown = await t.request('POST', '/api/calls/nope/hold', { cookie: t.adminCookie, body: { hold: true } });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'not_found');
    for (const body of [{}, { hold: 'yes' }, { hold: true, leg: 'both' }, { hold: true, extra: 1 }]) {
      const r = await t.request('POST', '/api/calls/nope/hold', { cookie: t.adminCookie, body });
      assert.equal(r.status, 400, JSON.stringify(body));
    }
  });
});
