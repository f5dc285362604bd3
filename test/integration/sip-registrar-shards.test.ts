/**
 * Issue 17: REGISTERs answered by worker threads (STROWGER_SIP_REGISTRAR_THREADS=2), each for
 * the AORs it owns, with what must stay consistent across threads checked from outside:
 * bindings reach the main thread (API, call routing) before the 200 does, retransmissions meet
 * their transaction, password changes and locks apply at once, streams answer through their
 * connection, and a REGISTER the router cannot read still reaches its owner.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES } from '../helpers/databases.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { getFreePort } from '../helpers/sipp.ts';
import { PASSWORD, SipTestClient } from './sip-client.ts';
import { answerChallenge } from '../../src/sip/digest-client.ts';
import { shardOfAor } from '../../src/pbx/registrar-shard-route.ts';
import type { RegistrarShards } from '../../src/pbx/registrar-shards.ts';

const SHARDS = 2;
/** Devices 3001…3024: both shards own some (checked). */
const USERS = Array.from({ length: 24 }, (_, i) => String(3001 + i));

for (const engine of ENGINES) {
  describe(`registrar shards (${engine})`, () => {
    let t: TestServer;
    let wsPort: number;
    const ids = new Map<string, number>();
    const clients: SipTestClient[] = [];
    const udp = async () => { const c = await SipTestClient.udp(t.sipPort); clients.push(c); return c; };
    const shards = () => t.server.ctx.sip!.registrarShards as RegistrarShards;
    const registered = async () => (await t.request('GET', '/api/devices/registrations?limit=200', { cookie: t.adminCookie })).body.data as Array<{ username: string; source_port: number; transport: string }>;

    before(async () => {
      wsPort = await getFreePort('tcp');
      t = await startTestServer(engine, { STROWGER_SIP_REGISTRAR_THREADS: String(SHARDS), STROWGER_SIP_WS_PORT: String(wsPort), STROWGER_SIP_BAN_FAILURES: '3' });
      for (const username of USERS) {
        const r = await t.request('POST', '/api/devices', { cookie: t.adminCookie, body: { name: `Phone ${username}`, username, password: PASSWORD } });
        assert.equal(r.status, 201);
        ids.set(username, r.body.id);
      }
    });
    after(async () => {
      for (const c of clients) await c.close();
      await t?.close();
    });

    test('REGISTERs of many AORs spread over the shards; every binding reaches the main thread before its 200 does', async () => {
      const owned = USERS.map((u) => shardOfAor(u, SHARDS));
      assert.ok(owned.includes(0) && owned.includes(1), 'both shards own some of the test AORs');
      const location = t.server.ctx.sip!.location;
      const sentByMain = t.server.ctx.sip!.transports.stats().messagesOut;
      await Promise.all(USERS.slice(0, 20).map(async (user) => {
        const c = await udp();
        const { final } = await c.register({ user, headers: ['Expires: 600'] });
        assert.equal(final.status, 200);
        // What the call router reads, right when the phone has its answer.
        assert.deepEqual(location.lookup(user).map((b) => [b.sourcePort, b.transport]), [[c.localPort, 'udp']]);
      }));
      assert.equal((await registered()).length, 20);
      const stats = await shards().refreshStats();
      assert.equal(stats.length, SHARDS);
      for (let i = 0; i < SHARDS; i++) {
        const mine = USERS.slice(0, 20).filter((u) => shardOfAor(u, SHARDS) === i).length;
        assert.equal(stats[i]!.bindings, mine, `shard ${i} holds the bindings of its AORs`);
        assert.equal(stats[i]!.requestsIn.find(([m]) => m === 'REGISTER')?.[1], mine * 2, `shard ${i} answered its AORs' REGISTERs (challenge + answer)`);
      }
      // None of them was parsed on the main thread, and the shards sent the answers on their
      // own duplicates of the socket (UdpTransport.adopt).
      assert.equal(t.server.ctx.sip!.endpoint.messages.requestsIn.get('REGISTER') ?? 0, 0);
      assert.equal(t.server.ctx.sip!.transports.stats().messagesOut, sentByMain);
      const metrics = (await t.request('GET', '/metrics', { cookie: t.adminCookie })).body as string;
      assert.match(metrics, /^strowger_sip_requests_total\{direction="in",method="REGISTER"\} 40$/m);
      assert.match(metrics, /^strowger_sip_registrations 20$/m);
    });

    test('a retransmitted REGISTER meets its transaction on the owning shard: the same response bytes again', async () => {
      const c = await udp();
      const user = USERS[20]!;
      const headers = [`Contact: <sip:${user}@${c.sentBy}>`, 'Expires: 600'];
      const challenge = await c.request({ method: 'REGISTER', user, headers });
      const auth = answerChallenge(challenge.getHeaders('www-authenticate'), { username: user, password: PASSWORD, method: 'REGISTER', uri: c.serverUri });
      const bytes = c.build({ method: 'REGISTER', user, headers: [...headers, `Authorization: ${auth}`] });
      c.send(bytes);
      const first = await c.reply();
      c.send(bytes);
      const second = await c.reply();
      assert.equal(first.msg.status, 200);
      assert.ok(second.raw.equals(first.raw), 'the retransmission gets the stored response');
      const owner = (await shards().refreshStats())[shardOfAor(user, SHARDS)]!;
      assert.ok(owner.absorbed >= 1, 'absorbed by the owner');
    });

    test('a password changed through the API applies on the shards at once', async () => {
      const c = await udp();
      const user = USERS[21]!;
      assert.equal((await c.register({ user })).final.status, 200);
      const patched = await t.request('PUT', `/api/devices/${ids.get(user)}`, { cookie: t.adminCookie, body: { password: 'a-new-sip-password-9' } });
      assert.equal(patched.status, 200);
      assert.equal((await c.register({ user })).final.status, 401);
      assert.equal((await c.register({ user, password: 'a-new-sip-password-9' })).final.status, 200);
    });

    test('digest failures on a shard lock the username in the main guard; the shard answers 403 until the API lifts it', async () => {
      const user = USERS[22]!;
      const c = await udp();
      for (let i = 0; i < 3; i++) assert.equal((await c.register({ user, password: 'wrong-password-1' })).final.status, 401);
      const bans = (await t.request('GET', '/api/security/bans', { cookie: t.adminCookie })).body.data as Array<{ id: number; username: string | null; address: string }>;
      const lock = bans.find((b) => b.username === user);
      assert.ok(lock, JSON.stringify(bans));
      assert.equal(lock.address, '127.0.0.1');
      // The lock reaches the owner shard one post later.
      let status = 0;
      for (let i = 0; i < 20 && status !== 403; i++) {
        status = (await c.request({ method: 'REGISTER', user, headers: [`Contact: <sip:${user}@${c.sentBy}>`] })).status;
        if (status !== 403) await new Promise((r) => setTimeout(r, 25));
      }
      assert.equal(status, 403);
      assert.equal((await t.request('DELETE', `/api/security/bans/${lock.id}`, { cookie: t.adminCookie })).status, 200);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal((await c.register({ user })).final.status, 200);
    });

    test('over WebSocket the shard answers through the connection, and the binding keeps its flow', async () => {
      const c = await SipTestClient.ws(wsPort);
      clients.push(c);
      const user = USERS[23]!;
      const { final } = await c.register({ user, contact: `<sip:${user}@abcdef.invalid;transport=ws>` });
      assert.equal(final.status, 200);
      const binding = t.server.ctx.sip!.location.lookup(user)[0];
      assert.equal(binding?.transport, 'ws');
      assert.ok(binding?.connectionId !== null && binding?.connectionId !== undefined, 'bound to its connection');
      await c.close();
      // The main thread closes the flow and tells the shards: the binding falls back to the source address.
      for (let i = 0; i < 40 && t.server.ctx.sip!.location.lookup(user)[0]?.connectionId != null; i++) await new Promise((r) => setTimeout(r, 25));
      assert.equal(t.server.ctx.sip!.location.lookup(user)[0]?.connectionId, null);
    });

    test('a REGISTER the router cannot read (a folded header) goes to shard 0, which hands it to its owner', async () => {
      const user = USERS.find((u) => shardOfAor(u, SHARDS) === 1 && !['3021', '3022', '3023', '3024'].includes(u))!;
      const c = await udp();
      const headers = [`Contact: <sip:${user}@${c.sentBy}>`, 'Subject: folded', ' onto two lines', 'Expires: 300'];
      const challenge = await c.request({ method: 'REGISTER', user, headers });
      assert.equal(challenge.status, 401);
      const auth = answerChallenge(challenge.getHeaders('www-authenticate'), { username: user, password: PASSWORD, method: 'REGISTER', uri: c.serverUri });
      const final = await c.request({ method: 'REGISTER', user, headers: [...headers, `Authorization: ${auth}`] });
      assert.equal(final.status, 200);
      assert.ok(final.getHeaders('contact').includes(`<sip:${user}@${c.sentBy}>;expires=300`), final.getHeaders('contact').join('\n'));
      // A second contact of an AOR the first test registered: the owner holds both.
      const stats = await shards().refreshStats();
      assert.equal(stats[0]!.rerouted, 2, 'challenge and answer went through shard 0');
      assert.ok(t.server.ctx.sip!.location.lookup(user).some((b) => b.sourcePort === c.localPort));
    });

    test('a shard that dies is started again with its bindings from the database, and answers in order', async () => {
      const user = USERS[2]!;
      const owner = shardOfAor(user, SHARDS);
      const c = await udp();
      const headers = [`Contact: <sip:${user}@${c.sentBy}>`, 'Expires: 600'];
      const register = async (cseq: number) => {
        const challenge = await c.request({ method: 'REGISTER', user, headers, cseq });
        const auth = answerChallenge(challenge.getHeaders('www-authenticate'), { username: user, password: PASSWORD, method: 'REGISTER', uri: c.serverUri });
        return c.request({ method: 'REGISTER', user, headers: [...headers, `Authorization: ${auth}`], cseq: cseq + 1 }, 4000);
      };
      assert.equal((await register(10)).status, 200);
      const dead = shards().worker(owner)!;
      const exited = new Promise((r) => dead.once('exit', r));
      await dead.terminate();
      await exited;
      // Started again after a second; meanwhile its REGISTERs go unanswered (phones retransmit).
      for (let i = 0; i < 80 && shards().worker(owner) === dead; i++) await new Promise((r) => setTimeout(r, 50));
      assert.notEqual(shards().worker(owner), dead, 'a new thread');
      let ok = 0;
      for (let i = 0; i < 20 && ok === 0; i++) {
        try { ok = (await register(20)).status; } catch { /* not started yet */ }
      }
      assert.equal(ok, 200);
      // The new shard loaded the binding: an older CSeq of the same Call-ID is out of order (§10.3 step 7).
      assert.equal((await register(2)).status, 500);
      assert.deepEqual(t.server.ctx.sip!.location.lookup(user).filter((b) => b.sourcePort === c.localPort).map((b) => b.cseq), [21]);
    });

    test('a deleted device loses its bindings on the main thread and on its shard', async () => {
      const user = USERS[0]!;
      const before = (await shards().refreshStats())[shardOfAor(user, SHARDS)]!.bindings;
      const own = t.server.ctx.sip!.location.lookup(user).length;
      assert.ok(own >= 1);
      assert.equal((await t.request('DELETE', `/api/devices/${ids.get(user)}`, { cookie: t.adminCookie })).status, 200);
      // Both drop them once the database delete is done (a moment later on PostgreSQL).
      for (let i = 0; i < 40 && t.server.ctx.sip!.location.lookup(user).length > 0; i++) await new Promise((r) => setTimeout(r, 25));
      assert.deepEqual(t.server.ctx.sip!.location.lookup(user), []);
      let after = before;
      for (let i = 0; i < 40 && after === before; i++) {
        await new Promise((r) => setTimeout(r, 25));
        after = (await shards().refreshStats())[shardOfAor(user, SHARDS)]!.bindings;
      }
      assert.equal(after, before - own);
    });
  });
}
