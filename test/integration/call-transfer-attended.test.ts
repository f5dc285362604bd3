/**
 * Attended transfer by REFER with Replaces (RFC 5589 §7) beyond the basic case of
 * call-transfer.test.ts, on a server with two media workers where the consultation call and
 * the original call land in different workers (least-loaded placement; asserted):
 * - the transferor placed the consultation call (alice -> kate, `uac-consult.xml`);
 * - the consulted party called the transferor (kate -> alice, alice's phone `uas-consult.xml`),
 *   so the Replaces names a dialog where the transferor was the callee.
 * Each time the transferee (jack) ends up talking to kate: a tone sent as jack's media comes
 * back through kate's RTP echo, across the two workers.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestServer } from '../helpers/server.ts';
import { runSipp, sippUserRow, type SippResult } from '../helpers/sipp.ts';
import { escapeUriHeaderValue, formatReplaces } from '../../src/sip/index.ts';
import type { Cdr } from '../../src/store/cdrs.ts';
import { api, assertIdle, cdrList, DEVICE_PASSWORD, DOMAIN, device, deviceCall, eventually, registeredUas, startCallServer, uasResult } from './call-fixtures.ts';
import { assertSipp, assertToneThrough, sipfrags } from './transfer-fixtures.ts';

describe('attended transfer across media workers', () => {
  let t: TestServer;
  let dir: string;

  before(async () => {
    t = await startCallServer(25600, { STROWGER_RING_TIMEOUT_SECONDS: '3', STROWGER_MEDIA_WORKERS: '2' });
    for (const name of ['alice', 'jack', 'kate']) await device(t, name);
    dir = await mkdtemp(path.join(tmpdir(), 'attended-'));
  });
  after(async () => {
    await t?.close();
    await rm(dir, { recursive: true, force: true });
  });
  afterEach(() => assertIdle(t));

  /** The Replaces of the consultation dialog, from the CONSULT line its sipp logs. */
  async function consultReplaces(logFile: string): Promise<string> {
    const m = await eventually('the consultation dialog', async () => /CONSULT call-id=(\S+) local-tag=(\S+) remote-tag=(\S+)/.exec(await readFile(logFile, 'utf8').catch(() => '')) ?? undefined, 20000);
    return escapeUriHeaderValue(formatReplaces({ callId: m[1]!, toTag: m[3]!, fromTag: m[2]!, earlyOnly: false }));
  }

  /**
   * With the consultation call up: alice calls jack (second worker), REFERs him to kate with
   * `replaces`; checks the NOTIFYs, the new pairing with a tone, and the three CDRs.
   */
  async function referAndCheck(replaces: string, consult: () => Promise<SippResult>, kate: () => Promise<SippResult>, consultCdr: string): Promise<void> {
    const jack = await registeredUas(t, 'jack', 'uas-answer.xml', { calls: 1 });
    const before = (await cdrList(t)).length;
    const media = t.server.ctx.sip!.media;
    const alice = runSipp(deviceCall(t, 'alice', 'jack', {
      scenario: 'uac-refer-attended.xml', pauseMs: 1000,
      injection: { rows: [[...sippUserRow('alice', DEVICE_PASSWORD, DOMAIN), 'kate', replaces]] },
    }));
    await eventually('both calls up, one per worker', () => {
      const w = media.totals().perWorker.map((p) => p.legs);
      return t.server.ctx.sip!.b2bua.listCalls().filter((c) => c.state === 'answered').length === 2 && w[0] === 2 && w[1] === 2;
    }, 8000).catch(() => assert.fail(`legs per worker ${JSON.stringify(media.totals().perWorker.map((p) => p.legs))}`));
    const r = await alice;
    assertSipp(r, 'transferor');
    const frags = sipfrags(r.messages);
    assert.deepEqual([frags[0], frags.at(-1)], [100, 200], `sipfrags ${frags}`);
    assertSipp(await consult(), 'transferor\'s consultation leg (BYE from the PBX)');
    const id = (await eventually('one call left', () => { const l = t.server.ctx.sip!.b2bua.listCalls(); return l.length === 1 && l[0]!.state === 'answered' ? l[0] : undefined; })).id;
    const call = await api(t, 'GET', `/api/calls/${id}`);
    assert.deepEqual([call.caller, call.callee], ['jack', 'kate']);
    await assertToneThrough(call.legs.b.media.local_port);
    await api(t, 'DELETE', `/api/calls/${id}`);
    assertSipp(await uasResult(jack), 'transferee');
    assertSipp(await kate(), 'consulted party');
    const cdrs: Cdr[] = await eventually('three CDRs', async () => { const l = await cdrList(t); return l.length >= before + 3 ? l : undefined; });
    const causes = cdrs.slice(0, cdrs.length - before).map((c) => `${c.caller}>${c.callee}:${c.hangup_cause}`).sort();
    assert.deepEqual(causes, [consultCdr, 'alice>jack:transferred', 'jack>kate:api_hangup'].sort());
  }

  test('the transferor called the consulted party; the calls live in different workers', async () => {
    const kate = await registeredUas(t, 'kate', 'uas-answer.xml', { rtpEcho: true, calls: 1 });
    const logFile = path.join(dir, 'consult-out.log');
    const consult = runSipp(deviceCall(t, 'alice', 'kate', { scenario: 'uac-consult.xml', extraArgs: ['-trace_logs', '-log_file', logFile] }));
    await referAndCheck(await consultReplaces(logFile), () => consult, () => uasResult(kate), 'alice>kate:transferred');
  });

  test('the consulted party called the transferor (Replaces names a dialog where the transferor is the callee)', async () => {
    const logFile = path.join(dir, 'consult-in.log');
    const aliceConsult = await registeredUas(t, 'alice', 'uas-consult.xml', { extraArgs: ['-trace_logs', '-log_file', logFile] });
    const kate = runSipp(deviceCall(t, 'kate', 'alice', { scenario: 'uac-wait-bye.xml', rtpEcho: true }));
    const replaces = await consultReplaces(logFile);
    const consultEnded = async () => {
      await eventually('the consultation BYE', async () => (await readFile(logFile, 'utf8')).includes('CONSULT ended'));
      return aliceConsult.stop();
    };
    await referAndCheck(replaces, consultEnded, () => kate, 'kate>alice:transferred');
  });
});
