/**
 * Blind transfer with real phones (Debian's baresip 1.0.0, PCMU, the server's defaults): alice
 * calls bob, bob's phone transfers the call to carol (`transfer`: a REFER in the call's dialog,
 * RFC 3515), carol's phone answers. Checked: bob's phone gets 202 and the NOTIFY sipfrags and
 * leaves the call; alice's phone hears bob's tone, then carol's, with no re-INVITE (we anchor the
 * media); carol's phone hears alice's tone; the CDRs book the first pairing as `transferred` and
 * the continuing call alice → carol as answered. sipp covers the same REFER in
 * `call-transfer.test.ts`; a phone's REFER, its NOTIFY handling and its own subscription are
 * what this adds.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { startBaresip, type BaresipPhone } from '../helpers/baresip.ts';
import { dominantPerSecond, makeToneWav, readWavPcm } from '../helpers/audio-analysis.ts';
import { api, assertIdle, cdrList, DEVICE_PASSWORD, eventually } from './call-fixtures.ts';

const TONES = { alice: 1000, bob: 700, carol: 450 } as const;
const TOLERANCE_HZ = 15;

const dir = mkdtempSync(path.join(tmpdir(), 'transfer-baresip-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const toneOf = (user: keyof typeof TONES): string => {
  const file = path.join(dir, `tone-${user}.wav`);
  makeToneWav(file, { freq: TONES[user], seconds: 30, rate: 8000, amplitude: 0.4 });
  return file;
};

/** Dominant frequency (Hz, rounded) of each second of a decoded-audio dump; quiet seconds (mean square ≤ 1e5): 0. */
function perSecond(file: string): number[] {
  const { samples, sampleRate } = readWavPcm(file);
  return dominantPerSecond(samples, sampleRate, Math.sqrt(1e5)).map(Math.round);
}

const near = (f: number, want: number): boolean => Math.abs(f - want) <= TOLERANCE_HZ;

describe('blind transfer with baresip phones', () => {
  let t: TestServer;

  before(async () => {
    t = await startTestServer('sqlite', { STROWGER_RTP_PORTS: '23400-23599', STROWGER_MEDIA_WORKERS: '1' });
    for (const user of ['alice', 'bob', 'carol']) await api(t, 'POST', '/api/devices', { name: user, username: user, password: DEVICE_PASSWORD });
  });
  after(() => t.close());
  afterEach(() => assertIdle(t));

  test('bob\'s phone transfers alice to carol: NOTIFYs reach bob, alice hears bob then carol, carol hears alice, CDRs', async () => {
    const phones: BaresipPhone[] = [];
    const heard = { alice: path.join(dir, 'alice.wav'), carol: path.join(dir, 'carol.wav') };
    try {
      const common = { password: DEVICE_PASSWORD, port: t.sipPort, codecs: ['PCMU' as const] };
      const carol = await startBaresip({ ...common, user: 'carol', audioIn: toneOf('carol'), audioOut: heard.carol, autoAnswer: true });
      phones.push(carol);
      const bob = await startBaresip({ ...common, user: 'bob', audioIn: toneOf('bob'), autoAnswer: true });
      phones.push(bob);
      const alice = await startBaresip({ ...common, user: 'alice', audioIn: toneOf('alice'), audioOut: heard.alice });
      phones.push(alice);
      await Promise.all(phones.map((p) => p.registered));
      const before = (await cdrList(t)).length;

      await alice.dial(`sip:bob@127.0.0.1:${t.sipPort}`);
      await alice.waitForEvent('CALL_ESTABLISHED', 5000);
      await bob.waitForEvent('CALL_ESTABLISHED', 2000);
      await sleep(2500);
      const fromBob = bob.events.length;
      await bob.command('transfer', `sip:carol@127.0.0.1:${t.sipPort}`);
      await carol.waitForEvent('CALL_ESTABLISHED', 5000);
      // baresip sends BYE on the final NOTIFY (had it not, our BYE would follow 2 s later).
      await bob.waitForEvent('CALL_CLOSED', 5000, fromBob);
      const calls = (await api(t, 'GET', '/api/calls')).data as Array<{ state: string; caller: string; callee: string }>;
      assert.deepEqual(calls.map((c) => [c.state, c.caller, c.callee]), [['answered', 'alice', 'carol']]);
      await sleep(3000);
      await alice.hangup();
      await Promise.all([alice.waitForEvent('CALL_CLOSED', 3000), carol.waitForEvent('CALL_CLOSED', 3000)]);
      await Promise.all(phones.map((p) => p.close()));

      // What bob's phone saw on the wire: the REFER accepted, the sipfrags up to the target's 200.
      const trace = bob.output();
      assert.match(trace, /SIP\/2\.0 202 Accepted/, 'bob got 202 for his REFER');
      const frags = [...trace.matchAll(/Content-Type: message\/sipfrag[^\n]*\n(?:[^\n]*\n)*?\s*(SIP\/2\.0 \d{3})/gi)].map((m) => m[1]);
      assert.deepEqual(frags, ['SIP/2.0 100', 'SIP/2.0 180', 'SIP/2.0 200'], 'the sipfrags bob got, in order');
      assert.match(trace, /Subscription-State: terminated;reason=noresource/i, 'the last NOTIFY ended the subscription');
      assert.match(trace, /^\s*BYE sip:strowger@/m, 'bob\'s phone left the call itself after the final NOTIFY');
      assert.doesNotMatch(alice.output(), /INVITE sip:alice/, 'no re-INVITE reached alice: the media stays anchored');

      const aliceHeard = perSecond(heard.alice);
      const first = aliceHeard.findIndex((f) => near(f, TONES.bob));
      const switched = aliceHeard.findIndex((f) => near(f, TONES.carol));
      assert.ok(first >= 0 && switched > first, `alice heard bob, then carol (dominant Hz per second: ${aliceHeard.join(' ')})`);
      assert.ok(aliceHeard.slice(switched).filter((f) => near(f, TONES.carol)).length >= 2, `alice kept hearing carol: ${aliceHeard.join(' ')}`);
      const carolHeard = perSecond(heard.carol);
      assert.ok(carolHeard.filter((f) => near(f, TONES.alice)).length >= 2, `carol heard alice: ${carolHeard.join(' ')}`);

      const cdrs = await eventually('both CDRs', async () => {
        const list = await cdrList(t);
        return list.length - before >= 2 ? list.slice(0, list.length - before) : undefined;
      });
      assert.deepEqual(cdrs.map((c) => `${c.caller}>${c.callee}:${c.disposition}:${c.hangup_cause}`).sort(),
        ['alice>bob:answered:transferred', 'alice>carol:answered:caller_bye']);
    } finally {
      await Promise.all(phones.map((p) => p.close()));
    }
  });
});
