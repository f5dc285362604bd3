/**
 * The messages between the main thread and a registrar shard (`registrar-shards.ts`,
 * `registrar-shard-worker.ts`). Each side collects what it has for the other during one turn
 * of its event loop and posts it as one message: a REGISTER burst costs one wake-up of the
 * other thread, not one per request.
 */
import type { LocalEndpoint, MessageSource, SendTarget } from '../sip/transport-types.ts';
import type { Binding } from './registrar-bindings.ts';
import type { SipBan } from './sip-guard.ts';
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
  version: string;
  logLevel: string;
  sip: Pick<SipConfig, 'digestAlgorithms' | 'scannerUserAgents' | 'serverHeader' | 'minExpires' | 'maxExpires' | 'overload'>;
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
  in?: InboundItem[];
  /** Usernames whose cached credentials are stale; `null`: all of them. */
  invalidate?: Array<string | null>;
  deletedDevices?: number[];
  closedConnections?: number[];
  bans?: Array<{ kind: 'ban' | 'lift'; ban: SipBan }>;
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
  out?: Array<[target: SendTarget, data: Uint8Array]>;
  /** AORs whose bindings changed, with their new lists. */
  aors?: Array<[aor: string, bindings: Binding[]]>;
  /** Digest outcomes for the main thread's guard: failures (`ok` false) and successes. */
  auth?: Array<[ok: boolean, ip: string, username: string | null]>;
  /** Stream connections a registration now keeps open. */
  pins?: number[];
  /** REGISTERs this shard read but another owns (they reached it unrouted), with the owner. */
  reroute?: Array<[data: Uint8Array, source: MessageSource, owner: number]>;
  stats?: ShardStats;
  /** Start-up failed. */
  failed?: string;
  /** Closed on request: its database connection too. */
  closed?: true;
}
