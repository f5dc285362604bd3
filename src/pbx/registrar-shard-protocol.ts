/**
 * The messages between the main thread and a registrar shard (`registrar-shards.ts`,
 * `registrar-shard-worker.ts`), one item each. Each side coalesces what it has for the other
 * during one turn of its event loop into one post (`MessageBatcher`): a REGISTER burst costs one
 * wake-up of the other thread, not one per request, and items keep their order.
 */
import type { LocalEndpoint, MessageSource, SendTarget } from '../sip/transport-types.ts';
import type { Binding } from './registrar-bindings.ts';
import type { SipBan, SipBanChange } from './sip-guard.ts';
import type { SipConfig } from '../config.ts';

/** What a shard is started with. */
export interface ShardConfig {
  index: number;
  count: number;
  databaseUrl: string;
  /** PostgreSQL schema (tests). */
  dbSchema: string | undefined;
  /** SQLite: the main thread's store's write lock, shared (`thread-write-lock.ts`). */
  writeLock: SharedArrayBuffer | undefined;
  /** Hex: the server's secret key (digest nonces, the secret box of device passwords). */
  secretKey: string;
  domain: string;
  logLevel: string;
  sip: Pick<SipConfig, 'digestAlgorithms' | 'scannerUserAgents' | 'minExpires' | 'maxExpires' | 'overload'>;
  /** The main thread endpoint's Server header and option tags: a shard's responses say the same. */
  endpoint: { server: string; supported: string[] };
  /** Username locks in force when the shard starts. */
  locks: SipBan[];
  /**
   * The main thread's SIP UDP sockets: the shard sends its replies on its own duplicate of
   * each descriptor (the main thread keeps reading them). Empty: replies go through the main thread.
   */
  udp: Array<{ fd: number; local: LocalEndpoint }>;
  maxDatagramBytes: number;
}

/** A message read by the main thread: its bytes, where from, and whether its AOR was read from them (else the shard checks). */
export type InboundItem = [data: Uint8Array, source: MessageSource, routed: boolean];

export interface ToShard {
  in?: InboundItem;
  /** A username whose cached credentials are stale; `null`: all of them. */
  invalidate?: string | null;
  deletedDevice?: number;
  closedConnection?: number;
  ban?: SipBanChange;
  /** Asks for a {@link ShardStats} now (tests, `/metrics` freshness). */
  stats?: true;
  close?: true;
}

/** Counters a shard reports about once a second: what the main thread adds to its own in status and metrics. */
export interface ShardStats {
  requestsIn: Array<[string, number]>;
  responsesOut: Array<[number, number]>;
  received: number;
  /** REGISTERs that reached this shard unrouted and went on to their owner. */
  rerouted: number;
  parseErrors: number;
  badRequests: number;
  dropped: number;
  absorbed: number;
  serverTransactions: number;
  rejected: number;
  shedDropped: number;
  scannerDrops: number;
  shedShare: number;
  utilization: number;
  lagMs: number;
  bindings: number;
}

export interface FromShard {
  ready?: { loaded: number };
  /** A message to send (through the main thread: streams, or UDP when the shard has no socket of its own). */
  out?: [target: SendTarget, data: Uint8Array];
  /** An AOR whose bindings changed, with its new list. */
  aor?: [aor: string, bindings: Binding[]];
  /** A digest outcome for the main thread's guard: a failure (`ok` false) or a success. */
  auth?: [ok: boolean, ip: string, username: string | null];
  /** A stream connection a registration now keeps open. */
  pin?: number;
  /** A REGISTER this shard read but another owns (it reached it unrouted), with the owner. */
  reroute?: [data: Uint8Array, source: MessageSource, owner: number];
  stats?: ShardStats;
  /** Start-up failed. */
  failed?: string;
  /** Closed on request: its database connection too. */
  closed?: true;
}
