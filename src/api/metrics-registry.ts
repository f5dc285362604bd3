/**
 * The Prometheus metrics of one node (issue 12, "Observability"), read at scrape time from the
 * plain counters the subsystems keep anyway: nothing here runs per SIP message or per packet.
 * Counters are rebuilt from those totals on each scrape (`reset` + `inc`), gauges set.
 *
 * Families (all prefixed `strowger_`): SIP messages by method/status and direction,
 * retransmissions, transactions and dialogs open, registrations, calls (active, attempted,
 * answered, ended by disposition and cause), media legs, packets, drops and decode-path
 * loss per worker, event-loop utilization and lag as the overload control sees them, shed
 * and dropped requests, bans. Plus prom-client's default process metrics (CPU, memory, GC,
 * its own event-loop lag histogram).
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { ApiContext } from './context.ts';
import type { SipServer } from '../pbx/sip-server.ts';
import type { CallShardStats } from '../pbx/call-shard-protocol.ts';
import type { SipWorkerStats } from '../pbx/sip-worker-protocol.ts';
import { sqliteWriter } from '../store/database.ts';

type Labels = Record<string, string | number>;
type Rows = Iterable<readonly [Labels, number]>;

/** A counter whose value is read from elsewhere at scrape time. */
function counter(registry: Registry, name: string, help: string, labelNames: string[], read: () => Rows): void {
  new Counter({
    name, help, labelNames, registers: [registry],
    collect() {
      this.reset();
      for (const [labels, v] of read()) if (v > 0) this.inc(labels, v);
    },
  });
}

/** A gauge whose value is read at scrape time. */
function gauge(registry: Registry, name: string, help: string, labelNames: string[], read: () => Rows): void {
  new Gauge({
    name, help, labelNames, registers: [registry],
    collect() {
      this.reset();
      for (const [labels, v] of read()) this.set(labels, v);
    },
  });
}

const one = (v: number): Rows => [[{}, v]];
const byKey = <K>(m: ReadonlyMap<K, number>, label: string, extra: Labels = {}): Rows =>
  [...m].map(([k, v]) => [{ ...extra, [label]: String(k) }, v] as const);

/** A counter of the main thread plus the registrar and call shards' (their latest report, about a second old). */
const shardSum = (s: SipServer, f: (x: SipWorkerStats) => number): number => (s.registrarShards?.sum(f) ?? 0) + (s.callShards?.sum(f) ?? 0);

/** Counts by key of the main thread plus the registrar shards'. */
function withShards<K>(own: ReadonlyMap<K, number>, s: SipServer, f: (x: SipWorkerStats) => Array<[K, number]>): ReadonlyMap<K, number> {
  const stats: SipWorkerStats[] = [...(s.registrarShards?.stats() ?? []), ...(s.callShards?.stats() ?? [])];
  if (stats.length === 0) return own;
  const sum = new Map(own);
  for (const x of stats) for (const [k, v] of f(x)) sum.set(k, (sum.get(k) ?? 0) + v);
  return sum;
}

/** CDR outcomes of the main thread plus the call shards'. */
function withCallShards(own: ReadonlyMap<string, number>, s: SipServer): ReadonlyMap<string, number> {
  const stats = s.callShards?.stats() ?? [];
  if (stats.length === 0) return own;
  const sum = new Map(own);
  for (const x of stats) for (const [k, v] of x.outcomes) sum.set(k, (sum.get(k) ?? 0) + v);
  return sum;
}

/** Registry with every family; SIP and media families are empty on an HTTP-only node. */
export function createMetricsRegistry(ctx: ApiContext): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const sip = (): SipServer | undefined => ctx.sip;
  const sipRows = (f: (s: SipServer) => Rows): (() => Rows) => () => {
    const s = sip();
    return s === undefined ? [] : f(s);
  };

  counter(registry, 'strowger_sip_requests_total', 'SIP requests by method: received (every one, retransmissions included) and sent by us (new requests)', ['direction', 'method'],
    sipRows((s) => [...byKey(withShards(s.endpoint.messages.requestsIn, s, (x) => x.requestsIn), 'method', { direction: 'in' }), ...byKey(s.endpoint.messages.requestsOut, 'method', { direction: 'out' })]));
  counter(registry, 'strowger_sip_responses_total', 'SIP responses by status code: received, and sent by us (retransmissions of the transaction layer not counted)', ['direction', 'code'],
    sipRows((s) => [...byKey(s.endpoint.messages.responsesIn, 'code', { direction: 'in' }), ...byKey(withShards(s.endpoint.messages.responsesOut, s, (x) => x.responsesOut), 'code', { direction: 'out' })]));
  counter(registry, 'strowger_sip_retransmissions_total', 'SIP retransmissions: sent by our transactions (timers A/E/G), received and absorbed by them', ['direction'],
    sipRows((s) => [[{ direction: 'out' }, s.endpoint.transactions.counters.retransmissions], [{ direction: 'in' }, s.endpoint.transactions.counters.absorbed + shardSum(s, (x) => x.absorbed)]]));
  counter(registry, 'strowger_sip_stateless_responses_total', 'New SIP requests answered without a server transaction (RFC 3261 §8.2.7): digest challenges of devices whose credentials are cached', [],
    sipRows((s) => one(s.endpoint.counters.stateless + shardSum(s, (x) => x.stateless))));
  counter(registry, 'strowger_sip_transaction_timeouts_total', 'SIP client transactions that timed out (timer B/F)', [],
    sipRows((s) => one(s.endpoint.transactions.counters.timeouts)));
  gauge(registry, 'strowger_sip_transactions', 'SIP transactions open (lingering ones included: timers J/K/L)', ['kind'],
    sipRows((s) => [[{ kind: 'client' }, s.endpoint.transactions.clientCount + (s.callShards?.sum((x) => x.clientTransactions) ?? 0)], [{ kind: 'server' }, s.endpoint.transactions.serverCount + shardSum(s, (x) => x.serverTransactions)]]));
  gauge(registry, 'strowger_sip_dialogs', 'SIP dialogs held by calls', [], sipRows((s) => one(s.b2bua.dialogCount + (s.callShards?.sum((x) => x.dialogs) ?? 0))));
  gauge(registry, 'strowger_sip_registrations', 'Registered contacts', [], sipRows((s) => one(s.location.size)));
  counter(registry, 'strowger_sip_dropped_total', 'SIP messages dropped: unparseable, from banned addresses or scanners and invalid responses (filtered), scanners alone', ['reason'],
    sipRows((s) => [
      [{ reason: 'parse_error' }, s.endpoint.counters.parseErrors + shardSum(s, (x) => x.parseErrors)],
      [{ reason: 'bad_request' }, s.endpoint.counters.badRequests + shardSum(s, (x) => x.badRequests)],
      [{ reason: 'filtered' }, s.endpoint.counters.dropped + shardSum(s, (x) => x.dropped)],
      [{ reason: 'scanner' }, s.guard.scannerDrops + shardSum(s, (x) => x.scannerDrops)],
    ]));
  counter(registry, 'strowger_sip_shed_total', 'New INVITEs/REGISTERs shed by overload control: answered 503 (rejected) or dropped unanswered', ['action'],
    sipRows((s) => [[{ action: 'rejected' }, s.overload.counters.rejected + shardSum(s, (x) => x.rejected)], [{ action: 'dropped' }, s.overload.counters.dropped + shardSum(s, (x) => x.shedDropped)]]));
  gauge(registry, 'strowger_sip_shed_share', 'Share of new INVITEs/REGISTERs shed now (0..1)', [], sipRows((s) => one(s.overload.shedShare)));
  gauge(registry, 'strowger_sip_invites_waiting', 'Incoming INVITEs with no answer beyond 100 Trying yet (the queue overload control caps)', [], sipRows((s) => one(s.endpoint.inviteWait.waiting)));
  gauge(registry, 'strowger_sip_invites_waiting_cap', 'Waiting INVITEs at which new ones get 503 now (measured progress rate x target wait; 0 = no cap)', [], sipRows((s) => one(s.overload.pendingCap)));
  gauge(registry, 'strowger_event_loop_utilization', 'Event-loop utilization of the main thread over the last overload sample (0..1)', [], sipRows((s) => one(s.overload.last.utilization)));
  gauge(registry, 'strowger_sip_queue_delay_seconds', 'Time a datagram waited in the SIP UDP sockets before the main thread read it, lowest of the last overload sample (a standing queue)', [], sipRows((s) => one((s.overload.last.queueDelayMs ?? 0) / 1000)));
  gauge(registry, 'strowger_event_loop_lag_seconds', 'Worst event-loop lag of the main thread over the last overload sample', [], sipRows((s) => one(s.overload.last.lagMs / 1000)));
  counter(registry, 'strowger_sip_bans_total', 'Address bans and username locks set since start', [], sipRows((s) => one(s.guard.bans)));
  gauge(registry, 'strowger_sip_bans', 'Bans in force: addresses banned, usernames locked at an address', ['kind'],
    sipRows((s) => {
      const list = s.guard.list();
      const addresses = list.filter((b) => b.username === null).length;
      return [[{ kind: 'address' }, addresses], [{ kind: 'username' }, list.length - addresses]];
    }));

  const callSum = (s: SipServer, f: (x: CallShardStats) => number) => s.callShards?.sum(f) ?? 0;
  gauge(registry, 'strowger_calls_active', 'Calls in progress (ringing or answered)', [], sipRows((s) => one(s.b2bua.activeCalls + callSum(s, (x) => x.activeCalls))));
  counter(registry, 'strowger_calls_attempted_total', 'Call attempts (INVITEs that reached the B2BUA)', [], sipRows((s) => one(s.b2bua.counters.attempts + callSum(s, (x) => x.counters.attempts))));
  counter(registry, 'strowger_calls_answered_total', 'Calls answered', [], sipRows((s) => one(s.b2bua.counters.answered + callSum(s, (x) => x.counters.answered))));
  counter(registry, 'strowger_calls_ended_total', 'Calls ended (one per CDR) by disposition and hangup cause; failed calls are those not answered', ['disposition', 'cause'],
    sipRows((s) => [...withCallShards(s.b2bua.outcomes, s)].map(([k, v]) => {
      const [disposition = '', cause = ''] = k.split('/');
      return [{ disposition, cause }, v] as const;
    })));

  // Families without samples on PostgreSQL or with STROWGER_SQLITE_WRITER_THREAD=0 (no writer thread).
  const writer = sqliteWriter(ctx.store.db);
  const writerRows = (f: (w: NonNullable<typeof writer>) => Rows): (() => Rows) => () => (writer === undefined ? [] : f(writer));
  counter(registry, 'strowger_db_writer_batches_total', 'SQLite writer thread: transactions (REGISTER bindings, CDRs, call journal) committed or failed', ['outcome'],
    writerRows((w) => [[{ outcome: 'committed' }, w.counters.committed], [{ outcome: 'failed' }, w.counters.failed]]));
  gauge(registry, 'strowger_db_writer_pending', 'SQLite writer thread: transactions posted and not yet committed', [], writerRows((w) => one(w.pendingBatches)));
  gauge(registry, 'strowger_db_writer_up', 'SQLite writer thread running (1), or stopped so commits run on the main thread (0)', [], writerRows((w) => one(w.available ? 1 : 0)));

  const workers = (f: (w: ReturnType<SipServer['media']['workerCounters']>[number], i: number) => Rows) => sipRows((s) => s.media.workerCounters().flatMap((w, i) => [...f(w, i)]));
  gauge(registry, 'strowger_media_legs', 'Media endpoints (RTP legs, players, recorders) per worker', ['worker'], workers((w, i) => [[{ worker: i }, w.legs]]));
  counter(registry, 'strowger_media_packets_total', 'RTP and RTCP datagrams per worker and direction', ['worker', 'direction'],
    workers((w, i) => [[{ worker: i, direction: 'in' }, w.packetsIn], [{ worker: i, direction: 'out' }, w.packetsOut]]));
  counter(registry, 'strowger_media_bytes_total', 'RTP and RTCP bytes per worker and direction', ['worker', 'direction'],
    workers((w, i) => [[{ worker: i, direction: 'in' }, w.bytesIn], [{ worker: i, direction: 'out' }, w.bytesOut]]));
  counter(registry, 'strowger_media_dropped_total', 'Datagrams dropped per worker (foreign source, invalid, unrouted, unknown payload type)', ['worker'],
    workers((w, i) => [[{ worker: i }, w.dropped]]));
  counter(registry, 'strowger_media_jitter_packets_total', 'Decode path (transcoded legs): packets the jitter buffers found lost (never arrived) or late (after their playout)', ['worker', 'kind'],
    workers((w, i) => [[{ worker: i, kind: 'lost' }, w.jitterLost], [{ worker: i, kind: 'late' }, w.jitterLate]]));
  counter(registry, 'strowger_media_concealed_frames_total', 'Decode path: frames concealed (PLC/FEC) for missing packets', ['worker'],
    workers((w, i) => [[{ worker: i }, w.concealed]]));
  counter(registry, 'strowger_media_late_ticks_total', 'Decode path: 20 ms clock ticks run more than 10 ms late (worker overloaded)', ['worker'],
    workers((w, i) => [[{ worker: i }, w.lateTicks]]));
  return registry;
}
