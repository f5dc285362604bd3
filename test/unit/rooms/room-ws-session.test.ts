/**
 * Room page sessions without media: who may join (STROWGER_ROOMS_REQUIRE_TOKEN, room tokens for
 * one room only, expiry), and messages that are refused with a clear error and change nothing.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RoomTokens } from '../../../src/rooms/room-tokens.ts';
import { RoomError } from '../../../src/rooms/room-errors.ts';
import { RoomWsSession } from '../../../src/rooms/web/room-ws-session.ts';
import { parseClientMessage, type ServerMessage } from '../../../src/rooms/web/room-protocol.ts';
import type { RoomRegistry } from '../../../src/rooms/room-registry.ts';
import type { WebRtcFactory } from '../../../src/media/webrtc/index.ts';

const tokens = new RoomTokens(Buffer.alloc(32, 7));
/** A registry whose `open` records that the token check was passed, then refuses (no media here). */
function session(requireToken: boolean) {
  const sent: ServerMessage[] = [];
  const opened: string[] = [];
  const rooms = { open: (name: string) => { opened.push(name); throw new RoomError('ROOM_LIMIT', '0'); } } as unknown as RoomRegistry;
  const s = new RoomWsSession('standup', { rooms, webrtc: (async () => assert.fail('no endpoint')) as unknown as WebRtcFactory, tokens, requireToken, log: { warn() {} } }, { send: (m) => sent.push(m), close() {} });
  return { s, sent, opened };
}
const join = (extra: object = {}) => JSON.stringify({ type: 'join', display_name: 'Alice', sdp: 'v=0', ...extra });

describe('room page sessions', () => {
  test('open rooms: anyone may try to join', async () => {
    const { s, sent, opened } = session(false);
    await s.receive(join());
    assert.deepEqual(opened, ['standup']);
    assert.deepEqual(sent.map((m) => m.type === 'error' && m.code), ['room_limit']);
  });

  test('STROWGER_ROOMS_REQUIRE_TOKEN: no token, a bad one, another room\'s or an expired one are refused', async () => {
    const { s, sent, opened } = session(true);
    await s.receive(join());
    await s.receive(join({ token: 'garbage' }));
    await s.receive(join({ token: (await tokens.mint('other', { ttlSeconds: 60 })).token }));
    await s.receive(join({ token: (await new RoomTokens(Buffer.alloc(32, 8)).mint('standup', { ttlSeconds: 60 })).token }));
    const expired = await tokens.mint('standup', { ttlSeconds: -10 });
    await s.receive(join({ token: expired.token }));
    assert.deepEqual(sent.map((m) => m.type === 'error' && m.code), Array(5).fill('token_required'));
    assert.deepEqual(opened, [], 'no room was opened');
    await s.receive(join({ token: (await tokens.mint('standup', { displayName: 'Boss', ttlSeconds: 60 })).token }));
    assert.deepEqual(opened, ['standup'], 'a valid token gets through');
  });

  test('tokens carry the display name they were minted with', async () => {
    const { token } = await tokens.mint('standup', { displayName: 'Boss', ttlSeconds: 60 });
    assert.deepEqual(await tokens.verify(token, 'standup'), { displayName: 'Boss' });
    assert.equal(await tokens.verify(token, 'Standup'), null);
  });

  test('messages: not JSON, unknown types, bad fields and actions before joining are refused', async () => {
    assert.deepEqual(parseClientMessage('{'), { ok: false, error: 'not JSON' });
    assert.deepEqual(parseClientMessage('{"type":"dance"}'), { ok: false, error: 'unknown message type' });
    const bad = parseClientMessage('{"type":"chat","text":""}');
    assert.equal(bad.ok, false);
    assert.match((bad as { error: string }).error, /^\/text: /);
    assert.equal(parseClientMessage('{"type":"mute","muted":true,"extra":1}').ok, false);
    assert.equal(parseClientMessage('{"type":"leave"}').ok, true);
    const { s, sent } = session(false);
    await s.receive('{"type":"chat","text":"hi"}');
    await s.receive('[]');
    assert.deepEqual(sent.map((m) => m.type === 'error' && m.code), ['not_joined', 'bad_message']);
    await s.end('socket closed');
    await s.receive(join());
    assert.deepEqual(sent.slice(2), [{ type: 'left', reason: 'socket closed' }], 'nothing after the end');
  });
});
