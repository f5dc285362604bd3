/**
 * The messages between the main thread and a call shard (`call-shards.ts`,
 * `call-shard-worker.ts`), one item each, coalesced per turn of the sender's event loop into
 * one post (`MessageBatcher`), in order.
 */
import type { MessageSource } from '../sip/transport-types.ts';
import type { Binding } from './registrar-bindings.ts';
import type { SipConfig } from '../config.ts';
import type { SipWorkerConfig, SipWorkerFrom, SipWorkerStats, SipWorkerTo } from './sip-worker-protocol.ts';
import type { MediaEngineOptions } from '../media/media-engine-types.ts';
import type { SrtpSettings } from './srtp-settings.ts';
import type { RoomDialTarget } from '../rooms/room-dial-plan.ts';

/** What a call shard is started with (`index` 1..count-1: 0 is the main thread; `count` counts the main thread). */
export interface CallShardConfig extends SipWorkerConfig {
  dataDir: string;
  sip: Pick<SipConfig, 'digestAlgorithms' | 'scannerUserAgents' | 'overload' | 'minSessionExpires' | 'srtpInsecureSignalling' | 'dnsServers'>;
  calls: { ringTimeoutMs: number; maxCallMs: number };
  /** Our address per protocol and family, as the main thread advertises it (Via, Contact). */
  advertise: Array<[protocol: string, family: 4 | 6, host: string, port: number]>;
  /** This shard's own media engine: a slice of the RTP port range, one relay worker. */
  media: MediaEngineOptions;
  /** User parts the main thread answers itself (voicemail menu, rooms, app numbers): calls to them are handed over. */
  voicemailNumber: string | undefined;
  roomPrefix: string | undefined;
  roomIvrNumber: string | undefined;
  /** Record every Call-ID this shard handled (the acceptance test's trace); off in production. */
  trace: boolean;
  srtp: SrtpSettings;
  /** Room user parts registered at run time (`RoomDialPlan.registered`). */
  rooms: RoomEntries;
}

export type RoomEntries = Array<{ userPart: string; target: RoomDialTarget }>;

export type CallApiOp =
  | { op: 'list' }
  | { op: 'describe'; id: string; media: boolean }
  | { op: 'hangup'; id: string }
  | { op: 'hold'; id: string; hold: boolean; party: 'caller' | 'callee' }
  | { op: 'transfer'; id: string; target: string; type: 'blind' | 'attended' }
  | { op: 'cancelTransfer'; id: string }
  | { op: 'trace' }
  /** Which of `ids` the shard still holds a call or dialog of (the main thread's sweep of the Call-IDs it routes there). */
  | { op: 'held'; ids: string[] };

export interface ToCallShard extends SipWorkerTo {
  in?: [data: Uint8Array, source: MessageSource];
  /** An AOR's bindings as the main thread holds them now. */
  aor?: [aor: string, bindings: Binding[]];
  /** A bus event the shard's caches listen to (routes, trunks, DIDs, blocklist, DND, restore), with its arguments. */
  event?: [name: string, args: unknown[]];
  /** The SRTP settings after a change through the API. */
  srtp?: SrtpSettings;
  rooms?: RoomEntries;
  api?: [id: number, op: CallApiOp];
}

export interface CallShardStats extends SipWorkerStats {
  clientTransactions: number;
  activeCalls: number;
  dialogs: number;
  counters: { attempts: number; answered: number; rejected: number; ended: number };
  outcomes: Array<[string, number]>;
  handedOff: number;
}

export interface FromCallShard extends SipWorkerFrom<CallShardStats> {
  ready?: true;
  /** A call this shard does not carry (voicemail, rooms, WebRTC, ZRTP, an app number, a Replaces naming no call here): its INVITE, for `owner`. */
  handoff?: [data: Uint8Array, source: MessageSource, owner: number];
  api?: [id: number, result: unknown, error?: { name: string; message: string; code?: string; status?: number }];
}
