/**
 * Issue 10, "media worker death": two answered calls on different media workers
 * (STROWGER_MEDIA_WORKERS=2); one worker dies mid-call. The call with legs there ends at once
 * with cause media_failure: BYE to both of its parties and a complete CDR. The other call goes
 * on relaying RTP, and a new call still connects (the worker slot was replaced).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import type { TestServer } from '../helpers/server.ts';
import { spawnSipp, startSippServer, type SippResult, type SippServer } from '../helpers/sipp.ts';
import { api, assertIdle, cdrList, defaultTrunk, did, eventually, inboundTrunk, route, startCallServer, trunkCall } from './call-fixtures.ts';

const DID = '+15553340000';

function assertOne(r: SippResult, what: string): void {
  assert.equal(r.stats.successful, 1, `${what}: ${r.errors}\n${r.stdout.slice(-800)}`);
  assert.equal(r.stats.failed, 0, `${what}: ${r.errors}`);
}

describe('media worker death', () => {
  let t: TestServer;
  let uas: SippServer | undefined;

  before(async () => {
    t = await startCallServer(22200, { STROWGER_MEDIA_WORKERS: '2' });
    uas = await startSippServer({ scenario: 'uas-wait-bye.xml', rtpEcho: true });
    await inboundTrunk(t);
    await defaultTrunk(t, uas.port);
    await route(t, await did(t, DID), { action: 'forward', action_data: { number: '+15559990003' } });
  });
  after(async () => {
    await uas?.stop();
    await t.close();
  });

  test('the calls of a dead worker end with media_failure (BYE both ways, CDR); the other call keeps relaying', async () => {
    const sip = t.server.ctx.sip!;
    const answered = async (n: number) => eventually(`${n} answered calls`, async () => {
      const list = (await api(t, 'GET', '/api/calls')).data as Array<{ id: string; state: string; legs: { b: { sip_call_id: string } } }>;
      const up = list.filter((c) => c.state === 'answered');
      return up.length === n ? up : undefined;
    }, 10000);
    const first = await spawnSipp(trunkCall(t, DID, '+15550100801', { scenario: 'uac-wait-bye.xml', timeoutMs: 30000 }));
    await answered(1);
    const second = await spawnSipp(trunkCall(t, DID, '+15550100802', { scenario: 'uac-wait-bye.xml', timeoutMs: 30000 }));
    const up = await answered(2);
    // Where each call's media lives (legs of one call share a worker).
    const workerOf = async (id: string) => {
      const snap = sip.b2bua.listCalls().find((c) => c.id === id)!;
      return (await sip.media.stats(snap.legs.a.mediaLegId)).worker;
    };
    const workers = await Promise.all(up.map((c) => workerOf(c.id)));
    assert.notEqual(workers[0], workers[1], 'the two calls are on different workers');
    const [dead, alive] = up;
    const deadCaller = up[0] === dead ? first : second;
    const aliveCaller = deadCaller === first ? second : first;

    const before = await api(t, 'GET', `/api/cdrs?limit=1`);
    await sip.media.restartWorker(workers[0]);

    // The dead call's caller got its BYE (uac-wait-bye succeeds only on a BYE) and the CDR says why.
    assertOne(await deadCaller.done, 'caller of the dead call (must get a BYE)');
    const cdr = await eventually('the CDR of the dead call', async () => (await cdrList(t, 5)).find((c) => c.call_id === dead.id));
    assert.deepEqual([cdr.disposition, cdr.hangup_cause, cdr.hangup_by, cdr.sip_code], ['answered', 'media_failure', 'system', 200]);
    assert.ok(cdr.end_time >= cdr.answer_time!);
    assert.equal((await api(t, 'GET', '/api/cdrs?limit=1')).pagination.total, before.pagination.total + 1, 'only the dead call ended');

    // The other call still relays: RTP sent to its caller-side port leaves from its callee side.
    const live0 = await api(t, 'GET', `/api/calls/${alive.id}`);
    assert.equal(live0.state, 'answered');
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const packet = Buffer.alloc(172);
    packet[0] = 0x80; packet[1] = 8;
    for (let i = 0; i < 20; i++) {
      packet.writeUInt16BE(i, 2);
      packet.writeUInt32BE(i * 160, 4);
      packet.writeUInt32BE(0x1234, 8);
      sock.send(packet, live0.legs.a.media.local_port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 20));
    }
    const live1 = await eventually('packets relayed on the surviving call', async () => {
      const c = await api(t, 'GET', `/api/calls/${alive.id}`);
      return c.legs.b.media.packets_out >= live0.legs.b.media.packets_out + 20 ? c : undefined;
    });
    sock.close();
    assert.ok(live1.legs.a.media.packets_in >= live0.legs.a.media.packets_in + 20);

    // Hang up the survivor; the callee side saw a BYE for both calls.
    const del = await t.request('DELETE', `/api/calls/${alive.id}`, { cookie: t.adminCookie });
    assert.equal(del.status, 200);
    assertOne(await aliveCaller.done, 'caller of the surviving call');
    const callee = await uas!.stop();
    uas = undefined;
    assert.equal(callee.stats.successful, 2, `callee side: ${callee.errors}`);
    const byes = [...callee.messages.matchAll(/message received \[\d+\] bytes :\s+BYE [^]*?\nCall-ID: *([^\r\n]+)/gi)].map((m) => m[1]!.trim());
    assert.ok(byes.includes(dead.legs.b.sip_call_id), `BYE to the dead call's callee (${byes.join(', ')})`);
    await assertIdle(t);
  });
});
