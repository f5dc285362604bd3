/**
 * Issue 12: the Origin check of SIP over WebSocket. A browser page from another site gets
 * HTTP 403 before the upgrade; clients that send no Origin (softphones, sipp, our tests) are
 * not browsers and pass. Default: the page must come from the WebSocket URL's host name.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import { originAllowed } from '../../../src/sip/transport-ws.ts';
import { startLayer, type Harness } from './transport-test-helpers.ts';

/** Opens a SIP WebSocket with `origin`; resolves with 101 or the refusal's HTTP status. */
async function handshake(url: string, origin: string | undefined): Promise<{ status: number; body: string }> {
  const ws = new WebSocket(url, ['sip'], origin === undefined ? {} : { origin });
  const outcome = await Promise.race([
    once(ws, 'open').then(() => ({ status: 101, body: '' })),
    once(ws, 'unexpected-response').then(async (args) => {
      const res = args[1] as IncomingMessage;
      let body = '';
      for await (const chunk of res) body += String(chunk);
      return { status: res.statusCode ?? 0, body };
    }),
  ]);
  ws.terminate();
  return outcome;
}

describe('SIP WebSocket Origin check', () => {
  let byDefault: Harness;
  let listed: Harness;
  const url = (h: Harness, host = '127.0.0.1') => `ws://${host}:${h.transport('ws', 'IPv4').local.port}/`;

  before(async () => {
    byDefault = await startLayer({ listen: [{ protocol: 'ws', address: '127.0.0.1', port: 0 }] });
    listed = await startLayer({ listen: [{ protocol: 'ws', address: '127.0.0.1', port: 0 }], wsAllowedOrigins: ['https://phone.example.com'] });
  });
  after(async () => {
    await byDefault.layer.close();
    await listed.layer.close();
  });

  test('default: same host name (any scheme and port) and no Origin pass; other sites get 403 before the upgrade', async () => {
    assert.equal((await handshake(url(byDefault), undefined)).status, 101);
    assert.equal((await handshake(url(byDefault), 'http://127.0.0.1:8080')).status, 101);
    assert.equal((await handshake(url(byDefault, 'localhost'), 'https://LOCALHOST')).status, 101);
    const evil = await handshake(url(byDefault), 'https://evil.example');
    assert.equal(evil.status, 403);
    assert.match(evil.body, /Origin https:\/\/evil\.example may not open SIP WebSockets/);
    assert.equal((await handshake(url(byDefault), 'null')).status, 403, 'opaque origin (sandboxed page, file:)');
  });

  test('STROWGER_SIP_WS_ORIGINS list: exactly those origins (and no Origin) pass', async () => {
    assert.equal((await handshake(url(listed), 'https://phone.example.com')).status, 101);
    assert.equal((await handshake(url(listed), undefined)).status, 101);
    assert.equal((await handshake(url(listed), 'http://127.0.0.1:8080')).status, 403, 'same host is not enough once a list is set');
    assert.equal((await handshake(url(listed), 'https://phone.example.com:8443')).status, 403);
  });

  test('originAllowed: * allows any', () => {
    assert.equal(originAllowed('https://anything.example', 'pbx:8443', ['*']), true);
    assert.equal(originAllowed('https://pbx.example.com', 'pbx.example.com:8443', undefined), true);
    assert.equal(originAllowed('https://pbx.example.com', undefined, undefined), false);
  });
});
