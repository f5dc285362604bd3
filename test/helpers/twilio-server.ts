/**
 * A test server wired to the local fake Twilio: credentials set through the API, REST calls
 * rebased on the fake, fast SMS retries, and helpers to post signed webhooks and wait for a
 * message to reach a status.
 */
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './server.ts';
import { FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN, postWebhook, startFakeTwilio, type FakeTwilio } from './fake-twilio.ts';

/** What Twilio believes our address is (the webhooks are signed for it). */
export const PUBLIC_URL = 'https://pbx.example.com';

export interface TwilioTestServer {
  t: TestServer;
  fake: FakeTwilio;
  /** POSTs a webhook to `/api/webhooks/<path>`, signed for PUBLIC_URL unless `signedUrl` says otherwise. */
  webhook(path: string, params: Record<string, string>, opts?: { signedUrl?: string; signature?: string | null }): ReturnType<typeof postWebhook>;
  /** Polls a message until `status` (the sender runs in the background). */
  waitForStatus(id: number, status: string, timeoutMs?: number): Promise<any>;
  close(): Promise<void>;
}

export async function startTwilioTestServer(engine: 'sqlite' | 'postgres', env: Record<string, string> = {}, configure = true): Promise<TwilioTestServer> {
  const fake = await startFakeTwilio();
  const t = await startTestServer(engine, {
    STROWGER_TWILIO_API_BASE: fake.url, STROWGER_PUBLIC_URL: PUBLIC_URL, STROWGER_SMS_RETRY_BASE_MS: '30', ...env,
  });
  if (configure) {
    const r = await t.request('PUT', '/api/system/config', { cookie: t.adminCookie, body: { twilio_account_sid: FAKE_ACCOUNT_SID, twilio_auth_token: FAKE_AUTH_TOKEN } });
    assert.equal(r.status, 200);
  }
  return {
    t, fake,
    webhook: (path, params, opts = {}) => postWebhook(`${t.baseUrl}/api/webhooks/${path}`, params, {
      signedUrl: opts.signedUrl ?? `${PUBLIC_URL}/api/webhooks/${path}`, signature: opts.signature,
    }),
    async waitForStatus(id, status, timeoutMs = 5000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const r = await t.request('GET', `/api/messages/${id}`, { cookie: t.adminCookie });
        if (r.body?.status === status) return r.body;
        if (Date.now() > until) assert.fail(`message ${id} is ${JSON.stringify(r.body?.status)}, waited for ${status}: ${JSON.stringify(r.body)}`);
        await new Promise((res) => setTimeout(res, 20));
      }
    },
    close: async () => { await t.close(); await fake.close(); },
  };
}
