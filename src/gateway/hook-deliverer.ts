/**
 * Delivers hook events from the persistent outbox (`hooks_outbox`): POST to the number's
 * hook URL, JSON or protobuf, signed (`hook-signature.ts`), each delivery bounded by a
 * timeout. 2xx: delivered. 5xx, 408, 429, timeouts and network errors: retried with
 * exponential backoff until the attempts run out (`failed`). Other 4xx: the receiver refused
 * the event, retrying would not change that: `failed` at once. Events of a call go out in
 * order (the store hands out only a call's earliest pending row); rows left pending by a
 * crash are picked up at the next start (`start()`).
 */
import type { Logger } from 'pino';
import type { Db } from '../store/db.ts';
import type { SecretBox } from '../store/secret-box.ts';
import { findAppByAppId } from '../store/apps.ts';
import {
  claimDueHooks, enqueueHook, nextHookDueAt, recordHookDelivered, recordHookFailed, recordHookRetry, type HookOutboxRow, type NewHook,
} from '../store/hooks-outbox.ts';
import { isoNow } from '../store/time.ts';
import type { Timers, TimerHandle } from '../sip/timers.ts';
import { encodeEvent, type CallEvent } from './call-events.ts';
import { signHook, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './hook-signature.ts';

export interface HookDelivererOptions {
  db: Db;
  box: SecretBox;
  logger: Logger;
  maxAttempts: number;
  retryBaseMs: number;
  timeoutMs: number;
  timers: Timers;
  fetch?: typeof fetch;
  /** A delivered event's answer (status 2xx, body): incoming calls read their action from it. */
  answered?(row: HookOutboxRow, body: Buffer): void;
}

const MAX_BACKOFF_MS = 10 * 60_000;
const BATCH = 20;

export class HookDeliverer {
  private running: Promise<void> | null = null;
  private again = false;
  private timer: TimerHandle | undefined;
  private closed = false;
  readonly counters = { delivered: 0, retried: 0, failed: 0 };
  private readonly log: Logger;

  constructor(private readonly o: HookDelivererOptions) {
    this.log = o.logger.child({ component: 'hooks' });
  }

  /** Resumes deliveries left pending (a restart loses none). */
  start(): void {
    this.kick();
  }

  /** Queues an event for `url`; resolves once the row is committed. */
  async enqueue(url: string, contentType: string, event: CallEvent): Promise<void> {
    const h: NewHook = { call_id: event.call_id, app_id: event.app_id, url, content_type: contentType, event: event.event, payload: JSON.stringify(event) };
    await enqueueHook(this.o.db, h);
    this.kick();
  }

  kick(): void {
    if (this.closed) return;
    if (this.running) { this.again = true; return; }
    this.running = this.drain().catch((err) => this.log.error({ err }, 'hook delivery loop failed')).finally(() => {
      this.running = null;
      if (this.again) { this.again = false; this.kick(); } else void this.schedule();
    });
  }

  private async drain(): Promise<void> {
    for (;;) {
      this.again = false;
      const now = this.o.timers.now();
      const rows = await claimDueHooks(this.o.db, isoNow(now), isoNow(now + this.o.timeoutMs + 5000), BATCH);
      if (rows.length === 0 || this.closed) return;
      await Promise.all(rows.map((r) => this.deliver(r)));
    }
  }

  private async schedule(): Promise<void> {
    if (this.closed) return;
    const at = await nextHookDueAt(this.o.db).catch(() => null);
    if (at === null || this.closed) return;
    if (this.timer !== undefined) this.o.timers.clearTimeout(this.timer);
    const ms = Math.max(0, Math.min(MAX_BACKOFF_MS, Date.parse(at) - this.o.timers.now()));
    this.timer = this.o.timers.setTimeout(() => { this.timer = undefined; this.kick(); }, ms);
    (this.timer as { unref?: () => void }).unref?.();
  }

  private async deliver(row: HookOutboxRow): Promise<void> {
    const attempts = row.attempts + 1;
    const app = await findAppByAppId(this.o.db, row.app_id);
    if (!app) { await recordHookFailed(this.o.db, row.id, attempts, 'app deleted'); this.counters.failed++; return; }
    const protobufBody = row.content_type === 'Protobuf';
    const body = protobufBody ? encodeEvent(JSON.parse(row.payload) as CallEvent, 'protobuf') : row.payload;
    const ts = Math.floor(this.o.timers.now() / 1000);
    let status = 0;
    let error = '';
    let answer = Buffer.alloc(0);
    try {
      const res = await (this.o.fetch ?? fetch)(row.url, {
        method: 'POST', body, signal: AbortSignal.timeout(this.o.timeoutMs),
        headers: {
          'content-type': protobufBody ? 'application/x-protobuf' : 'application/json',
          [SIGNATURE_HEADER]: signHook(this.o.box.open(app.secret_enc), ts, body), [TIMESTAMP_HEADER]: String(ts),
          'x-strowger-event': row.event, 'x-strowger-call-id': row.call_id, 'x-strowger-delivery': String(row.id),
        },
      });
      status = res.status;
      answer = Buffer.from(await res.arrayBuffer());
      if (status < 200 || status >= 300) error = `HTTP ${status}`;
    } catch (err) {
      error = (err as Error).name === 'TimeoutError' ? `timeout after ${this.o.timeoutMs} ms` : `network: ${(err as Error).message}`;
    }
    if (!error) {
      await recordHookDelivered(this.o.db, row.id, attempts);
      this.counters.delivered++;
      try { this.o.answered?.(row, answer); } catch (err) { this.log.warn({ err }, 'hook answer handling failed'); }
      return;
    }
    const retryable = status === 0 || status >= 500 || status === 408 || status === 429;
    if (!retryable || attempts >= this.o.maxAttempts) {
      await recordHookFailed(this.o.db, row.id, attempts, error);
      this.counters.failed++;
      this.log.warn({ url: row.url, event: row.event, call_id: row.call_id, attempts, error }, 'hook delivery failed for good');
      return;
    }
    const delay = Math.min(MAX_BACKOFF_MS, this.o.retryBaseMs * 2 ** (attempts - 1));
    await recordHookRetry(this.o.db, row.id, attempts, isoNow(this.o.timers.now() + delay), error);
    this.counters.retried++;
    this.log.info({ url: row.url, event: row.event, attempts, error, retry_in_ms: delay }, 'hook delivery failed, will retry');
  }

  /** Stops scheduling; waits for deliveries in flight (pending rows stay for the next start). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) this.o.timers.clearTimeout(this.timer);
    await this.running;
  }
}
