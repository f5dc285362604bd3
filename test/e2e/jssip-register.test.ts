/**
 * Issue 12, "found with real clients": JsSIP (npm `jssip`, bundled here with esbuild) in
 * Debian's Chromium (driven by `playwright-core`) registers with the server's defaults over
 * WS and over WSS (self-signed certificate: `--ignore-certificate-errors`). Before the one-
 * challenge fix it never did: JsSIP keeps only the *last* WWW-Authenticate, which was SHA-256
 * with `MD5,SHA-256`, and JsSIP 3.13 answers MD5 only. The registration must show in
 * `GET /api/devices/registrations` with transport ws/wss.
 *
 * A device set to `digest_algorithm: SHA-256` gets only a SHA-256 challenge, which JsSIP
 * refuses by design ("authentication aborted": it implements MD5 only), so that case asserts a
 * clean `registrationFailed`, not a hang; SHA-256 registration itself is covered with sipp/our
 * digest client elsewhere.
 *
 * No WebRTC is involved (REGISTER only), so the browser needs no network namespace: it talks
 * to 127.0.0.1. The page is served over HTTP from 127.0.0.1 so its Origin passes the default
 * WebSocket Origin check (same host name) like a softphone page of the PBX would.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { getFreePort } from '../helpers/sipp.ts';
import { bundleJssip } from '../helpers/jssip-bundle.ts';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const DOMAIN = 'strowger.test';
const PASSWORD = 'webphone-pass-123';


/**
 * The page's own script (plain JavaScript: functions passed to `page.evaluate` from this file
 * would carry tsx's `__name` helper, which the page does not have). `register` resolves with
 * 'registered' or the failure cause.
 */
const PAGE_SCRIPT = `
window.register = (url, username, password, domain) => new Promise((resolve) => {
  const ua = new JsSIP.UA({ sockets: [new JsSIP.WebSocketInterface(url)], uri: 'sip:' + username + '@' + domain, password, register: true });
  // Stopping a registered UA un-REGISTERs it: only failed ones are stopped (the browser closes the rest).
  const done = (result) => { if (result !== 'registered') ua.stop(); resolve(result); };
  ua.on('registered', () => done('registered'));
  ua.on('registrationFailed', (e) => done('failed: ' + e.cause));
  setTimeout(() => done('timeout'), 8000);
  ua.start();
});`;

function register(page: Page, url: string, username: string): Promise<string> {
  return page.evaluate(`window.register(${JSON.stringify(url)}, ${JSON.stringify(username)}, ${JSON.stringify(PASSWORD)}, ${JSON.stringify(DOMAIN)})`) as Promise<string>;
}

describe('JsSIP in Chromium registers with the defaults', { skip: existsSync(CHROMIUM) ? false : `no ${CHROMIUM}` }, () => {
  let t: TestServer;
  let browser: Browser;
  let page: Page;
  let pageServer: Server;
  let wsPort: number;
  let wssPort: number;

  before(async () => {
    wsPort = await getFreePort('tcp');
    wssPort = await getFreePort('tcp');
    t = await startTestServer('sqlite', {
      STROWGER_DOMAIN: DOMAIN,
      STROWGER_SIP_TLS_PORT: String(await getFreePort('tcp')),
      STROWGER_SIP_WS_PORT: String(wsPort),
      STROWGER_SIP_WSS_PORT: String(wssPort),
    });
    for (const [username, digest] of [['webphone', undefined], ['webphone-ws2', undefined], ['webphone256', 'SHA-256']] as const) {
      const r = await t.request('POST', '/api/devices', { cookie: t.adminCookie, body: { name: username, username, password: PASSWORD, ...(digest ? { digest_algorithm: digest } : {}) } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
    const script = await bundleJssip();
    pageServer = createServer((req, res) => {
      if (req.url === '/jssip.js') { res.writeHead(200, { 'content-type': 'text/javascript' }); res.end(script); return; }
      if (req.url === '/register.js') { res.writeHead(200, { 'content-type': 'text/javascript' }); res.end(PAGE_SCRIPT); return; }
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>webphone</title><script src="/jssip.js"></script><script src="/register.js"></script>');
    });
    await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--ignore-certificate-errors'] });
    page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${(pageServer.address() as { port: number }).port}/`);
    assert.equal(await page.evaluate('typeof JsSIP.UA + typeof window.register'), 'functionfunction');
  });
  after(async () => {
    await browser?.close();
    await new Promise((resolve) => pageServer?.close(resolve));
    await t?.close();
  });

  const registrations = async () => (await t.request('GET', '/api/devices/registrations', { cookie: t.adminCookie })).body.data as Array<{ username: string; transport: string; user_agent: string | null }>;

  test('over WS: 200 OK, the binding is listed with transport ws', async () => {
    assert.equal(await register(page, `ws://127.0.0.1:${wsPort}`, 'webphone'), 'registered');
    const mine = (await registrations()).filter((r) => r.username === 'webphone');
    assert.equal(mine.length, 1);
    assert.equal(mine[0]!.transport, 'ws');
    assert.match(mine[0]!.user_agent ?? '', /JsSIP/);
  });

  test('over WSS (self-signed certificate)', async () => {
    assert.equal(await register(page, `wss://127.0.0.1:${wssPort}`, 'webphone-ws2'), 'registered');
    const mine = (await registrations()).filter((r) => r.username === 'webphone-ws2');
    assert.deepEqual(mine.map((r) => r.transport), ['wss']);
  });

  test('a SHA-256 device: JsSIP (MD5 only) fails cleanly with a 401 cause, nothing registered', async () => {
    assert.match(await register(page, `ws://127.0.0.1:${wsPort}`, 'webphone256'), /^failed: /);
    assert.equal((await registrations()).filter((r) => r.username === 'webphone256').length, 0);
  });
});
