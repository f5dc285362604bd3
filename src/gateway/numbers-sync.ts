/**
 * STROWGER_NUMBERS_SYNC_URL: polls `{"numbers":[…]}` (the fields of `/api/call-numbers`) and
 * replaces the synced numbers with it atomically, logging what changed. A bad answer (HTTP
 * error, not JSON, a number failing validation, an unknown app) keeps the previous set.
 */
import type { Logger } from 'pino';
import { Value } from '@sinclair/typebox/value';
import type { Db } from '../store/db.ts';
import type { SecretBox } from '../store/secret-box.ts';
import { replaceSyncedNumbers, type CallNumberFields } from '../store/call-numbers.ts';
import { findAppByAppId } from '../store/apps.ts';
import { CallNumberInput, toNumberFields } from './number-fields.ts';

export interface NumbersSyncOptions {
  db: Db;
  box: SecretBox;
  logger: Logger;
  url: string;
  intervalMs: number;
  fetch?: typeof fetch;
}

export class NumbersSync {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  readonly counters = { ok: 0, failed: 0 };
  private readonly log: Logger;

  constructor(private readonly o: NumbersSyncOptions) {
    this.log = o.logger.child({ component: 'numbers-sync' });
  }

  start(): void {
    void this.runOnce();
    this.timer = setInterval(() => void this.runOnce(), this.o.intervalMs);
    this.timer.unref();
  }

  /** One poll; resolves when applied or refused (never rejects). */
  runOnce(): Promise<void> {
    this.running ??= this.poll().catch((err) => {
      this.counters.failed++;
      this.log.warn({ err: (err as Error).message, url: this.o.url }, 'numbers sync: answer refused, keeping the previous set');
    }).finally(() => { this.running = null; });
    return this.running;
  }

  private async poll(): Promise<void> {
    const res = await (this.o.fetch ?? fetch)(this.o.url, { signal: AbortSignal.timeout(10_000), headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const body = await res.json() as { numbers?: unknown };
    if (!body || !Array.isArray(body.numbers)) throw new Error('expected {"numbers":[…]}');
    const list: CallNumberFields[] = [];
    const seen = new Set<string>();
    for (const [i, n] of body.numbers.entries()) {
      if (!Value.Check(CallNumberInput, n)) throw new Error(`numbers[${i}]: ${[...Value.Errors(CallNumberInput, n)][0]?.message ?? 'invalid'}`);
      const f = toNumberFields(n);
      if (typeof f === 'string') throw new Error(`numbers[${i}].${f}`);
      if (seen.has(f.number)) throw new Error(`numbers[${i}]: ${f.number} listed twice`);
      if (!(await findAppByAppId(this.o.db, f.app_id))) throw new Error(`numbers[${i}]: no app "${f.app_id}"`);
      seen.add(f.number);
      list.push(f);
    }
    const r = await replaceSyncedNumbers(this.o.db, this.o.box, list);
    this.counters.ok++;
    if (r.added.length || r.removed.length) this.log.info({ added: r.added, removed: r.removed, kept: r.kept.length }, 'numbers sync: applied');
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
