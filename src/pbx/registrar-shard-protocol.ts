/**
 * The messages between the main thread and a registrar shard (`registrar-shards.ts`,
 * `registrar-shard-worker.ts`), one item each. Each side coalesces what it has for the other
 * during one turn of its event loop into one post (`MessageBatcher`): a REGISTER burst costs one
 * wake-up of the other thread, not one per request, and items keep their order.
 */
import type { MessageSource } from '../sip/transport-types.ts';
import type { Binding } from './registrar-bindings.ts';
import type { SipConfig } from '../config.ts';
import type { SipWorkerConfig, SipWorkerFrom, SipWorkerStats, SipWorkerTo } from './sip-worker-protocol.ts';

/** What a shard is started with. */
export interface ShardConfig extends SipWorkerConfig {
  sip: Pick<SipConfig, 'digestAlgorithms' | 'scannerUserAgents' | 'minExpires' | 'maxExpires' | 'overload'>;
}

/** A message read by the main thread: its bytes, where from, and whether its AOR was read from them (else the shard checks). */
export type InboundItem = [data: Uint8Array, source: MessageSource, routed: boolean];

export interface ToShard extends SipWorkerTo {
  in?: InboundItem;
  deletedDevice?: number;
}

/** Counters a shard reports about once a second. */
export interface ShardStats extends SipWorkerStats {
  /** REGISTERs that reached this shard unrouted and went on to their owner. */
  rerouted: number;
  shedShare: number;
  bindings: number;
}

export interface FromShard extends SipWorkerFrom<ShardStats> {
  ready?: { loaded: number };
  /** An AOR whose bindings changed, with its new list. */
  aor?: [aor: string, bindings: Binding[]];
  /** A stream connection a registration now keeps open. */
  pin?: number;
  /** A REGISTER this shard read but another owns (it reached it unrouted), with the owner. */
  reroute?: [data: Uint8Array, source: MessageSource, owner: number];
}
