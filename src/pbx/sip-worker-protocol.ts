/**
 * What every SIP worker thread (registrar shard, call shard) is started with, understands,
 * sends and reports, besides its own items (`registrar-shard-protocol.ts`,
 * `call-shard-protocol.ts`). The main thread's side of these is `sip-shard-set.ts`.
 */
import type { LocalEndpoint, SendTarget } from '../sip/transport-types.ts';
import type { SipBan, SipBanChange } from './sip-guard.ts';

export interface SipWorkerConfig {
  /** This thread's shard number. */
  index: number;
  /** Shards of its kind. */
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
  /** The main thread endpoint's Server header and option tags: a worker's messages say the same. */
  endpoint: { server: string; supported: string[] };
  /** Username locks in force when the worker starts. */
  locks: SipBan[];
  /**
   * The main thread's SIP UDP sockets: the worker sends on its own duplicate of each descriptor
   * (the main thread keeps reading them). Empty: everything goes through the main thread.
   */
  udp: Array<{ fd: number; local: LocalEndpoint }>;
  maxDatagramBytes: number;
}

export interface SipWorkerTo {
  /** A username whose cached credentials are stale; `null`: all of them. */
  invalidate?: string | null;
  closedConnection?: number;
  ban?: SipBanChange;
  /** Asks for fresh counters now (tests, `/metrics` freshness). */
  stats?: true;
  close?: true;
}

/** Counters every worker reports about once a second: what the main thread adds to its own in status and metrics. */
export interface SipWorkerStats {
  requestsIn: Array<[string, number]>;
  responsesOut: Array<[number, number]>;
  received: number;
  parseErrors: number;
  badRequests: number;
  dropped: number;
  absorbed: number;
  stateless: number;
  serverTransactions: number;
  rejected: number;
  shedDropped: number;
  scannerDrops: number;
  utilization: number;
  lagMs: number;
}

export interface SipWorkerFrom<S extends SipWorkerStats> {
  /** Start-up failed. */
  failed?: string;
  /** Closed on request: its database connection too. */
  closed?: true;
  /** A message to send (through the main thread: streams, or UDP when the worker has no socket of its own). */
  out?: [target: SendTarget, data: Uint8Array];
  /** A digest outcome for the main thread's guard: a failure (`ok` false) or a success. */
  auth?: [ok: boolean, ip: string, username: string | null];
  stats?: S;
}
