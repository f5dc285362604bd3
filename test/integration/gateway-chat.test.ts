/**
 * Chat through the gateway APIs: a seed 000 SIP gateway for room `chatroom`; what the room's
 * members post reaches the gateway's consumers in `/gateway/status` `chat_messages` while the
 * relay is on (`GET /chat?toggle=`), not while it is off; `POST /chat` and the `sendChat`
 * command post into the room (its members get them: the room's `chat` event, its history).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestServer } from '../helpers/server.ts';
import { startCallServer } from './call-fixtures.ts';
import type { ChatMessage } from '../../src/rooms/index.ts';

describe('gateway chat relay (seed 000 /chat, seed 001 sendChat and status)', () => {
  let t: TestServer;
  let key: string;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(t.baseUrl + path, { method, headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: await res.json() as any };
  };
  const relayed = async (): Promise<Array<[string, string]>> =>
    ((await call('GET', '/gateway/status?gw_id=mediagw-chatroom-1')).body.chat_messages as ChatMessage[]).map((m) => [m.from, m.text]);

  before(async () => {
    t = await startCallServer(34000);
    key = (await t.request('POST', '/api/keys', { cookie: t.adminCookie, body: { name: 'gw', scopes: ['gateway'] } })).body.key;
  });
  after(async () => { await t.close(); });

  test('room chat reaches /gateway/status while the relay is on; POST /chat and sendChat post into the room', async () => {
    assert.equal((await call('GET', '/start?room=chatroom&from=Desk')).status, 200);
    const room = t.server.ctx.rooms!.get('chatroom')!;
    const seen: Array<[string, string]> = [];
    room.on('chat', (m: ChatMessage) => seen.push([m.from, m.text]));

    room.chat('Alice', 'hello gateway');
    assert.deepEqual(await relayed(), [['Alice', 'hello gateway']]);

    assert.deepEqual(await call('POST', '/chat', { room: 'chatroom', msg: 'hello room' }), { status: 200, body: { status: 'success', details: { res: 'ok' } } });
    const cmd = await call('POST', '/gateway/command?gw_id=mediagw-chatroom-1', { sendChat: 'from the command' });
    assert.deepEqual(cmd.body.executed, ['sendChat']);
    assert.deepEqual(seen, [['Alice', 'hello gateway'], ['gateway', 'hello room'], ['Desk', 'from the command']], 'the room got both');
    assert.deepEqual(room.history().map((m) => m.text), ['hello gateway', 'hello room', 'from the command']);

    assert.deepEqual(await call('GET', '/chat?room=chatroom&toggle=off'), { status: 200, body: { status: 'success', details: { res: 'ok' } } });
    room.chat('Alice', 'not relayed');
    assert.equal((await call('GET', '/gateway/status?gw_id=mediagw-chatroom-1')).body.chat, false);
    await call('GET', '/chat?room=chatroom&toggle=on');
    room.chat('Alice', 'relayed again');
    assert.deepEqual(await relayed(), [['Alice', 'hello gateway'], ['gateway', 'hello room'], ['Desk', 'from the command'], ['Alice', 'relayed again']]);

    await call('GET', '/stop?room=chatroom');
    room.chat('Alice', 'after stop');
    assert.equal((await relayed()).length, 4, 'a stopped gateway relays nothing more');
  });
});
