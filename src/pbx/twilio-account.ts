/**
 * The Twilio account Strowger works for: credentials from the system config
 * (`twilio_account_sid`, and `twilio_auth_token` sealed at rest), read per use so a change in
 * `PUT /api/system/config` applies at once, and a REST client built once per credential pair.
 */
import { createTwilioRest, type TwilioCredentials, type TwilioRest } from '../integrations/twilio/rest-client.ts';
import { getConfigValue } from '../store/system-config.ts';
import { countQueued } from '../store/message-outbox.ts';
import type { SecretBox } from '../store/secret-box.ts';
import type { Db } from '../store/db.ts';

export interface TwilioAccountOptions {
  db: Db;
  box: SecretBox;
  /** `STROWGER_TWILIO_API_BASE` (tests: the local fake). */
  apiBase?: string;
}

export class TwilioAccount {
  private cached: { key: string; rest: TwilioRest } | undefined;

  constructor(private readonly opts: TwilioAccountOptions) {}

  /** The configured credentials, or null while either is missing. */
  async credentials(): Promise<TwilioCredentials | null> {
    const [accountSid, authToken] = await Promise.all([
      getConfigValue(this.opts.db, this.opts.box, 'twilio_account_sid'),
      getConfigValue(this.opts.db, this.opts.box, 'twilio_auth_token'),
    ]);
    return accountSid && authToken ? { accountSid, authToken } : null;
  }

  /** A REST client for the configured account, or null while it is not configured. */
  async rest(): Promise<TwilioRest | null> {
    const c = await this.credentials();
    if (!c) return null;
    const key = `${c.accountSid}\u0000${c.authToken}`;
    if (this.cached?.key !== key) this.cached = { key, rest: createTwilioRest({ ...c, apiBase: this.opts.apiBase }) };
    return this.cached.rest;
  }

  /** The `twilio` slot of `GET /api/system/status`. */
  async status(): Promise<Record<string, unknown>> {
    const c = await this.credentials();
    return {
      status: c ? 'configured' : 'not_configured',
      account_sid: c?.accountSid ?? null,
      api_base: this.opts.apiBase ?? null,
      sms_queued: await countQueued(this.opts.db),
    };
  }
}
