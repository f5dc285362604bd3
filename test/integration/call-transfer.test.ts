/**
 * Issue 10, transfer acceptance: a phone's blind REFER (sipp `uac-refer-blind.xml`, alice)
 * moves the callee (bob, `uas-answer.xml`) to the target (carol, `uas-transfer-target.xml`
 * with RTP echo); the NOTIFY sipfrags 100/180/200 reach alice, and a 1 kHz tone sent as bob's
 * media comes back through carol's echo (so bob's endpoint is bridged with carol's). A busy
 * target: final NOTIFY 486 and the call goes on. API blind transfer, API attended with cancel.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestServer } from '../helpers/server.ts';
import { runSipp, sippUserRow } from '../helpers/sipp.ts';
import { assertSipp, assertToneThrough, sipfrags } from './transfer-fixtures.ts';
import { api, assertIdle, cdrList, DEVICE_PASSWORD, DOMAIN, device, deviceCall, eventually, registeredUas, startCallServer, uasResult } from './call-fixtures.ts';
import type { Cdr } from '../../src/store/cdrs.ts';
import { escapeUriHeaderValue, formatReplaces } from '../../src/sip/index.ts';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

describe('call transfer', () => {
  let t: TestServer;

  before(async () => {
    t = await startCallServer(24600, { STROWGER_RING_TIMEOUT_SECONDS: '3' });
    await device(t, 'alice');
  });
  after(() => t?.close());
  afterEach(() => assertIdle(t));

  async function activeCall(): Promise<any> {
    return eventually('an answered call', async () => {
      const list = (await api(t, 'GET', '/api/calls')).data as any[];
      return list.find((c) => c.state === 'answered');
    });
  }

  test('blind REFER: NOTIFY 100/180/200 to the transferor, the transferee talks to the target (1 kHz tone through its echo), CDRs', async () => {
    await device(t, 'bob');
    await device(t, 'carol');
    const bob = await registeredUas(t, 'bob', 'uas-answer.xml', { calls: 1 });
    const carol = await registeredUas(t, 'carol', 'uas-transfer-target.xml', { rtpEcho: true, calls: 1 });
    const before = (await cdrList(t)).length;
    const alice = await runSipp(deviceCall(t, 'alice', 'bob', {
      scenario: 'uac-refer-blind.xml', pauseMs: 500,
      injection: { rows: [[...sippUserRow('alice', DEVICE_PASSWORD, DOMAIN), 'carol']] },
    }));
    assertSipp(alice, 'transferor');
    const frags = sipfrags(alice.messages);
    assert.deepEqual([frags[0], frags.at(-1)], [100, 200], `sipfrags ${frags}`);
    assert.ok(frags.includes(180), `sipfrags ${frags}`);
    assert.match(alice.messages, /BYE sip:/, 'the PBX hung up on the transferor after the grace');

    // bob <-> carol now: a tone sent as bob's media returns through carol's RTP echo.
    const call = await api(t, 'GET', `/api/calls/${(await activeCall()).id}`);
    assert.equal(call.callee, 'carol');
    await assertToneThrough(call.legs.b.media.local_port);
    await api(t, 'DELETE', `/api/calls/${call.id}`);
    assertSipp(await uasResult(bob), 'transferee');
    assertSipp(await uasResult(carol), 'target');
    const cdrs: Cdr[] = await eventually('two CDRs', async () => { const l = await cdrList(t); return l.length >= before + 2 ? l : undefined; });
    const original = cdrs.find((c) => c.call_id === call.id)!;
    const continued = cdrs.find((c) => c.call_id.startsWith(`${call.id}-t`))!;
    assert.deepEqual([original.hangup_cause, original.hangup_by, original.caller, original.callee], ['transferred', 'caller', 'alice', 'bob']);
    assert.deepEqual([continued.hangup_cause, continued.caller, continued.callee, continued.disposition], ['api_hangup', 'bob', 'carol', 'answered']);
  });

  test('blind REFER to a busy target: final NOTIFY 486, the original call goes on', async () => {
    await device(t, 'dave');
    await device(t, 'erin');
    const dave = await registeredUas(t, 'dave', 'uas-answer.xml', { calls: 1 });
    const erin = await registeredUas(t, 'erin', 'uas-busy.xml', { calls: 1 });
    const alice = await runSipp(deviceCall(t, 'alice', 'dave', {
      scenario: 'uac-refer-blind.xml', pauseMs: 500,
      injection: { rows: [[...sippUserRow('alice', DEVICE_PASSWORD, DOMAIN), 'erin']] },
    }));
    // The scenario fails on a non-200 final sipfrag (README), after its own BYE: the call was still up.
    const frags = sipfrags(alice.messages);
    assert.deepEqual([frags[0], frags.at(-1)], [100, 486], `sipfrags ${frags}`);
    assert.match(alice.messages, /SIP\/2\.0 200 OK[\s\S]*CSeq: 20 BYE/, "alice's own BYE ended a call that was still up");
    assertSipp(await uasResult(dave), 'transferee');
    assertSipp(await uasResult(erin), 'busy target');
  });

  /** alice calls `callee` and waits for the PBX's BYE; resolves with the answered call's id and alice's sipp. */
  async function aliceCalls(callee: string) {
    const alice = runSipp(deviceCall(t, 'alice', callee, { scenario: 'uac-wait-bye.xml' }));
    const call = await activeCall();
    return { alice, id: call.id as string };
  }

  test('API blind transfer: the callee is released, the caller talks to the target (tone), 200 with the call; bad input 400/404/409', async () => {
    await device(t, 'frank');
    await device(t, 'grace');
    const frank = await registeredUas(t, 'frank', 'uas-answer.xml', { calls: 1 });
    const grace = await registeredUas(t, 'grace', 'uas-transfer-target.xml', { rtpEcho: true, calls: 1 });
    const { alice, id } = await aliceCalls('frank');
    const bad = await t.request('POST', `/api/calls/${id}/transfer`, { cookie: t.adminCookie, body: { target: 'a b' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'bad_request');
    const unknown = await t.request('POST', '/api/calls/nope/transfer', { cookie: t.adminCookie, body: { target: 'grace' } });
    assert.equal(unknown.status, 404);
    const none = await t.request('DELETE', `/api/calls/${id}/transfer`, { cookie: t.adminCookie });
    assert.equal(none.status, 409);
    const r = await t.request('POST', `/api/calls/${id}/transfer`, { cookie: t.adminCookie, body: { target: 'sip:grace@strowger.test', type: 'blind' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual([r.body.id, r.body.caller, r.body.callee, r.body.state], [id, 'alice', 'grace', 'answered']);
    assertSipp(await uasResult(frank), 'released callee');
    const call = await api(t, 'GET', `/api/calls/${id}`);
    await assertToneThrough(call.legs.a.media.local_port);
    await api(t, 'DELETE', `/api/calls/${id}`);
    assertSipp(await alice, 'kept caller');
    assertSipp(await uasResult(grace), 'target');
    const cdrs = await cdrList(t);
    assert.deepEqual(cdrs.filter((c) => c.call_id === id || c.call_id.startsWith(`${id}-t`)).map((c) => [c.callee, c.hangup_cause, c.hangup_by]).sort(),
      [['frank', 'transferred', 'api'], ['grace', 'api_hangup', 'api']]);
  });

  test('API attended transfer: the target rings while the parties talk; DELETE cancels it (CANCEL), the call goes on', async () => {
    await device(t, 'henry');
    await device(t, 'ivan');
    const henry = await registeredUas(t, 'henry', 'uas-answer.xml', { calls: 1 });
    // The API answers as soon as it sends the CANCEL: uasResult waits for the 487's ACK.
    const ivan = await registeredUas(t, 'ivan', 'uas-no-answer.xml', { calls: 1 });
    const { alice, id } = await aliceCalls('henry');
    const pending = t.request('POST', `/api/calls/${id}/transfer`, { cookie: t.adminCookie, body: { target: 'ivan', type: 'attended' } });
    // The target's endpoint exists once the INVITE is on its way; let it ring (180) before cancelling.
    await eventually('the target ringing', () => t.server.ctx.sip!.media.totals().legs === 3);
    await new Promise((r) => setTimeout(r, 300));
    await eventually('a pending transfer to cancel', async () => {
      const d = await t.request('DELETE', `/api/calls/${id}/transfer`, { cookie: t.adminCookie });
      return d.status === 200;
    });
    const r = await pending;
    assert.equal(r.status, 502, JSON.stringify(r.body));
    assert.equal(r.body.error.details.sip_status, 487);
    const call = await api(t, 'GET', `/api/calls/${id}`);
    assert.deepEqual([call.state, call.callee], ['answered', 'henry'], 'the original call goes on');
    assertSipp(await uasResult(ivan), 'cancelled target');
    await api(t, 'DELETE', `/api/calls/${id}`);
    assertSipp(await alice, 'caller');
    assertSipp(await uasResult(henry), 'callee');
  });

  test('attended REFER with Replaces: the transferee talks to the consulted party (tone), both of the transferor\'s calls end, CDRs', async () => {
    await device(t, 'jack');
    await device(t, 'kate');
    const jack = await registeredUas(t, 'jack', 'uas-answer.xml', { calls: 1 });
    const kate = await registeredUas(t, 'kate', 'uas-answer.xml', { rtpEcho: true, calls: 1 });
    const dir = await mkdtemp(path.join(tmpdir(), 'transfer-'));
    const logFile = path.join(dir, 'consult.log');
    try {
      const consult = runSipp(deviceCall(t, 'alice', 'kate', { scenario: 'uac-consult.xml', extraArgs: ['-trace_logs', '-log_file', logFile] }));
      const m = await eventually('the consultation dialog', async () => /CONSULT call-id=(\S+) local-tag=(\S+) remote-tag=(\S+)/.exec(await readFile(logFile, 'utf8').catch(() => '')) ?? undefined, 8000);
      const replaces = escapeUriHeaderValue(formatReplaces({ callId: m[1]!, toTag: m[3]!, fromTag: m[2]!, earlyOnly: false }));
      const before = (await cdrList(t)).length;
      const alice = await runSipp(deviceCall(t, 'alice', 'jack', {
        scenario: 'uac-refer-attended.xml', pauseMs: 500,
        injection: { rows: [[...sippUserRow('alice', DEVICE_PASSWORD, DOMAIN), 'kate', replaces]] },
      }));
      assertSipp(alice, 'transferor');
      const frags = sipfrags(alice.messages);
      assert.deepEqual([frags[0], frags.at(-1)], [100, 200], `sipfrags ${frags}`);
      assertSipp(await consult, 'consultation call (BYE from the PBX)');
      const call = await api(t, 'GET', `/api/calls/${(await activeCall()).id}`);
      assert.deepEqual([call.caller, call.callee], ['jack', 'kate']);
      await assertToneThrough(call.legs.b.media.local_port);
      await api(t, 'DELETE', `/api/calls/${call.id}`);
      assertSipp(await uasResult(jack), 'transferee');
      assertSipp(await uasResult(kate), 'consulted party');
      const cdrs: Cdr[] = await eventually('three CDRs', async () => { const l = await cdrList(t); return l.length >= before + 3 ? l : undefined; });
      const causes = cdrs.slice(0, cdrs.length - before).map((c) => `${c.caller}>${c.callee}:${c.hangup_cause}`).sort();
      assert.deepEqual(causes, ['alice>jack:transferred', 'alice>kate:transferred', 'jack>kate:api_hangup']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
