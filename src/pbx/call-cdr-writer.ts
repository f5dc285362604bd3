/**
 * Group commit of the call engine's records: journal rows of answered calls (`active_calls`)
 * and CDRs. At a few thousand calls per second one transaction per record spends the time
 * in commits; here every record queued while a commit runs goes into the next one, so the
 * batch grows with the load and a lone call still commits at once (no timer, no added delay).
 *
 * Order and atomicity: within a batch the journal rows are written first, then the CDRs of
 * journalled calls replace their rows, then the other CDRs, all in one transaction of at most
 * three statements (`writeCallRecords`), so a call answered and ended in the same batch never
 * stays open. Batches run one after the other. A batch that fails is retried record by
 * record, so one bad row costs only itself.
 *
 * `flushed()` resolves once everything queued so far is committed: shutdown waits on it,
 * which keeps "a finished call has its CDR" true across a clean stop. `open()` resolves once
 * its journal row is committed: the B2BUA holds the caller's 200 until then ("answered means
 * journaled"), so the answer waits for its batch and nothing else changes.
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { DB } from '../store/schema.ts';
import { closeCallWithCdr, insertCdr, openCallRecord, writeCallRecords, type CallStart, type NewCdr } from '../store/cdrs.ts';

interface Batch {
  opens: CallStart[];
  closes: NewCdr[];
  inserts: NewCdr[];
  /** Resolvers of `open()` calls waiting for this batch's commit. */
  committed: Array<() => void>;
}

const emptyBatch = (): Batch => ({ opens: [], closes: [], inserts: [], committed: [] });

/**
 * A call answered and ended within one batch never needs its journal row: the row would be
 * written and deleted in the same transaction. Its CDR becomes a plain insert (at high call
 * rates with short calls this saves two of the three statements per call).
 */
function cancelShortCalls(b: Batch): void {
  if (b.opens.length === 0 || b.closes.length === 0) return;
  const opened = new Set<string>();
  for (const o of b.opens) opened.add(o.call_id);
  const ended = new Set<string>();
  b.closes = b.closes.filter((c) => {
    if (!opened.has(c.call_id)) return true;
    ended.add(c.call_id);
    b.inserts.push(c);
    return false;
  });
  if (ended.size > 0) b.opens = b.opens.filter((o) => !ended.has(o.call_id));
}

export class CallRecordWriter {
  private queued: Batch = emptyBatch();
  private running: Promise<void> | null = null;
  /** Records committed (or given up on) since start. */
  counters = { batches: 0, records: 0, failed: 0 };

  constructor(private readonly db: Kysely<DB>, private readonly log: Logger) {}

  /**
   * Journals an answered call, so a crash still ends in a CDR (see `closeOrphanedCalls`).
   * Resolves once the batch holding the row is committed (or given up on, which is logged):
   * never rejects, so an answer is delayed by a failing store but not lost.
   */
  open(call: CallStart): Promise<void> {
    const batch = this.queued;
    batch.opens.push(call);
    const done = new Promise<void>((resolve) => batch.committed.push(resolve));
    this.kick();
    return done;
  }

  /** The CDR of an ended call; `journalled` when `open` was called for it. */
  close(cdr: NewCdr, journalled: boolean): void {
    (journalled ? this.queued.closes : this.queued.inserts).push(cdr);
    this.kick();
  }

  /** Resolves when every record queued before the call is committed. */
  async flushed(): Promise<void> {
    while (this.running !== null) await this.running;
  }

  private get pending(): number {
    const q = this.queued;
    return q.opens.length + q.closes.length + q.inserts.length;
  }

  private kick(): void {
    if (this.running !== null) return;
    // Let the records of the current I/O turn join: queueMicrotask would commit the first alone.
    this.running = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.drain());
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending > 0) {
        const batch = this.queued;
        this.queued = emptyBatch();
        await this.commit(batch);
      }
    } finally {
      this.running = null;
    }
  }

  private async commit(b: Batch): Promise<void> {
    cancelShortCalls(b);
    const n = b.opens.length + b.closes.length + b.inserts.length;
    this.counters.batches++;
    try {
      await writeCallRecords(this.db, b);
      this.counters.records += n;
    } catch (err) {
      this.log.warn({ err, records: n }, 'CDR batch failed; writing its records one by one');
      await this.oneByOne(b);
    } finally {
      for (const resolve of b.committed) resolve();
    }
  }

  private async oneByOne(b: Batch): Promise<void> {
    const each = async (callId: string, write: () => Promise<unknown>) => {
      try {
        await write();
        this.counters.records++;
      } catch (err) {
        this.fail(err, callId);
      }
    };
    for (const call of b.opens) await each(call.call_id, () => openCallRecord(this.db, call));
    for (const cdr of b.closes) await each(cdr.call_id, () => closeCallWithCdr(this.db, cdr.call_id, cdr));
    for (const cdr of b.inserts) await each(cdr.call_id, () => insertCdr(this.db, cdr));
  }

  private fail(err: unknown, callId: string): void {
    this.counters.failed++;
    this.log.error({ err, call_id: callId }, 'CDR write failed');
  }
}
