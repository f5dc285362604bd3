/**
 * Sends queued outbound messages through Twilio (the queue: `store/message-outbox.ts`).
 *
 * One pass claims the due rows, hands each to Twilio, and records the outcome: accepted →
 * `sending` (callbacks take it to `sent`, `delivered`, …); Twilio unreachable, 429 or 5xx →
 * still `queued`, tried again after `retryBaseMs · 2^(attempts-1)` (capped at an hour); Twilio
 * refused it (4xx) or the last attempt failed → `failed` with Twilio's code and message.
 * Passes run when a message is queued (`kick`), when the earliest retry is due, and every
 * `pollMs` to pick up rows queued by other nodes.
 */
import type { Logger } from 'pino';
import type { TwilioAccount } from './twilio-account.ts';
import { TwilioRestError } from '../integrations/twilio/rest-client.ts';
import { claimDueMessages, nextDueAt, recordFailure, recordHandOff, recordRetry, type AttemptError } from '../store/message-outbox.ts';
import type { MessageRow } from '../store/schema.ts';
import { isoNow } from '../store/time.ts';
import type { Db } from '../store/db.ts';

export interface SmsSenderOptions {
  db: Db;
  account: TwilioAccount;
  logger: Logger;
  maxAttempts: number;
  retryBaseMs: number;
  /** Absolute URL of `/api/webhooks/sms/status`, or undefined (no public URL: no callbacks). */
  statusCallbackUrl: string | undefined;
  /** How long a claimed row is ours before another pass may take it (longer than a REST call). */
  leaseMs?: number;
  pollMs?: number;
}

const MAX_BACKOFF_MS = 3600_000;
const BATCH = 20;

export class SmsSender {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;

  constructor(private readonly opts: SmsSenderOptions) {}

  start(): void {
    this.kick();
  }

  /** Runs a pass now (or right after the one in progress). */
  kick(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.running = this.pass()
      .catch((err) => this.opts.logger.error({ err }, 'sms sender pass failed'))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        } else void this.schedule();
      });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Wait for the earliest due row, but no longer than the poll interval. */
  private async schedule(): Promise<void> {
    if (this.closed) return;
    const poll = this.opts.pollMs ?? 10_000;
    let wait = poll;
    try {
      const at = await nextDueAt(this.opts.db);
      if (at !== null) wait = Math.min(poll, Math.max(0, Date.parse(at) - Date.now()));
    } catch (err) {
      this.opts.logger.warn({ err }, 'sms sender: cannot read the queue');
    }
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.kick(), wait);
    this.timer.unref();
  }

  private async pass(): Promise<void> {
    for (;;) {
      const now = Date.now();
      const rows = await claimDueMessages(this.opts.db, isoNow(now), isoNow(now + (this.opts.leaseMs ?? 60_000)), BATCH);
      for (const row of rows) await this.sendOne(row);
      if (rows.length < BATCH || this.closed) return;
    }
  }

  private async sendOne(row: MessageRow): Promise<void> {
    const attempts = row.attempts + 1;
    const { db, logger } = this.opts;
    try {
      const rest = await this.opts.account.rest();
      if (!rest) throw new TwilioRestError('Twilio credentials are not configured', null, null, true);
      const sent = await rest.createMessage({
        from: row.from_number, to: row.to_number, body: row.body,
        mediaUrls: JSON.parse(row.media_urls) as string[],
        // The id lets a callback that arrives before Twilio's create answer find the message.
        statusCallback: this.opts.statusCallbackUrl && `${this.opts.statusCallbackUrl}?message_id=${row.id}`,
      });
      await recordHandOff(db, row.id, attempts, sent);
      logger.info({ message_id: row.id, sid: sent.sid, attempts }, 'sms handed to Twilio');
    } catch (err) {
      const e = err instanceof TwilioRestError ? err : new TwilioRestError((err as Error).message, null, null, true, { cause: err });
      const failure: AttemptError = { code: e.code, message: e.message };
      if (!e.retryable || attempts >= this.opts.maxAttempts) {
        await recordFailure(db, row.id, attempts, failure);
        logger.warn({ message_id: row.id, attempts, status: e.status, code: e.code, err: e.message }, 'sms failed');
        return;
      }
      const delay = Math.min(MAX_BACKOFF_MS, this.opts.retryBaseMs * 2 ** (attempts - 1));
      await recordRetry(db, row.id, attempts, isoNow(Date.now() + delay), failure);
      logger.info({ message_id: row.id, attempts, retry_in_ms: delay, err: e.message }, 'sms send will be retried');
    }
  }
}
