/**
 * A room-page WebSocket client for tests (`/rooms/{name}/ws`): sends JSON, queues what the
 * server says, and waits for the next message matching a predicate.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';

/** A JSON WebSocket client that queues what the server says. */
export async function roomSocket(baseUrl: string, room: string) {
  const ws = new WebSocket(`${baseUrl.replace('http', 'ws')}/rooms/${room}/ws`);
  const inbox: any[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (d) => { inbox.push(JSON.parse(d.toString())); waiters.splice(0).forEach((w) => w()); });
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  return {
    ws, inbox, closed,
    send: (m: unknown) => ws.send(typeof m === 'string' ? m : JSON.stringify(m)),
    /** The next message matching `pred` (consumed), within `ms`. */
    async next(pred: (m: any) => boolean, ms = 10_000): Promise<any> {
      const until = Date.now() + ms;
      for (;;) {
        const i = inbox.findIndex(pred);
        if (i >= 0) return inbox.splice(i, 1)[0];
        const left = until - Date.now();
        if (left <= 0) assert.fail(`no matching message; got ${JSON.stringify(inbox)}`);
        await Promise.race([new Promise<void>((r) => waiters.push(r)), sleep(left)]);
      }
    },
  };
}
