/**
 * Issue 11, MWI (RFC 3842 on RFC 6665) with a raw UDP client, so every header is under the
 * test's control: SUBSCRIBE message-summary with digest, the immediate NOTIFY, NOTIFYs when
 * voicemail rows are added, read and deleted (store + `pbx.voicemail.changed`), refresh,
 * unsubscribe, 423 / 489 / 403 / 404 / 481, a NOTIFY answered 481 ending the subscription,
 * unsolicited NOTIFY to a device set for it, and the `/api/mwi` routes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startTestServer, createUserSession, type TestServer } from '../helpers/server.ts';
import { ENGINES } from '../helpers/databases.ts';
import { DOMAIN, PASSWORD, SipTestClient } from './sip-client.ts';
import { answerChallenge } from '../../src/sip/digest-client.ts';
import { parseMessage } from '../../src/sip/parse-message.ts';
import type { SipMessage } from '../../src/sip/message.ts';
import { parseMessageSummary } from '../../src/sip/message-summary.ts';
import { deleteVoicemail, insertVoicemail, markVoicemailRead } from '../../src/store/voicemails.ts';

/** One subscriber dialog driven by hand (our From tag, Call-ID and CSeq). */
class Subscriber {
  readonly callId = `${randomBytes(8).toString('hex')}@mwi`;
  readonly fromTag = randomBytes(4).toString('hex');
  toTag: string | null = null;
  cseq = 0;
  /** Requests (NOTIFYs) that arrived while waiting for something else. */
  readonly inbox: SipMessage[] = [];
  constructor(readonly c: SipTestClient, readonly user: string, readonly target = user) {}

  build(headers: string[], auth?: string): string {
    const uri = `sip:${this.target}@${DOMAIN}`;
    return [
      `SUBSCRIBE ${uri} SIP/2.0`,
      `Via: SIP/2.0/UDP ${this.c.sentBy};branch=z9hG4bK${randomBytes(6).toString('hex')};rport`,
      'Max-Forwards: 70',
      `From: <sip:${this.user}@${DOMAIN}>;tag=${this.fromTag}`,
      `To: <${uri}>${this.toTag ? `;tag=${this.toTag}` : ''}`,
      `Call-ID: ${this.callId}`,
      `CSeq: ${++this.cseq} SUBSCRIBE`,
      `Contact: <sip:${this.user}@${this.c.sentBy}>`,
      ...headers,
      ...(auth ? [`Authorization: ${auth}`] : []),
      'Content-Length: 0', '', '',
    ].join('\r\n');
  }

  /** The next response (requests that come first are kept in `inbox`). */
  async response(ms = 3000): Promise<SipMessage> {
    for (;;) {
      const raw = await this.c.nextRaw(ms);
      if (!raw) throw new Error(`no response within ${ms} ms`);
      const m = parseMessage(raw);
      if (m.isRequest) { this.inbox.push(m); continue; }
      if (m.status >= 200) return m;
    }
  }

  /** The next NOTIFY, answered with `status` (default 200). */
  async notify(status = 200, ms = 3000): Promise<SipMessage> {
    let m = this.inbox.shift();
    while (!m) {
      const raw = await this.c.nextRaw(ms);
      if (!raw) throw new Error(`no NOTIFY within ${ms} ms`);
      const p = parseMessage(raw);
      if (p.isRequest) m = p;
    }
    assert.equal(m.method, 'NOTIFY');
    const via = m.getHeaders('via').map((v) => `Via: ${v}`);
    this.c.send([`SIP/2.0 ${status} ${status === 200 ? 'OK' : 'Gone'}`, ...via, `From: ${m.getHeader('from')}`, `To: ${m.getHeader('to')}`,
      `Call-ID: ${m.callId}`, `CSeq: ${m.getHeader('cseq')}`, 'Content-Length: 0', '', ''].join('\r\n'));
    return m;
  }

  /** SUBSCRIBE with the digest exchange (the first try must be challenged). */
  async subscribe(headers: string[], password = PASSWORD): Promise<SipMessage> {
    this.c.send(this.build(headers));
    const challenge = await this.response();
    if (challenge.status !== 401) return challenge;
    const auth = answerChallenge(challenge.getHeaders('www-authenticate'), { username: this.user, password, method: 'SUBSCRIBE', uri: `sip:${this.target}@${DOMAIN}` });
    this.c.send(this.build(headers, auth));
    const res = await this.response();
    if (res.status === 200) this.toTag = res.toTag;
    return res;
  }

  /** An in-dialog SUBSCRIBE (refresh / unsubscribe). */
  async inDialog(headers: string[]): Promise<SipMessage> {
    this.c.send(this.build(headers));
    return this.response();
  }
}

const summary = (m: SipMessage) => parseMessageSummary(m.body.toString('utf8'));

for (const engine of ENGINES) {
  describe(`MWI: SUBSCRIBE message-summary and NOTIFY (raw UDP client, ${engine})`, () => {
    let t: TestServer;
    const ids: Record<string, number> = {};
    const clients: SipTestClient[] = [];
    const udp = async () => { const c = await SipTestClient.udp(t.sipPort); clients.push(c); return c; };
    /** What the voicemail code announces after its write (device mailboxes here). */
    const changed = (deviceId: number, voicemailId: number, reason: 'added' | 'read' | 'deleted') =>
      t.server.ctx.events.emit('pbx.voicemail.changed', { mailbox: `device:${deviceId}`, device_id: deviceId, did_id: null, voicemail_id: voicemailId, reason });
    const addMessage = async (deviceId: number) => {
      const row = await insertVoicemail(t.server.ctx.store.db, { mailbox: { kind: 'device', id: deviceId }, callerNumber: '+15550001111', called: '3001', durationSeconds: 4, filePath: `voicemail/x-${randomBytes(3).toString('hex')}.wav`, size: 100, format: 'wav' });
      changed(deviceId, row.id, 'added');
      return row.id;
    };

    before(async () => {
      t = await startTestServer(engine);
      for (const username of ['3001', '3002', '3003']) {
        const r = await t.request('POST', '/api/devices', { cookie: t.adminCookie, body: { name: `Phone ${username}`, username, password: PASSWORD, mwi_unsolicited: username === '3003' } });
        assert.equal(r.status, 201, JSON.stringify(r.body));
        ids[username] = r.body.id;
      }
      assert.equal((await t.request('GET', `/api/devices/${ids['3003']}`, { cookie: t.adminCookie })).body.mwi_unsolicited, true);
    });
    after(async () => {
      for (const c of clients) await c.close();
      await t?.close();
    });

    test('subscribe, immediate NOTIFY, counts follow adding, reading and deleting, refresh, status, unsubscribe', async () => {
      const s = new Subscriber(await udp(), '3001');
      const ok = await s.subscribe(['Event: message-summary', 'Expires: 600', 'Accept: application/simple-message-summary']);
      assert.equal(ok.status, 200);
      assert.equal(ok.getHeader('expires'), '600');
      assert.ok(ok.toTag);
      assert.match(ok.getHeader('contact') ?? '', /^<sip:strowger@127\.0\.0\.1:\d+;transport=udp>$/);

      const first = await s.notify();
      assert.equal(first.requestUriText, `sip:3001@${s.c.sentBy}`);
      assert.equal(first.callId, s.callId);
      assert.equal(first.fromTag, ok.toTag);
      assert.equal(first.toTag, s.fromTag);
      assert.equal(first.getHeader('event'), 'message-summary');
      assert.match(first.getHeader('subscription-state') ?? '', /^active;expires=(600|599)$/);
      assert.equal(first.getHeader('content-type'), 'application/simple-message-summary');
      assert.equal(first.body.toString(), `Messages-Waiting: no\r\nMessage-Account: sip:3001@${DOMAIN}\r\nVoice-Message: 0/0 (0/0)\r\n`);
      const firstCseq = first.cseq.seq;

      const a = await addMessage(ids['3001']!);
      const n1 = await s.notify();
      assert.deepEqual(summary(n1), { waiting: true, account: `sip:3001@${DOMAIN}`, voice: { new: 1, old: 0, urgentNew: 0, urgentOld: 0 } });
      assert.equal(n1.cseq.seq, firstCseq + 1);
      const b = await addMessage(ids['3001']!);
      assert.deepEqual(summary(await s.notify()).voice, { new: 2, old: 0, urgentNew: 0, urgentOld: 0 });

      await markVoicemailRead(t.server.ctx.store.db, a);
      changed(ids['3001']!, a, 'read');
      const n3 = await s.notify();
      assert.equal(n3.body.toString().split('\r\n')[2], 'Voice-Message: 1/1 (0/0)');

      await deleteVoicemail(t.server.ctx.store.db, b);
      changed(ids['3001']!, b, 'deleted');
      const n4 = await s.notify();
      assert.deepEqual(summary(n4), { waiting: false, account: `sip:3001@${DOMAIN}`, voice: { new: 0, old: 1, urgentNew: 0, urgentOld: 0 } });

      // A change to another mailbox does not reach this subscriber.
      await addMessage(ids['3002']!);
      assert.equal(await s.c.silence(300), null);

      const status = await t.request('GET', '/api/mwi/status', { cookie: t.adminCookie });
      assert.equal(status.status, 200);
      const sub = status.body.subscriptions.find((x: any) => x.username === '3001');
      assert.equal(sub.mailbox, `device:${ids['3001']}`);
      assert.equal(sub.account, `sip:3001@${DOMAIN}`);
      assert.equal(sub.source, s.c.sentBy);
      assert.equal(sub.notifies, 5);
      assert.ok(sub.expires_in > 590 && sub.expires_in <= 600);
      const box = status.body.mailboxes.find((x: any) => x.mailbox === `device:${ids['3001']}`);
      assert.deepEqual(box, { mailbox: `device:${ids['3001']}`, kind: 'device', id: ids['3001'], account: '3001', new: 0, old: 1, messages_waiting: false, subscriptions: 1 });
      assert.deepEqual(status.body.mailboxes.find((x: any) => x.mailbox === `device:${ids['3002']}`), { mailbox: `device:${ids['3002']}`, kind: 'device', id: ids['3002'], account: '3002', new: 1, old: 0, messages_waiting: true, subscriptions: 0 });

      // The admin push: one NOTIFY more, same counts.
      const push = await t.request('POST', '/api/mwi/notify', { cookie: t.adminCookie, body: { device_id: ids['3001'] } });
      assert.deepEqual(push.body, { mailbox: `device:${ids['3001']}`, new: 0, old: 1, subscriptions: 1, unsolicited: 0 });
      assert.equal((await s.notify()).body.toString().split('\r\n')[2], 'Voice-Message: 0/1 (0/0)');

      // Refresh (§4.1.2.2): new expiry, and a NOTIFY with it.
      const refreshed = await s.inDialog(['Event: message-summary', 'Expires: 300']);
      assert.equal(refreshed.status, 200);
      assert.equal(refreshed.getHeader('expires'), '300');
      assert.match((await s.notify()).getHeader('subscription-state') ?? '', /^active;expires=(300|299)$/);

      // Unsubscribe: 200, then the final NOTIFY.
      const bye = await s.inDialog(['Event: message-summary', 'Expires: 0']);
      assert.equal(bye.status, 200);
      const last = await s.notify();
      assert.equal(last.getHeader('subscription-state'), 'terminated;reason=timeout');
      assert.equal(summary(last).voice?.old, 1);
      assert.equal((await t.request('GET', '/api/mwi/status', { cookie: t.adminCookie })).body.subscriptions.length, 0);
      // The dialog is gone: a refresh now gets 481.
      assert.equal((await s.inDialog(['Event: message-summary', 'Expires: 600'])).status, 481);
    });

    test('absent Expires gets the maximum; too short → 423 Min-Expires; too long is cut', async () => {
      const s = new Subscriber(await udp(), '3001');
      const brief = await s.subscribe(['Event: message-summary', 'Expires: 10']);
      assert.equal(brief.status, 423);
      assert.equal(brief.getHeader('min-expires'), '60');
      const s2 = new Subscriber(await udp(), '3001');
      const long = await s2.subscribe(['Event: message-summary', 'Expires: 999999']);
      assert.equal(long.getHeader('expires'), '3600');
      await s2.notify();
      const s3 = new Subscriber(await udp(), '3001');
      assert.equal((await s3.subscribe(['Event: message-summary'])).getHeader('expires'), '3600');
      await s3.notify();
      for (const x of [s2, s3]) { await x.inDialog(['Event: message-summary', 'Expires: 0']); await x.notify(); }
    });

    test('an unknown package → 489 with Allow-Events; another device\'s mailbox → 403; unknown → 404; wrong password → 401', async () => {
      const c = await udp();
      const presence = await new Subscriber(c, '3001').subscribe(['Event: presence', 'Expires: 600']);
      assert.equal(presence.status, 489);
      assert.equal(presence.getHeader('allow-events'), 'message-summary');
      assert.equal((await new Subscriber(c, '3001', '3002').subscribe(['Event: message-summary'])).status, 403);
      assert.equal((await new Subscriber(c, '3001', '9999').subscribe(['Event: message-summary'])).status, 404);
      assert.equal((await new Subscriber(c, '3001').subscribe(['Event: message-summary'], 'wrong-password')).status, 401);
      const noEvent = await new Subscriber(c, '3001').inDialog([]);
      assert.equal(noEvent.status, 400);
    });

    test('a fetch (Expires: 0) gets one NOTIFY, terminated, and leaves no subscription', async () => {
      const s = new Subscriber(await udp(), '3002');
      const ok = await s.subscribe(['Event: message-summary', 'Expires: 0']);
      assert.equal(ok.status, 200);
      const n = await s.notify();
      assert.equal(n.getHeader('subscription-state'), 'terminated;reason=timeout');
      assert.equal(summary(n).voice?.new, 1);
      assert.equal(await s.c.silence(300), null);
      assert.equal(t.server.ctx.sip!.mwi.subscriptions.size, 0);
    });

    test('a NOTIFY answered 481 ends the subscription', async () => {
      const s = new Subscriber(await udp(), '3002');
      assert.equal((await s.subscribe(['Event: message-summary', 'Expires: 600'])).status, 200);
      await s.notify(481);
      // No retry, no further NOTIFY for a change, nothing in the status.
      await addMessage(ids['3002']!);
      assert.equal(await s.c.silence(400), null);
      assert.equal((await t.request('GET', '/api/mwi/status', { cookie: t.adminCookie })).body.subscriptions.length, 0);
    });

    test('unsolicited NOTIFY reaches the registered contact of a device set for it, and only that one', async () => {
      const c = await udp();
      const { final } = await c.register({ user: '3003', headers: ['Expires: 600'] });
      assert.equal(final.status, 200);
      const other = await udp();
      assert.equal((await other.register({ user: '3001', headers: ['Expires: 600'] })).final.status, 200);
      await addMessage(ids['3003']!);
      let raw = await c.nextRaw(3000);
      assert.ok(raw, 'no unsolicited NOTIFY');
      const n = parseMessage(raw);
      assert.equal(n.method, 'NOTIFY');
      assert.equal(n.requestUriText, `sip:3003@${c.sentBy};transport=udp`);
      assert.equal(n.toTag, null);
      assert.equal(n.getHeader('event'), 'message-summary');
      assert.equal(n.getHeader('subscription-state'), 'terminated');
      assert.equal(n.body.toString(), `Messages-Waiting: yes\r\nMessage-Account: sip:3003@${DOMAIN}\r\nVoice-Message: 1/0 (0/0)\r\n`);
      // 3001 has mwi_unsolicited off: nothing for its registration.
      await addMessage(ids['3001']!);
      assert.equal(await other.silence(300), null);
      const push = await t.request('POST', '/api/mwi/notify', { cookie: t.adminCookie, body: { device_id: ids['3003'] } });
      assert.equal(push.body.unsolicited, 1);
      raw = await c.nextRaw(3000);
      assert.ok(raw);
      assert.equal(parseMessage(raw).method, 'NOTIFY');
    });

    test('a DID\'s mailbox: watched by the devices its routes ring, named by its number; did_id push reaches them', async () => {
      const did = await t.request('POST', '/api/dids', { cookie: t.adminCookie, body: { phone_number: '+15557770009' } });
      assert.equal(did.status, 201, JSON.stringify(did.body));
      const route = await t.request('POST', '/api/routes', { cookie: t.adminCookie, body: { name: 'main', did_id: did.body.id, action: 'ring', action_data: { device_ids: [ids['3001']] } } });
      assert.equal(route.status, 201, JSON.stringify(route.body));
      const s = new Subscriber(await udp(), '3001', '+15557770009');
      assert.equal((await s.subscribe(['Event: message-summary', 'Expires: 600'])).status, 200);
      const n = await s.notify();
      assert.equal(summary(n).account, `sip:+15557770009@${DOMAIN}`);
      // 3002 is not rung by the number: its box is not 3002's to watch.
      assert.equal((await new Subscriber(await udp(), '3002', '+15557770009').subscribe(['Event: message-summary'])).status, 403);
      await insertVoicemail(t.server.ctx.store.db, { mailbox: { kind: 'did', id: did.body.id }, callerNumber: '+15550003333', called: '+15557770009', durationSeconds: 3, filePath: 'voicemail/d.wav', size: 1, format: 'wav' });
      const push = await t.request('POST', '/api/mwi/notify', { cookie: t.adminCookie, body: { did_id: did.body.id } });
      assert.deepEqual(push.body, { mailbox: `did:${did.body.id}`, new: 1, old: 0, subscriptions: 1, unsolicited: 0 });
      assert.equal((await s.notify()).body.toString(), `Messages-Waiting: yes\r\nMessage-Account: sip:+15557770009@${DOMAIN}\r\nVoice-Message: 1/0 (0/0)\r\n`);
      await s.inDialog(['Event: message-summary', 'Expires: 0']);
      await s.notify();
    });

    test('/api/mwi routes: validation, auth, 404, a user sees only their own mailboxes', async () => {
      const none = await t.request('POST', '/api/mwi/notify', { cookie: t.adminCookie, body: {} });
      assert.equal(none.status, 400);
      assert.equal(none.body.error.code, 'validation_error');
      const both = await t.request('POST', '/api/mwi/notify', { cookie: t.adminCookie, body: { did_id: 1, device_id: 1 } });
      assert.equal(both.status, 400);
      const bad = await t.request('POST', '/api/mwi/notify', { cookie: t.adminCookie, body: { did_id: 'x' } });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.code, 'validation_error');
      const missing = await t.request('POST', '/api/mwi/notify', { cookie: t.adminCookie, body: { did_id: 9999 } });
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.code, 'not_found');
      assert.equal((await t.request('POST', '/api/mwi/notify', { cookie: t.adminCookie, body: { device_id: 9999 } })).status, 404);
      const did = await t.request('POST', '/api/dids', { cookie: t.adminCookie, body: { phone_number: '+15557770001' } });
      assert.equal(did.status, 201, JSON.stringify(did.body));
      const pushed = await t.request('POST', '/api/mwi/notify', { cookie: t.adminCookie, body: { did_id: did.body.id } });
      assert.deepEqual(pushed.body, { mailbox: `did:${did.body.id}`, new: 0, old: 0, subscriptions: 0, unsolicited: 0 });

      assert.equal((await t.request('GET', '/api/mwi/status')).status, 401);
      assert.equal((await t.request('GET', '/api/mwi/status')).body.error.code, 'authentication_error');
      assert.equal((await t.request('POST', '/api/mwi/notify', { body: { did_id: did.body.id } })).status, 401);
      const user = await createUserSession(t, 'mwi-user@example.com');
      const forbidden = await t.request('POST', '/api/mwi/notify', { cookie: user, body: { did_id: did.body.id } });
      assert.equal(forbidden.status, 403);
      assert.equal(forbidden.body.error.code, 'authorization_error');
      const own = await t.request('POST', '/api/devices', { cookie: user, body: { name: 'Mine', username: '3009', password: PASSWORD } });
      assert.equal(own.status, 201);
      const mine = await insertVoicemail(t.server.ctx.store.db, { mailbox: { kind: 'device', id: own.body.id }, callerNumber: '1', called: '3009', durationSeconds: 2, filePath: 'voicemail/m.wav', size: 1, format: 'wav' });
      assert.ok(mine.id);
      const seen = await t.request('GET', '/api/mwi/status', { cookie: user });
      assert.equal(seen.status, 200);
      assert.deepEqual(seen.body.mailboxes.map((m: any) => m.mailbox), [`device:${own.body.id}`]);
      assert.deepEqual(seen.body.subscriptions, []);
    });

    test('deleting the device ends its subscriptions with a final NOTIFY (noresource)', async () => {
      const dev = await t.request('POST', '/api/devices', { cookie: t.adminCookie, body: { name: 'Temp', username: '3010', password: PASSWORD } });
      assert.equal(dev.status, 201);
      const s = new Subscriber(await udp(), '3010');
      assert.equal((await s.subscribe(['Event: message-summary', 'Expires: 600'])).status, 200);
      await s.notify();
      assert.equal((await t.request('DELETE', `/api/devices/${dev.body.id}`, { cookie: t.adminCookie })).status, 200);
      assert.equal((await s.notify()).getHeader('subscription-state'), 'terminated;reason=noresource');
      assert.equal(t.server.ctx.sip!.mwi.status().filter((x) => x.username === '3010').length, 0);
    });
  });
}
