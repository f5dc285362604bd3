/**
 * Every thread's calls as one list for the API (`api/pbx/calls.ts`): the main thread's B2BUA,
 * and with call shards (`call-shards.ts`) each shard's, asked on demand. A call id is unique
 * across threads (random), so an operation on one call goes to whichever thread knows it.
 */
import type { B2bua, CallSnapshot, CallView } from './b2bua.ts';
import type { CallShards } from './call-shards.ts';
import { HoldError, type HoldParty } from './call-hold.ts';
import type { TransferRefusal, TransferType } from './call-transfer.ts';

/** How an API transfer ended: connected, failed with the target's status, or refused. */
type TransferOutcome = { ok: true } | { ok: false; status: number; reason: string } | { refused: TransferRefusal };

/** The shard's error as the API expects it: a HoldError stays one (409/502/503 mapping). */
function rethrow(err: unknown): never {
  const e = err as Error & { name?: string; code?: string; status?: number | null };
  if (e.name === 'HoldError') throw new HoldError(e.code as ConstructorParameters<typeof HoldError>[0], e.message, e.status ?? null);
  throw err;
}

export class CallDirectory {
  constructor(private readonly main: B2bua, private readonly shards: CallShards | undefined) {}

  /** Every call, oldest first. */
  async listCalls(): Promise<CallSnapshot[]> {
    const own = this.main.listCalls();
    if (this.shards === undefined) return own;
    const more = await Promise.all(this.shards.workers.map((i) => this.shards!.ask(i, { op: 'list' }) as Promise<CallSnapshot[]>));
    return [...own, ...more.flat()].sort((x, y) => x.startedAt - y.startedAt);
  }

  async describeCall(id: string, opts: { media?: boolean } = {}): Promise<CallView | undefined> {
    return (await this.main.describeCall(id, opts)) ?? this.onShards<CallView>({ op: 'describe', id, media: opts.media === true });
  }

  async hangupCall(id: string): Promise<boolean> {
    return this.main.hangupCall(id) || (await this.onShards<boolean>({ op: 'hangup', id }, (r) => r === true)) === true;
  }

  async holdCall(id: string, hold: boolean, party: HoldParty): Promise<CallSnapshot | undefined> {
    if (this.main.find(id)) return this.main.holdCall(id, hold, party);
    return this.onShards<CallSnapshot>({ op: 'hold', id, hold, party: party === 'caller' ? 'caller' : 'callee' });
  }

  /** undefined: no thread knows the call. */
  async transferCall(id: string, target: string, type: TransferType): Promise<TransferOutcome | undefined> {
    const own = this.main.transferCall(id, target, type);
    if (own !== undefined) return own;
    return this.onShards<TransferOutcome>({ op: 'transfer', id, target, type });
  }

  async cancelTransfer(id: string): Promise<'cancelled' | 'none' | 'unknown'> {
    const own = this.main.cancelTransfer(id);
    if (own !== 'unknown') return own;
    return (await this.onShards<'cancelled' | 'none' | 'unknown'>({ op: 'cancelTransfer', id }, (r) => r !== 'unknown')) ?? 'unknown';
  }

  /**
   * Runs `op` on each shard in turn until one knows the call (`found`, default: a non-null
   * answer); undefined when none does. Operations that change a call reach one shard only.
   */
  private async onShards<T>(op: Parameters<CallShards['ask']>[1], found: (r: unknown) => boolean = (r) => r !== null && r !== undefined): Promise<T | undefined> {
    if (this.shards === undefined) return undefined;
    for (const i of this.shards.workers) {
      const r = await this.shards.ask(i, op).catch(rethrow);
      if (found(r)) return r as T;
    }
    return undefined;
  }
}
