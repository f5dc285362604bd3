/**
 * A call that rings two real phones (Debian's baresip 1.0.0, the server's defaults): a trunk
 * caller (sipp, replaying a 1 kHz tone as PCMA) dials a DID whose route rings bob and carol.
 * Carol's phone answers at once; bob's phone, still ringing, gets our CANCEL with
 * `Reason: SIP;cause=200;text="Call completed elsewhere"` (RFC 3326: phones log no missed call
 * for it) and closes the call. Checked on bob's wire trace, on carol's decoded audio (the
 * caller's tone) and on the CDR.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestServer } from '../helpers/server.ts';
import { startBaresip, type BaresipPhone } from '../helpers/baresip.ts';
import { runSipp } from '../helpers/sipp.ts';
import { pcmaToneScenario } from '../helpers/rtp-pcap.ts';
import { dominantFrequency, readWavPcm } from '../helpers/audio-analysis.ts';
import { api, assertIdle, cdrList, DEVICE_PASSWORD, did, eventually, inboundTrunk, route, startCallServer, trunkCall } from './call-fixtures.ts';

const DID = '+15550104000';
const dir = mkdtempSync(path.join(tmpdir(), 'fork-baresip-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('a route ringing two baresip phones', () => {
  let t: TestServer;

  before(async () => {
    t = await startCallServer(23600);
    await inboundTrunk(t);
    const ids: number[] = [];
    for (const user of ['bob', 'carol']) ids.push((await api(t, 'POST', '/api/devices', { name: user, username: user, password: DEVICE_PASSWORD })).id);
    await route(t, await did(t, DID), { action: 'ring', action_data: { device_ids: ids } });
  });
  after(() => t.close());
  afterEach(() => assertIdle(t));

  test('carol answers: bob\'s ringing phone is cancelled with "Call completed elsewhere", carol hears the caller, one answered CDR', async () => {
    const phones: BaresipPhone[] = [];
    const heard = path.join(dir, 'carol.wav');
    try {
      const common = { password: DEVICE_PASSWORD, port: t.sipPort, codecs: ['PCMA' as const] };
      const bob = await startBaresip({ ...common, user: 'bob' });
      phones.push(bob);
      const carol = await startBaresip({ ...common, user: 'carol', autoAnswer: true, audioOut: heard });
      phones.push(carol);
      await Promise.all(phones.map((p) => p.registered));
      const before = (await cdrList(t)).length;

      const caller = runSipp(trunkCall(t, DID, '+15550100100', { scenario: pcmaToneScenario(dir, 1000, 4), pauseMs: 4500, timeoutMs: 30_000 }));
      await bob.waitForEvent('CALL_INCOMING', 8000);
      await carol.waitForEvent('CALL_ESTABLISHED', 8000);
      await bob.waitForEvent('CALL_CLOSED', 5000);
      const cancel = /CANCEL sip:bob[^\n]*\n(?:[^\n]*\n)*?\s*Reason: ([^\n]*)/.exec(bob.output());
      assert.ok(cancel, `bob's phone got a CANCEL with a Reason:\n${bob.output().slice(-3000)}`);
      assert.equal(cancel[1]!.trim(), 'SIP;cause=200;text="Call completed elsewhere"');

      const r = await caller;
      assert.equal(r.stats.successful, 1, `${r.errors}\n${r.messages?.slice(-2000)}`);
      await carol.waitForEvent('CALL_CLOSED', 5000);
      await Promise.all(phones.map((p) => p.close()));
      const { samples, sampleRate } = readWavPcm(heard);
      const f = dominantFrequency(samples, sampleRate, { min: 200, max: 3400 });
      assert.ok(Math.abs(f - 1000) <= 15, `carol heard the caller's 1 kHz tone (dominant ${f.toFixed(1)} Hz, ${(samples.length / sampleRate).toFixed(1)} s)`);

      const cdrs = await eventually('the CDR', async () => {
        const list = await cdrList(t);
        return list.length > before ? list.slice(0, list.length - before) : undefined;
      });
      assert.deepEqual(cdrs.map((c) => [c.disposition, c.callee, c.hangup_by]), [['answered', DID, 'caller']]);
    } finally {
      await Promise.all(phones.map((p) => p.close()));
    }
  });
});
