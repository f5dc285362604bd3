/**
 * Issue 10: an INVITE with Replaces (RFC 3891) from a phone takes over a party of a call.
 * alice calls bob (`uac-consult.xml`, which logs its dialog's identifiers; bob echoes RTP);
 * carol sends INVITE + Replaces naming alice's dialog (`uac-invite-replaces.xml`, digest as
 * any device): alice gets a BYE, bob is now bridged to carol (a tone sent as carol's media
 * comes back through bob's echo), CDRs say `replaced`. Refusals: no such dialog 481, a
 * confirmed dialog with `early-only` 486, an early dialog of a caller ringing here 481, a
 * malformed Replaces 400, an INVITE without digest 407 (nothing replaced).
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestServer } from '../helpers/server.ts';
import { runSipp, sippUserRow } from '../helpers/sipp.ts';
import { parseMessage } from '../../src/sip/parse-message.ts';
import type { SipMessage } from '../../src/sip/message.ts';
import { answerChallenge } from '../../src/sip/digest-client.ts';
import type { Cdr } from '../../src/store/cdrs.ts';
import { api, assertIdle, cdrList, DEVICE_PASSWORD, DOMAIN, device, deviceCall, eventually, finalStatuses, registeredUas, startCallServer, uasResult } from './call-fixtures.ts';
import { SipTestClient } from './sip-client.ts';
import { aliceCallsBob as callBob, assertSipp, carolReplacesAlice } from './transfer-fixtures.ts';

const OFFER = ['v=0', 'o=t 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');

/**
 * An INVITE from device `user` (digest answered, non-2xx ACKed as §17.1.1.3 wants) with the
 * extra `headers`; resolves with the final response (a 2xx is ACKed and BYEd right away).
 */
async function rawInvite(c: SipTestClient, user: string, headers: string[], authenticate = true, provisional?: (m: SipMessage) => void): Promise<SipMessage> {
  const callId = `${randomBytes(6).toString('hex')}@raw`;
  const fromTag = randomBytes(4).toString('hex');
  const uri = `sip:bob@${c.serverUri.slice(4)}`;
  let auth: string[] = [];
  for (let cseq = 1; ; cseq++) {
    const branch = `z9hG4bK${randomBytes(6).toString('hex')}`;
    const common = [`Via: SIP/2.0/UDP ${c.sentBy};branch=${branch};rport`, 'Max-Forwards: 70', `From: <sip:${user}@${DOMAIN}>;tag=${fromTag}`];
    c.send([`INVITE ${uri} SIP/2.0`, ...common, `To: <sip:bob@${DOMAIN}>`, `Call-ID: ${callId}`, `CSeq: ${cseq} INVITE`,
      `Contact: <sip:${user}@${c.sentBy}>`, ...headers, ...auth, 'Content-Type: application/sdp', `Content-Length: ${OFFER.length}`, '', OFFER].join('\r\n'));
    let res: SipMessage;
    for (;;) {
      res = parseMessage((await c.nextRaw(6000))!);
      if (res.isRequest) continue;
      if (res.status >= 200) break;
      if (res.status > 100) provisional?.(res);
    }
    const to = res.getHeader('to');
    if (res.status >= 300) c.send([`ACK ${uri} SIP/2.0`, ...common, `To: ${to}`, `Call-ID: ${callId}`, `CSeq: ${cseq} ACK`, 'Content-Length: 0', '', ''].join('\r\n'));
    if (res.status === 407 && authenticate && auth.length === 0) {
      auth = [`Proxy-Authorization: ${answerChallenge(res.getHeaders('proxy-authenticate'), { username: user, password: DEVICE_PASSWORD, method: 'INVITE', uri })}`];
      continue;
    }
    return res;
  }
}

describe('INVITE with Replaces', () => {
  let t: TestServer;
  let dir: string;

  before(async () => {
    t = await startCallServer(25800, { STROWGER_RING_TIMEOUT_SECONDS: '3' });
    for (const name of ['alice', 'bob', 'carol']) await device(t, name);
    dir = await mkdtemp(path.join(tmpdir(), 'replaces-'));
  });
  after(async () => {
    await t?.close();
    await rm(dir, { recursive: true, force: true });
  });
  afterEach(() => assertIdle(t));

  const aliceCallsBob = (logName: string) => callBob(t, path.join(dir, logName));

  test('a phone takes over the caller\'s dialog: BYE to the replaced caller, the callee talks to the new party (tone), CDRs', async () => {
    const bob = await registeredUas(t, 'bob', 'uas-answer.xml', { rtpEcho: true, calls: 1 });
    const dialog = await aliceCallsBob('a.log');
    const id = t.server.ctx.sip!.b2bua.listCalls()[0]!.id;
    const before = (await cdrList(t)).length;
    await carolReplacesAlice(t, id, dialog);
    assertSipp(await uasResult(bob), 'remaining party');
    const cdrs: Cdr[] = await eventually('two CDRs', async () => { const l = await cdrList(t); return l.length >= before + 2 ? l : undefined; });
    const mine = cdrs.slice(0, cdrs.length - before);
    assert.deepEqual(mine.map((c) => `${c.caller}>${c.callee}:${c.hangup_cause}`).sort(), ['alice>bob:replaced', 'bob>carol:caller_bye']);
    const continued = mine.find((c) => c.hangup_cause === 'caller_bye')!;
    assert.equal(continued.call_id.startsWith(`${id}-t`), true);
    assert.equal(continued.callee_device_id !== null, true, 'the new party\'s device');
  });

  test('refusals: no such dialog 481, early-only on a confirmed dialog 486, malformed 400, no digest 407; the call goes on', async () => {
    const bob = await registeredUas(t, 'bob', 'uas-answer.xml', { calls: 1 });
    const { alice, callId, pbxTag, aliceTag } = await aliceCallsBob('b.log');
    const nobody = await runSipp(deviceCall(t, 'carol', 'bob', {
      scenario: 'uac-invite-replaces.xml', pauseMs: 100,
      injection: { rows: [[...sippUserRow('carol', DEVICE_PASSWORD, DOMAIN), 'no-such-call@x', pbxTag, aliceTag]] },
    }));
    assert.deepEqual(finalStatuses(nobody.messages), [481]);
    const c = await SipTestClient.udp(t.sipPort);
    try {
      const early = await rawInvite(c, 'carol', [`Replaces: ${callId};to-tag=${pbxTag};from-tag=${aliceTag};early-only`]);
      assert.equal(early.status, 486);
      const bad = await rawInvite(c, 'carol', [`Replaces: ${callId};to-tag=${pbxTag}`]);
      assert.equal(bad.status, 400);
      assert.match(bad.getHeader('warning') ?? '', /from-tag/);
      const anonymous = await rawInvite(c, 'carol', [`Replaces: ${callId};to-tag=${pbxTag};from-tag=${aliceTag}`], false);
      assert.equal(anonymous.status, 407);
    } finally {
      await c.close();
    }
    const [call] = t.server.ctx.sip!.b2bua.listCalls();
    assert.deepEqual([call!.state, call!.caller, call!.callee], ['answered', 'alice', 'bob'], 'nothing replaced');
    await api(t, 'DELETE', `/api/calls/${call!.id}`);
    assertSipp(await alice, 'caller');
    assertSipp(await uasResult(bob), 'callee');
  });

  test('an early dialog of a caller still ringing here (100rel) is not replaced: 481', async () => {
    const bob = await registeredUas(t, 'bob', 'uas-no-answer.xml');
    const a = await SipTestClient.udp(t.sipPort);
    const c = await SipTestClient.udp(t.sipPort);
    try {
      // alice's INVITE requires 100rel, so her early dialog is indexed (PRACKs route by it).
      let seen!: (m: SipMessage) => void;
      const first = new Promise<SipMessage>((resolve) => { seen = resolve; });
      const ringing = rawInvite(a, 'alice', ['Require: 100rel'], true, (m) => seen(m));
      const provisional = await first;
      const r = await rawInvite(c, 'carol', [`Replaces: ${provisional.callId};to-tag=${provisional.toTag};from-tag=${provisional.fromTag}`]);
      assert.equal(r.status, 481);
      assert.equal(t.server.ctx.sip!.b2bua.listCalls()[0]?.state !== 'answered', true);
      assert.equal((await ringing).status, 480, 'alice\'s call still rang out');
    } finally {
      await a.close();
      await c.close();
    }
    await bob.stop();
  });
});
