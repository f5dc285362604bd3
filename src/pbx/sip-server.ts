/**
 * The PBX's SIP side: transports per config, the endpoint, the registrar and the guard,
 * wired together; `status()` feeds the `sip` slot of `GET /api/system/status`.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { SipConfig } from '../config.ts';
import type { SecretBox } from '../store/secret-box.ts';
import { TransportLayer, type ListenSpec } from '../sip/transport-layer.ts';
import type { TransportProtocol } from '../sip/transport-types.ts';
import { loadOrCreateSelfSignedCert } from '../sip/tls-self-signed.ts';
import { SipEndpoint } from '../sip/endpoint.ts';
import { OverloadControl } from '../sip/overload-control.ts';
import { startEndpointOverload } from './endpoint-overload.ts';
import { createDigestServer } from '../sip/digest-server.ts';
import { DeviceCredentialCache } from './device-credentials.ts';
import { LocationService, registrationPolicy } from './location-service.ts';
import { SipGuard } from './sip-guard.ts';
import { createRegistrar } from './registrar.ts';
import { RegistrarShards } from './registrar-shards.ts';
import { CallShards } from './call-shards.ts';
import { createMainHandOff } from './call-shard-handoff.ts';
import { CallDirectory } from './call-directory.ts';
import { setShardIdentity } from '../sip/shard-identity.ts';
import type { MediaEngineOptions } from '../media/media-engine-types.ts';
import type { ShardConfig } from './registrar-shard-protocol.ts';
import type { SipWorkerStats } from './sip-worker-protocol.ts';
import type { MediaEngine } from '../media/media-engine.ts';
import { closeOrphanedCalls } from '../store/cdrs.ts';
import { B2bua } from './b2bua.ts';
import { Originator } from './originate.ts';
import { realTimers } from './call-timers.ts';
import { CachingDnsClient } from '../sip/dns-cache.ts';
import { SipLocator } from '../sip/dns-resolve.ts';
import type { MohService } from './moh.ts';
import type { DeviceChanged, DeviceDeleted, EventBus } from '../events.ts';
import type { Db } from '../store/db.ts';
import { createDeviceAuth } from './device-auth.ts';
import { MwiMailboxes } from './mwi-mailboxes.ts';
import { MwiService } from './mwi-service.ts';
import type { MwiExpiryPolicy } from './mwi-subscribe.ts';
import { SubscribeDispatch } from './subscribe-dispatch.ts';

export interface SipServerDeps {
  sip: SipConfig;
  domain: string;
  publicIp: string | undefined;
  dataDir: string;
  secretKey: Buffer;
  db: Db;
  /** How registrar shards open their own connection to the database (`registrar-shards.ts`); without it REGISTER stays on the main thread. */
  store?: { url: string; schema: string | undefined; logLevel: string; writeLock: SharedArrayBuffer | undefined };
  box: SecretBox;
  logger: Logger;
  events: EventBus;
  version: string;
  /** The media engine the calls anchor their RTP in: created (and closed) by the caller. */
  media: MediaEngine;
  calls: { ringTimeoutMs: number; maxCallMs: number };
  /** Music on hold for held parties (`POST /api/calls/{id}/hold`, phone holds); none: silence. */
  moh?: Pick<MohService, 'currentMohFile'>;
  /** Voicemail and the mailbox menu (`call-local.ts`); without it such calls are refused. */
  localParty?: import('./call-local.ts').LocalPartyFactory;
  voicemailNumber?: string;
  /** User parts that reach rooms and the room IVR (`src/rooms/room-dial-plan.ts`). */
  roomDialPlan?: import('./call-router.ts').RouterDeps['rooms'];
  /** ZRTP on answered calls (`zrtp-calls.ts`); none: never. */
  zrtp?: import('./zrtp-calls.ts').ZrtpCalls;
  /** Message-summary subscriptions (STROWGER_MWI_*); absent Expires gets the maximum. Default 60..3600 s. */
  mwi?: { minExpires: number; maxExpires: number };
  /** The certificate of the TLS/WSS listeners (pbx/tls/tls-certificates.ts); without it: STROWGER_SIP_TLS_CERT/KEY or self-signed. */
  tlsCertificate?: () => Promise<{ cert: string; key: string }>;
  /** Live SRTP settings (pbx/srtp-settings.ts); without them STROWGER_SRTP_ALLOW_INSECURE_SIGNALLING and every suite. */
  srtpSettings?: import('./call.ts').CallEnv['srtpSettings'];
  /** WebRTC endpoints for browser legs (SIP over WS/WSS): anchored media. */
  webrtc?: import('../media/webrtc/index.ts').WebRtcFactory;
  /** Call shards (STROWGER_SIP_CALL_THREADS): the media engine options of shard i (its slice of the RTP ports); trace: the acceptance test's record. */
  callShards?: { media(index: number): MediaEngineOptions; trace?: boolean; srtp(): import('./srtp-settings.ts').SrtpSettings; rooms?: import('../rooms/room-dial-plan.ts').RoomDialPlan; dataDir: string; roomPrefix?: string; roomIvrNumber?: string };
}

export interface SipServer {
  endpoint: SipEndpoint;
  transports: TransportLayer;
  location: LocationService;
  guard: SipGuard;
  overload: OverloadControl;
  credentials: DeviceCredentialCache;
  media: MediaEngine;
  b2bua: B2bua;
  /** Calls the PBX places itself (gateways, the call API): `originate.ts`. */
  originator: Originator;
  /** Message waiting: SUBSCRIBE message-summary, NOTIFYs on mailbox changes. */
  mwi: MwiService;
  /** Worker threads answering REGISTERs (STROWGER_SIP_REGISTRAR_THREADS); none when 0. */
  registrarShards: RegistrarShards | undefined;
  /** Worker threads carrying calls (STROWGER_SIP_CALL_THREADS); none when 0. */
  callShards: CallShards | undefined;
  /** Every thread's calls, for the API. */
  calls: CallDirectory;
  /** Bound ports by protocol (first listener of each). */
  ports: Partial<Record<TransportProtocol, number>>;
  advertise(protocol: TransportProtocol, family?: 4 | 6): { host: string; port: number };
  status(): Record<string, unknown>;
  close(): Promise<void>;
}

/** The first SIP listen address that is not a wildcard: media binds there too by default. */
export function firstSipHost(sip: SipConfig): string | undefined {
  return sip.hosts.find((h) => !isWildcard(h));
}

/** The first IPv6 address SIP binds to (`::` when it binds the IPv6 wildcard), if any. */
export function firstSipHost6(sip: SipConfig): string | undefined {
  const v6 = sip.hosts.filter((h) => h.includes(':')).map((h) => h.replace(/^\[|\]$/g, ''));
  return v6.find((h) => h !== '::') ?? v6[0];
}

function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || address === '[::]';
}

/** The main thread's endpoint and transaction counters plus what the shards of each kind counted of the same. */
function withShardCounters<T extends Pick<SipWorkerStats, 'received' | 'parseErrors' | 'badRequests' | 'dropped' | 'absorbed'>>(own: T, ...sets: Array<{ sum(counter: (x: SipWorkerStats) => number): number } | undefined>): T {
  const out = { ...own };
  for (const shards of sets) {
    if (shards === undefined) continue;
    out.received += shards.sum((x) => x.received);
    out.parseErrors += shards.sum((x) => x.parseErrors);
    out.badRequests += shards.sum((x) => x.badRequests);
    out.dropped += shards.sum((x) => x.dropped);
    out.absorbed += shards.sum((x) => x.absorbed);
  }
  return out;
}

/**
 * The call shards `STROWGER_SIP_CALL_THREADS` asks for, diverting calls' messages from the
 * endpoint already reading `transports`; none for 0 or an in-memory SQLite database (another
 * connection would see another, empty database). The main thread becomes shard 0.
 */
async function startCallShards(
  deps: SipServerDeps,
  main: { transports: TransportLayer; location: LocationService; guard: SipGuard; logger: Logger; advertise: SipServer['advertise'] },
  endpoint: { server: string; supported: string[] },
): Promise<CallShards | undefined> {
  const threads = deps.sip.callThreads;
  const shardDeps = deps.callShards;
  if (threads === 0 || deps.store === undefined || shardDeps === undefined) return undefined;
  if (/^sqlite:(\/\/)?:memory:$/.test(deps.store.url)) {
    main.logger.warn('STROWGER_SIP_CALL_THREADS ignored: an in-memory database cannot be shared with worker threads');
    return undefined;
  }
  const { sip } = deps;
  const advertise: Array<[string, 4 | 6, string, number]> = [];
  for (const t of main.transports.transports) for (const f of [4, 6] as const) {
    const a = main.advertise(t.protocol, f);
    advertise.push([t.protocol, f, a.host, a.port]);
  }
  // The default music on hold is synthesized on first use: done once here, not by every thread
  // at its first hold at once (seen: a half-second stall answering the first calls' re-INVITEs).
  await deps.moh?.currentMohFile().catch((err) => main.logger.warn({ err }, 'music on hold not prepared'));
  setShardIdentity(0, threads + 1);
  const shards = await CallShards.start({
    threads, transports: main.transports, location: main.location, guard: main.guard, events: deps.events, logger: main.logger,
    media: shardDeps.media,
    config: {
      databaseUrl: deps.store.url, dbSchema: deps.store.schema, writeLock: deps.store.writeLock, secretKey: deps.secretKey.toString('hex'),
      domain: deps.domain, dataDir: shardDeps.dataDir, logLevel: deps.store.logLevel, endpoint, advertise,
      sip: { digestAlgorithms: sip.digestAlgorithms, scannerUserAgents: sip.scannerUserAgents, overload: sip.overload, minSessionExpires: sip.minSessionExpires, srtpInsecureSignalling: sip.srtpInsecureSignalling, dnsServers: sip.dnsServers },
      calls: deps.calls, voicemailNumber: deps.voicemailNumber, roomPrefix: shardDeps.roomPrefix, roomIvrNumber: shardDeps.roomIvrNumber,
      trace: shardDeps.trace === true, srtp: shardDeps.srtp(), rooms: shardDeps.rooms?.registered() ?? [],
    },
  }).catch((err) => { setShardIdentity(0, 1); throw err; });
  main.transports.onMessage = shards.divert(main.transports.onMessage);
  if (shardDeps.rooms) shardDeps.rooms.onChange = () => shards.roomsChanged(shardDeps.rooms!.registered());
  return shards;
}

/**
 * The registrar shards `STROWGER_SIP_REGISTRAR_THREADS` asks for, diverting REGISTERs from the
 * endpoint already reading `transports`; none for 0, or for an in-memory SQLite database (a
 * second connection would see another, empty database).
 */
async function startRegistrarShards(
  deps: SipServerDeps,
  main: { transports: TransportLayer; location: LocationService; guard: SipGuard; logger: Logger },
  endpoint: ShardConfig['endpoint'],
): Promise<RegistrarShards | undefined> {
  const count = deps.sip.registrarThreads;
  if (count === 0 || deps.store === undefined) return undefined;
  if (/^sqlite:(\/\/)?:memory:$/.test(deps.store.url)) {
    main.logger.warn('STROWGER_SIP_REGISTRAR_THREADS ignored: an in-memory database cannot be shared with worker threads');
    return undefined;
  }
  const { sip } = deps;
  const shards = await RegistrarShards.start({
    count, ...main,
    config: {
      databaseUrl: deps.store.url, dbSchema: deps.store.schema, writeLock: deps.store.writeLock, secretKey: deps.secretKey.toString('hex'),
      domain: deps.domain, logLevel: deps.store.logLevel, endpoint,
      sip: { digestAlgorithms: sip.digestAlgorithms, scannerUserAgents: sip.scannerUserAgents, minExpires: sip.minExpires, maxExpires: sip.maxExpires, overload: sip.overload },
    },
  });
  main.transports.onMessage = shards.divert(main.transports.onMessage);
  return shards;
}

export async function startSipServer(deps: SipServerDeps): Promise<SipServer> {
  const { sip, logger } = deps;
  const log = logger.child({ component: 'sip' });
  const listen: ListenSpec[] = [];
  for (const address of sip.hosts) {
    listen.push({ protocol: 'udp', address, port: sip.port }, { protocol: 'tcp', address, port: sip.port });
    if (sip.tlsPort !== null) listen.push({ protocol: 'tls', address, port: sip.tlsPort });
    if (sip.wsPort !== null) listen.push({ protocol: 'ws', address, port: sip.wsPort });
    if (sip.wssPort !== null && sip.tlsPort !== null) listen.push({ protocol: 'wss', address, port: sip.wssPort });
  }
  const needsCert = listen.some((l) => l.protocol === 'tls' || l.protocol === 'wss');
  let tls;
  if (needsCert) {
    if (deps.tlsCertificate) {
      const { cert, key } = await deps.tlsCertificate();
      tls = { cert, key };
    } else if (sip.tlsCertFile && sip.tlsKeyFile) {
      tls = { cert: readFileSync(sip.tlsCertFile, 'utf8'), key: readFileSync(sip.tlsKeyFile, 'utf8') };
    } else {
      const pair = await loadOrCreateSelfSignedCert({ dir: deps.dataDir, commonName: deps.domain, altNames: [deps.domain, '127.0.0.1', '::1', ...(deps.publicIp ? [deps.publicIp] : [])] });
      if (pair.created) log.info({ fingerprint: pair.fingerprint256 }, 'generated a self-signed SIP TLS certificate');
      tls = { cert: pair.cert, key: pair.key };
    }
  }

  // STROWGER_SIP_TLS_CERTS: more certificates, chosen by the name a client asks for (SNI).
  if (tls !== undefined && sip.tlsCertPairs.length > 0) {
    tls = { ...tls, sniCerts: sip.tlsCertPairs.map((p) => ({ cert: readFileSync(p.certFile, 'utf8'), key: readFileSync(p.keyFile, 'utf8') })) };
  }
  // With port 0 every listener picks its own free port; `ports` says which (tests pick fixed free ports).
  const transports = new TransportLayer({ listen, tls, wsAllowedOrigins: sip.wsOrigins, directUdp: sip.directUdp });
  await transports.start();
  const ports: Partial<Record<TransportProtocol, number>> = {};
  for (const t of transports.transports) ports[t.protocol] ??= t.local.port;
  const firstHost = firstSipHost(sip);
  const firstHost6 = firstSipHost6(sip);
  // A peer reached over IPv6 must be handed an IPv6 address (baresip cannot send to an IPv4
  // Contact from its IPv6 socket); STROWGER_PUBLIC_IP is taken for the family it is written in.
  const publicIp6 = deps.publicIp?.includes(':') ? deps.publicIp : undefined;
  const host4 = (publicIp6 === undefined ? deps.publicIp : undefined) ?? firstHost ?? '127.0.0.1';
  // The IPv6 wildcard names no address a peer could use: fall back to the IPv4 host then.
  const host6 = publicIp6 ?? (firstHost6 !== '::' ? firstHost6 : undefined);
  const advertise = (protocol: TransportProtocol, family: 4 | 6 = 4) => ({
    host: family === 6 && host6 !== undefined ? host6 : host4,
    port: ports[protocol] ?? ports.udp ?? sip.port,
  });

  const guard = new SipGuard({ ...sip.ban, scannerAgents: sip.scannerUserAgents });
  const overload = new OverloadControl(sip.overload);
  const identity = {
    server: sip.serverHeader ?? `Strowger/${deps.version}`,
    // Option tags are listed here only once they are implemented end to end (RFC 3261 §8.2.2.3).
    supported: ['timer', '100rel'],
  };
  const endpoint = new SipEndpoint({
    transports,
    advertise,
    ...identity,
    filter: (msg, source) => {
      if (guard.isBanned(source.remoteAddress)) return false;
      return !(msg.isRequest && guard.isScanner(msg.getHeader('user-agent')));
    },
    overload,
    overloadFastPath: sip.overload.fastPath,
    onError: (err, context) => log.error({ err, context }, 'SIP processing error'),
  });
  transports.onError = (err) => log.error({ err }, 'SIP transport handler error');
  const stopSampler = startEndpointOverload(endpoint, overload, transports.transports);

  const location = new LocationService(deps.db, { policy: registrationPolicy(sip) });
  const loaded = await location.load();
  const shards = await startRegistrarShards(deps, { transports, location, guard, logger }, identity);
  const callShards = await startCallShards(deps, { transports, location, guard, logger, advertise }, identity);
  guard.onChange = (change) => {
    shards?.banChanged(change);
    callShards?.banChanged(change);
  };
  transports.onConnectionClosed = (id) => {
    location.connectionClosed(id);
    shards?.connectionClosed(id);
    callShards?.connectionClosed(id);
  };
  const credentials = new DeviceCredentialCache(deps.db, deps.box);
  const invalidate = (username?: string) => {
    credentials.invalidate(username);
    shards?.invalidate(username ?? null);
    callShards?.invalidate(username ?? null);
  };
  const onDeviceChanged = (e: DeviceChanged) => {
    invalidate(e.username);
    if (e.previous_username) invalidate(e.previous_username);
  };
  const onDeviceDeleted = (e: DeviceDeleted) => {
    invalidate(e.username);
    void location.removeDevice(e.id).catch((err) => log.error({ err }, 'could not drop registrations of a deleted device'));
    shards?.deviceDeleted(e.id);
  };
  // A restore replaced the devices table: every cached password may be wrong now.
  const onRestored = () => invalidate();
  deps.events.on('pbx.device.changed', onDeviceChanged);
  deps.events.on('pbx.device.deleted', onDeviceDeleted);
  deps.events.on('system.restored', onRestored);

  const digest = createDigestServer({ realm: deps.domain, secret: deps.secretKey, algorithms: sip.digestAlgorithms });
  const registrar = createRegistrar({
    db: deps.db, digest, credentials, location, guard, logger,
    pinConnection: (id) => transports.setIdleExempt(id, true),
  });
  endpoint.onRequest('REGISTER', registrar.handleRegister, registrar.answerStateless);

  // Calls that were up when the process died get their CDR before new calls are taken.
  const orphans = await closeOrphanedCalls(deps.db, 'server_restart');
  if (orphans.length) log.warn({ count: orphans.length }, 'closed calls left open by a previous run (server_restart)');
  const media = deps.media;
  const b2bua = new B2bua({
    endpoint, location, media, db: deps.db, box: deps.box, digest, credentials, guard, logger, domain: deps.domain,
    advertise, ringTimeoutMs: deps.calls.ringTimeoutMs, maxCallMs: deps.calls.maxCallMs, events: deps.events,
    minSessionExpires: sip.minSessionExpires, moh: deps.moh, srtpInsecureSignalling: sip.srtpInsecureSignalling, srtpSettings: deps.srtpSettings,
    locator: new SipLocator({ dns: new CachingDnsClient({ servers: sip.dnsServers }) }),
    localParty: deps.localParty, voicemailNumber: deps.voicemailNumber, zrtp: deps.zrtp,
    roomDialPlan: deps.roomDialPlan,
    webrtc: deps.webrtc,
    handOff: callShards ? createMainHandOff(callShards) : undefined,
  });
  if (deps.zrtp) deps.zrtp.hangup = (callId, cause) => { b2bua.hangupCall(callId, cause, 'system'); };
  if (callShards) callShards.held = () => b2bua.heldCallIds();
  const calls = new CallDirectory(b2bua, callShards);
  const originator = new Originator({
    endpoint, media, dialing: b2bua.dialing(), db: deps.db, logger, domain: deps.domain, advertise,
    ringTimeoutMs: deps.calls.ringTimeoutMs, maxCallMs: deps.calls.maxCallMs, timers: realTimers,
  });

  // SUBSCRIBE by event package; message-summary is the one served so far (others: 489).
  const subscribe = new SubscribeDispatch();
  endpoint.onRequest('SUBSCRIBE', subscribe.handle);
  const mwiPolicy: MwiExpiryPolicy = { minExpires: deps.mwi?.minExpires ?? 60, maxExpires: deps.mwi?.maxExpires ?? 3600, defaultExpires: deps.mwi?.maxExpires ?? 3600 };
  const mwi = new MwiService({
    endpoint, dispatch: subscribe, location, mailboxes: new MwiMailboxes(deps.db), events: deps.events, advertise,
    authenticate: createDeviceAuth({ digest, credentials, guard, log }, 'www'), domain: deps.domain, policy: mwiPolicy, logger,
  });

  log.info({ listen: transports.transports.map((t) => `${t.protocol}:${t.local.address}:${t.local.port}`), registrations: loaded }, 'SIP server listening');

  return {
    endpoint, transports, location, guard, overload, credentials, ports, advertise, media, b2bua, originator, mwi,
    registrarShards: shards, callShards, calls,
    status: () => ({
      status: 'running',
      domain: deps.domain,
      transports: transports.transports.map((t) => ({ protocol: t.protocol, address: t.local.address, port: t.local.port })),
      registrations: location.size,
      transactions: endpoint.transactions.size,
      connections: transports.stats().connections,
      banned_ips: guard.bannedIps().length,
      locked_usernames: guard.lockedUsers(),
      scanner_drops: guard.scannerDrops + (shards?.sum((x) => x.scannerDrops) ?? 0),
      counters: withShardCounters({ ...endpoint.counters, ...endpoint.transactions.counters }, shards, callShards),
      calls: callShards === undefined ? b2bua.status() : {
        active_calls: b2bua.activeCalls + callShards.sum((x) => x.activeCalls),
        attempts: b2bua.counters.attempts + callShards.sum((x) => x.counters.attempts),
        answered: b2bua.counters.answered + callShards.sum((x) => x.counters.answered),
        rejected: b2bua.counters.rejected + callShards.sum((x) => x.counters.rejected),
        ended: b2bua.counters.ended + callShards.sum((x) => x.counters.ended),
      },
      mwi_subscriptions: mwi.subscriptions.size,
      ...(callShards === undefined ? {} : { call_shards: callShards.stats().map((x) => ({ active_calls: x.activeCalls, attempts: x.counters.attempts, handed_off: x.handedOff, utilization: x.utilization, lag_ms: x.lagMs })) }),
      ...(shards === undefined ? {} : { registrar_shards: shards.stats().map((x) => ({ received: x.received, bindings: x.bindings, utilization: x.utilization, lag_ms: x.lagMs, shed_share: x.shedShare, rejected: x.rejected, dropped: x.shedDropped })) }),
      overload: { shed_share: overload.shedShare, utilization: overload.last.utilization, lag_ms: overload.last.lagMs, rejected: overload.counters.rejected, dropped: overload.counters.dropped, waiting_invites: endpoint.inviteWait.waiting, pending_cap: overload.pendingCap, cap_shedding: overload.capShedding },
    }),
    close: async () => {
      deps.events.off('pbx.device.changed', onDeviceChanged);
      deps.events.off('pbx.device.deleted', onDeviceDeleted);
      deps.events.off('system.restored', onRestored);
      stopSampler();
      await shards?.close();
      await callShards?.close();
      if (callShards) setShardIdentity(0, 1);
      await originator.close();
      await b2bua.close();
      mwi.close();
      location.close();
      endpoint.close();
      await transports.close();
    },
  };
}
