/**
 * A call shard (`call-shards.ts`): a worker thread carrying the calls whose Call-ID hashes to
 * it, with its own endpoint (parser, transactions, overload control), B2BUA, media engine (a
 * slice of the RTP ports, one relay worker), call records and database connection. It keeps
 * copies of what the main thread owns: bindings (every change is posted here), credentials,
 * routing caches (dropped on the main thread's bus events), SRTP settings, room numbers. Calls
 * it cannot carry go to the main thread (`call-shard-handoff.ts`). Protocol:
 * `call-shard-protocol.ts`.
 */
import { EventEmitter } from 'node:events';
import { parentPort, workerData } from 'node:worker_threads';
import { createSecretBox } from '../store/secret-box.ts';
import { createDigestServer } from '../sip/digest-server.ts';
import { setShardIdentity } from '../sip/shard-identity.ts';
import type { MessageSource, TransportProtocol } from '../sip/transport-types.ts';
import { CachingDnsClient } from '../sip/dns-cache.ts';
import { SipLocator } from '../sip/dns-resolve.ts';
import { createMediaEngine } from '../media/media-engine.ts';
import { forEachMessage, MessageBatcher } from '../media/message-batcher.ts';
import { RoomDialPlan } from '../rooms/room-dial-plan.ts';
import { DeviceCredentialCache } from './device-credentials.ts';
import { LocationService } from './location-service.ts';
import { ShardGuard } from './registrar-shard-guard.ts';
import { MohService } from './moh.ts';
import { B2bua } from './b2bua.ts';
import { HoldError } from './call-hold.ts';
import { workerLink } from './shard-link.ts';
import { openSipWorker, workerEndpoint } from './sip-worker-start.ts';
import { createCallHandOff } from './call-shard-handoff.ts';
import { callIdOf } from './call-shard-route.ts';
import type { CallApiOp, CallShardConfig, CallShardStats, FromCallShard, RoomEntries, ToCallShard } from './call-shard-protocol.ts';

if (parentPort === null) throw new Error('call-shard-worker.ts must run in a worker thread');
const port = parentPort;
const cfg = workerData as CallShardConfig;
setShardIdentity(cfg.index, cfg.count);

const outbox = new MessageBatcher<FromCallShard>((m) => port.postMessage(m));

async function start(): Promise<void> {
  const { logger, log, store, secret, udp } = openSipWorker(cfg, 'call_shard');
  const box = createSecretBox(secret);
  // Nothing the main thread must learn first rides on a call's datagrams (the API reads calls
  // on demand): sends need no flush before they leave.
  const link = workerLink(udp, (target, data) => outbox.send({ out: [target, data] }));
  const advertised = new Map(cfg.advertise.map(([p, f, host, portNo]) => [`${p}/${f}`, { host, port: portNo }]));
  const advertise = (protocol: TransportProtocol, family: 4 | 6 = 4) => advertised.get(`${protocol}/${family}`) ?? advertised.get(`${protocol}/4`) ?? advertised.get('udp/4')!;
  const sip = workerEndpoint(cfg, link, advertise, log);
  const { endpoint } = sip;
  // A copy: the main thread's registrar (and its shards) decide, every change is posted here.
  const location = new LocationService(store.db, { sweepIntervalMs: 0 });
  await location.load();
  const credentials = new DeviceCredentialCache(store.db, box);
  const guard = new ShardGuard((ok, ip, username) => outbox.send({ auth: [ok, ip, username] }), cfg.locks);
  const media = await createMediaEngine({ ...cfg.media, log: (message) => logger.info({ component: 'media' }, message) });
  const rooms = new RoomDialPlan({ prefix: cfg.roomPrefix, ivrNumber: cfg.roomIvrNumber });
  const setRooms = (entries: RoomEntries) => {
    for (const e of rooms.registered()) rooms.unregister(e.userPart);
    for (const e of entries) if (e.target.kind === 'room') rooms.register(e.userPart, e.target.room); else rooms.registerIvr(e.userPart);
  };
  setRooms(cfg.rooms);
  let srtp = cfg.srtp;
  const events = new EventEmitter();
  const handOff = createCallHandOff({
    db: store.db, box, voicemailNumber: cfg.voicemailNumber,
    isRoomNumber: (user) => rooms.resolve(user) !== undefined,
    post: (data, source, owner) => outbox.send({ handoff: [data, source, owner] }),
  });
  const b2bua = new B2bua({
    endpoint, location, media, db: store.db, box, credentials, guard, logger, domain: cfg.domain, advertise,
    digest: createDigestServer({ realm: cfg.domain, secret, algorithms: cfg.sip.digestAlgorithms }),
    ringTimeoutMs: cfg.calls.ringTimeoutMs, maxCallMs: cfg.calls.maxCallMs, events,
    minSessionExpires: cfg.sip.minSessionExpires, srtpInsecureSignalling: cfg.sip.srtpInsecureSignalling,
    srtpSettings: () => srtp,
    // Only `currentMohFile` is used here: uploads (what the limits bound) go through the main thread's API.
    moh: new MohService({ db: store.db, box, dataDir: cfg.dataDir, limits: { maxBytes: 0, maxSeconds: 0 }, logger }),
    locator: new SipLocator({ dns: new CachingDnsClient({ servers: cfg.sip.dnsServers }) }),
    voicemailNumber: cfg.voicemailNumber,
    handOff,
  });

  const traced = new Set<string>();
  const receive = (data: Uint8Array, source: MessageSource) => {
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (cfg.trace) { const id = callIdOf(buf); if (id !== null) traced.add(id); }
    link.onMessage(buf, source);
  };

  const api = async (op: CallApiOp): Promise<unknown> => {
    switch (op.op) {
      case 'list': return b2bua.listCalls();
      case 'describe': return b2bua.describeCall(op.id, { media: op.media });
      case 'hangup': return b2bua.hangupCall(op.id);
      case 'hold': return b2bua.holdCall(op.id, op.hold, op.party);
      case 'transfer': {
        // The answered leg itself stays here: the API needs the outcome only.
        const r = await b2bua.transferCall(op.id, op.target, op.type);
        return r === undefined ? null : 'ok' in r && r.ok ? { ok: true } : r;
      }
      case 'cancelTransfer': return b2bua.cancelTransfer(op.id);
      case 'trace': return [...traced];
      case 'held': { const held = b2bua.heldCallIds(); return op.ids.filter((id) => held.has(id)); }
    }
  };
  const answer = (id: number, op: CallApiOp) => {
    // Checked here: an answer that cannot cross threads would fail the whole batched post.
    api(op).then((result) => structuredClone(result ?? null)).then(
      (result) => outbox.send({ api: [id, result] }),
      (err: unknown) => {
        const e = err as Error & { code?: string; status?: number };
        outbox.send({ api: [id, null, { name: err instanceof HoldError ? 'HoldError' : e.name, message: e.message, code: e.code, status: e.status }] });
      },
    );
  };

  const stats = (): CallShardStats => ({
    ...sip.stats(),
    clientTransactions: endpoint.transactions.clientCount,
    activeCalls: b2bua.activeCalls,
    dialogs: b2bua.dialogCount,
    counters: { ...b2bua.counters },
    outcomes: [...b2bua.outcomes],
    handedOff: handOff.count,
  });
  const statsTimer = setInterval(() => port.postMessage({ stats: stats() } satisfies FromCallShard), 1000);
  statsTimer.unref();

  const close = async () => {
    clearInterval(statsTimer);
    await b2bua.close();
    await b2bua.recordsFlushed();
    location.close();
    sip.close();
    await media.close();
    for (const u of udp) await u.close();
    await store.close();
    port.postMessage({ closed: true } satisfies FromCallShard);
  };

  port.on('message', (data: ToCallShard | ToCallShard[]) => forEachMessage(data, (m) => {
    if (m.in) receive(...m.in);
    else if (m.aor) location.applyRemote(...m.aor);
    else if (m.invalidate !== undefined) credentials.invalidate(m.invalidate ?? undefined);
    else if (m.closedConnection !== undefined) location.connectionClosed(m.closedConnection);
    else if (m.ban) guard.apply(m.ban);
    else if (m.event !== undefined) events.emit(m.event[0], ...m.event[1]);
    else if (m.srtp) srtp = m.srtp;
    else if (m.rooms) setRooms(m.rooms);
    else if (m.api) answer(...m.api);
    else if (m.stats) port.postMessage({ stats: stats() } satisfies FromCallShard);
    else if (m.close) void close().catch((err) => log.error({ err }, 'call shard did not close cleanly'));
  }));
  port.postMessage({ ready: true } satisfies FromCallShard);
}

start().catch((err: unknown) => {
  port.postMessage({ failed: err instanceof Error ? err.stack ?? err.message : String(err) } satisfies FromCallShard);
});
